//! The timer daemon's process: forked by the invocation that found no daemon, it binds PIPEFN,
//! reports that it is ready, and serves [`TimerDaemon`] until that decides to exit.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixListener;

use nix::fcntl::{Flock, OFlag};
use nix::unistd::{chdir, pipe2, setsid};
use nut_core::token::{Limits, Tokenizer};
use nut_daemon::fork::{Forked, fork};
use nut_upsmon::Time;
use nut_upsmon::upssched::{DaemonAction, TimerDaemon};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::conf::DaemonConf;
use super::exec;

/// Fork the daemon and wait until it listens on PIPEFN. `lock` (LOCKFN) is released once the
/// socket exists.
pub fn spawn(d: &DaemonConf, lock: Flock<File>) -> Result<(), String> {
    let (ready_read, ready_write) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    // The invocation has no runtime (nut_daemon::fork checks it is single-threaded).
    match fork().map_err(|e| e.to_string())? {
        Forked::Parent(_) => {
            drop(ready_write);
            let mut byte = [0u8];
            let ok = matches!(File::from(ready_read).read(&mut byte), Ok(1) if byte[0] == b'R');
            drop(lock);
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "the timer daemon could not listen on {}",
                    d.pipefn.display()
                ))
            }
        }
        Forked::Child => {
            drop(ready_read);
            let code = daemon(d, lock, File::from(ready_write));
            std::process::exit(code);
        }
    }
}

fn daemon(d: &DaemonConf, lock: Flock<File>, mut ready: File) -> i32 {
    let _ = setsid();
    let _ = chdir("/");
    // Mode 0660 from the umask, never a chmod by path (nut_daemon::socket).
    let listener = match nut_daemon::socket::bind_unix_listener(&d.pipefn, 0o660, None) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("Can't bind {}: {e}", d.pipefn.display());
            return 1;
        }
    };
    let inode = std::fs::metadata(&d.pipefn)
        .map(|m| (m.dev(), m.ino()))
        .ok();
    // The socket exists: other invocations may go ahead.
    drop(lock);
    let _ = ready.write_all(b"R");
    drop(ready);
    if !d.debug {
        stdio_to_null();
    }
    tracing::info!("Timer daemon started, listening on {}", d.pipefn.display());
    // Like newer NUT releases: a PID file for service managers and scripts. Several daemons
    // (different PIPEFNs) may share the directory; only the first gets it.
    let pid_path = nut_daemon::paths::altpidpath().join("upssched.pid");
    let pid_file = match nut_daemon::pidfile::PidFile::acquire(&pid_path, "upssched") {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::debug!("No PID file: {e}");
            None
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("Can't start the runtime: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(serve(listener, d.cmdscript.clone()));
    // Remove the socket only if it is still ours (not re-created by a newer daemon).
    let still_ours = std::fs::metadata(&d.pipefn)
        .map(|m| Some((m.dev(), m.ino())) == inode)
        .unwrap_or(false);
    if still_ours {
        let _ = std::fs::remove_file(&d.pipefn);
    }
    drop(pid_file);
    tracing::info!("Timer daemon exiting");
    code
}

/// One request line from a connection, and where its reply goes.
type Job = (Result<Vec<String>, ()>, oneshot::Sender<String>);

async fn serve(listener: UnixListener, cmdscript: Vec<String>) -> i32 {
    if listener.set_nonblocking(true).is_err() {
        return 1;
    }
    let Ok(listener) = tokio::net::UnixListener::from_std(listener) else {
        return 1;
    };
    let Ok(mut signals) = nut_daemon::signals::Signals::new(&[
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
    ]) else {
        return 1;
    };
    let epoch = Instant::now();
    let now = || Time::from_duration(epoch.elapsed());
    let mut timers = TimerDaemon::new(cmdscript, Time::ZERO);
    let (jobs_tx, mut jobs) = mpsc::unbounded_channel::<Job>();
    loop {
        while let Some(action) = timers.poll_action() {
            match action {
                DaemonAction::Run(cmd) => {
                    tracing::info!("Executing command: {}", cmd.argv.join(" "));
                    let _ = tokio::task::spawn_blocking(move || exec::run(&cmd)).await;
                }
                DaemonAction::Exit => return 0,
            }
        }
        let deadline = timers.poll_timeout().map(|t| epoch + t.as_duration());
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(connection(stream, jobs_tx.clone()));
                }
            }
            Some((words, reply)) = jobs.recv() => {
                let t = now();
                let answer = match words {
                    Ok(words) => timers.handle_line(t, &words).encode(t, wall_clock_secs()),
                    Err(()) => "ERR UNKNOWN\n".to_owned(),
                };
                let _ = reply.send(answer);
            }
            () = sleep_until(deadline) => timers.handle_timeout(now()),
            // Stopped (e.g. with upsmon's service): pending timers are dropped, as in NUT.
            _ = signals.recv() => return 0,
        }
    }
}

/// Read request lines (NUT's tokenizer), hand them to the main loop, write the replies.
async fn connection(mut stream: tokio::net::UnixStream, jobs: mpsc::UnboundedSender<Job>) {
    let mut tokenizer = Tokenizer::new(Limits::default());
    let mut buf = [0u8; 512];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for line in tokenizer.push_slice(&buf[..n]) {
            let words = match line.error {
                None => Ok(line.words),
                Some(_) => Err(()),
            };
            let (tx, rx) = oneshot::channel();
            if jobs.send((words, tx)).is_err() {
                return;
            }
            let Ok(reply) = rx.await else {
                return;
            };
            if stream.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn wall_clock_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn stdio_to_null() {
    use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout};
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        let _ = dup2_stdin(&null);
        let _ = dup2_stdout(&null);
        let _ = dup2_stderr(&null);
    }
}
