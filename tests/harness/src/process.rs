//! Child processes with captured output, killed (with their whole process group) and
//! reaped when the last handle goes away.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::wait_until;

/// A running (or finished) program whose stdout and stderr are captured line by line
/// into one shared log.
///
/// `Daemon` is a cheap handle (clones share the process). The process is killed when
/// [`Daemon::kill`] is called or when the last handle is dropped; a `Stack` keeps a
/// handle to everything it started and kills it all on drop. The program runs in its
/// own process group and kills go to the whole group, so helpers it forked (upsmon's
/// privileged parent and unprivileged child, NOTIFYCMD scripts) die with it.
#[derive(Clone)]
pub struct Daemon {
    inner: Arc<Inner>,
}

struct Inner {
    label: String,
    /// The program as started (the path of the binary under test).
    program: String,
    pid: u32,
    child: Mutex<Child>,
    log: Arc<Mutex<Vec<u8>>>,
    /// How many of the program's output pipes have not reached EOF yet.
    open_pipes: Arc<(Mutex<usize>, Condvar)>,
    /// Set once a drain timed out (a grandchild holds a pipe), so later reads do not
    /// wait again.
    pipes_held_open: std::sync::atomic::AtomicBool,
}

/// How long, after the program exited, to wait for its pipes to drain. Bounded because a
/// grandchild that escaped the process group may hold them open.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not hide the logs behind a poisoned lock.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Daemon {
    /// Starts `cmd` (stdin from /dev/null, stdout and stderr captured) in a new process
    /// group. `label` names it in logs, e.g. `"upsd (debian)"`. Panics if it cannot start.
    pub fn spawn(label: impl Into<String>, mut cmd: Command) -> Daemon {
        use std::os::unix::process::CommandExt;
        let label = label.into();
        let program = cmd.get_program().to_string_lossy().into_owned();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("nut-harness: cannot start {label} ({cmd:?}): {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let open_pipes = Arc::new((Mutex::new(0), Condvar::new()));
        if let Some(out) = child.stdout.take() {
            capture(out, Arc::clone(&log), Arc::clone(&open_pipes));
        }
        if let Some(err) = child.stderr.take() {
            capture(err, Arc::clone(&log), Arc::clone(&open_pipes));
        }
        let pid = child.id();
        Daemon {
            inner: Arc::new(Inner {
                label,
                program,
                pid,
                child: Mutex::new(child),
                log,
                open_pipes,
                pipes_held_open: Default::default(),
            }),
        }
    }

    /// The name given at spawn time.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// The process id of the program (also its process group id).
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Everything the program wrote to stdout and stderr so far (lossy UTF-8). Once the
    /// program has exited this includes its last lines (the pipes are read to EOF first).
    pub fn output_so_far(&self) -> String {
        if self.try_wait().is_some() {
            self.drain_pipes();
        }
        String::from_utf8_lossy(&lock(&self.inner.log)).into_owned()
    }

    /// Waits until the captured output contains `needle`; returns the whole output.
    /// Panics (showing the output) on timeout or if the program exits first without
    /// having printed it.
    pub fn wait_output(&self, needle: &str, timeout: Duration) -> String {
        wait_until(
            &format!("{} to print {needle:?}", self.label()),
            timeout,
            || {
                let out = self.output_so_far();
                if out.contains(needle) {
                    return Some(out);
                }
                if let Some(status) = self.try_wait() {
                    // The pipes may still hold the last lines: look once more.
                    let out = self.output_so_far();
                    if out.contains(needle) {
                        return Some(out);
                    }
                    panic!(
                        "nut-harness: {} exited ({status}) without printing {needle:?}; output:\n{out}",
                        self.label()
                    );
                }
                None
            },
        )
    }

    /// The exit status if the program has exited (reaping it), else `None`.
    pub fn try_wait(&self) -> Option<ExitStatus> {
        lock(&self.inner.child).try_wait().ok().flatten()
    }

    /// Whether the program is still running.
    pub fn is_running(&self) -> bool {
        self.try_wait().is_none()
    }

    /// Waits for the program to exit by itself; panics (with its output) on timeout.
    /// On return, everything the program wrote before exiting is in
    /// [`Daemon::output_so_far`] (its pipes have been read to EOF).
    pub fn wait_exit(&self, timeout: Duration) -> ExitStatus {
        let status = crate::poll_until(timeout, || self.try_wait()).unwrap_or_else(|| {
            panic!(
                "nut-harness: {} still running after {timeout:?}; output so far:\n{}",
                self.label(),
                self.output_so_far()
            )
        });
        self.drain_pipes();
        status
    }

    /// Waits (at most [`DRAIN_TIMEOUT`]) until the capture threads have read both pipes
    /// to EOF, so output written just before the program exited is not lost.
    fn drain_pipes(&self) {
        use std::sync::atomic::Ordering;
        if self.inner.pipes_held_open.load(Ordering::Relaxed) {
            return;
        }
        let (open, reached_eof) = &*self.inner.open_pipes;
        let guard = lock(open);
        let (_still_open, waited) = reached_eof
            .wait_timeout_while(guard, DRAIN_TIMEOUT, |open| *open > 0)
            .unwrap_or_else(|e| e.into_inner());
        if waited.timed_out() {
            self.inner.pipes_held_open.store(true, Ordering::Relaxed);
        }
    }

    /// Sends `signal` to the program's whole process group (no-op if already gone).
    pub fn signal(&self, signal: Signal) {
        if self.try_wait().is_none() {
            let _ = killpg(Pid::from_raw(self.inner.pid as i32), signal);
        }
    }

    /// Kills the program's process group with SIGKILL and reaps the program.
    /// Idempotent.
    pub fn kill(&self) {
        self.inner.kill();
    }

    /// The program that was started (the binary's path as given to [`Daemon::spawn`]).
    pub fn program(&self) -> &str {
        &self.inner.program
    }

    /// The output framed with the label and the binary that ran, for multi-daemon logs.
    pub fn labelled_output(&self) -> String {
        let status = match self.try_wait() {
            Some(status) => format!("exited: {status}"),
            None => "running".to_owned(),
        };
        format!(
            "===== {} (pid {}, {status}; ran {}) =====\n{}",
            self.label(),
            self.pid(),
            self.program(),
            self.output_so_far()
        )
    }
}

impl Inner {
    fn kill(&self) {
        let mut child = lock(&self.child);
        // Kill the group even when the leader already exited: its forked helpers may
        // still be alive in the same group.
        let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
        let _ = child.wait();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("label", &self.inner.label)
            .field("pid", &self.inner.pid)
            .finish()
    }
}

/// Copies whole lines from `pipe` into `log` on a detached thread (detached because a
/// grandchild that escaped the process group could keep the pipe open forever).
/// `open_pipes` counts the pipes not yet at EOF; the thread decrements it and wakes
/// waiters when it reaches EOF.
fn capture(
    pipe: impl Read + Send + 'static,
    log: Arc<Mutex<Vec<u8>>>,
    open_pipes: Arc<(Mutex<usize>, Condvar)>,
) {
    *lock(&open_pipes.0) += 1;
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => lock(&log).extend_from_slice(&line),
            }
        }
        let (open, reached_eof) = &*open_pipes;
        *lock(open) -= 1;
        reached_eof.notify_all();
    });
}
