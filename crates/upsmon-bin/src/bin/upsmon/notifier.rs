//! Carrying out notifications: SYSLOG (our log), WALL (`wall`), EXEC (NOTIFYCMD).
//!
//! NOTIFYCMD runs the way NUT 2.8.0 runs it: `/bin/sh -c '<NOTIFYCMD> "<message>"'` with
//! `NOTIFYTYPE` and `UPSNAME` in the environment, as the unprivileged user (this process).
//!
//! Differences from NUT, on purpose:
//! * Inside the double quotes, `\`, `"`, `$` and `` ` `` of the message are escaped. NUT pastes
//!   the message in raw, so an `ups.alarm` text sent by the UPS (ALARM's second `%s`) or a
//!   NOTIFYMSG with a quote could run shell code as the upsmon user.
//! * `wall` is fed in the background and never holds the monitor up; a missing `wall` is
//!   reported once.
//!
//! NUT forks one notifier per notification at once. Here each NOTIFYCMD starts as soon as the
//! previous one has finished, or [`ORDER_GRACE`] after the previous one started, whichever
//! comes first: quick scripts (the usual case) still see the events in the order they
//! happened, and a slow one delays the next by a quarter of a second at most, so FSD and
//! SHUTDOWN notifiers (often used to bring other hosts down) start well within FINALDELAY,
//! before SHUTDOWNCMD. (This used to be a 10 s wait per running notifier.)

use std::process::Stdio;
use std::time::Duration;

use nut_upsmon::Notification;
use nut_upsmon::notify::NotifyTable;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::mpsc;

/// How long a running NOTIFYCMD may hold back the start of the next one.
pub const ORDER_GRACE: Duration = Duration::from_millis(250);

/// How long `wall` may take to read its message.
const WALL_WAIT: Duration = Duration::from_secs(10);

/// One NOTIFYCMD run.
struct ExecJob {
    command: String,
    env: Vec<(&'static str, String)>,
}

/// Delivers notifications. Create it inside the runtime.
pub struct Notifier {
    table: NotifyTable,
    notifycmd: Option<String>,
    exec: mpsc::UnboundedSender<ExecJob>,
    queue: tokio::task::JoinHandle<()>,
    wall_missing_reported: bool,
}

impl Notifier {
    /// A notifier for these settings; starts the task that starts NOTIFYCMDs in order.
    pub fn new(table: NotifyTable, notifycmd: Option<String>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = tokio::spawn(run_exec_queue(rx));
        Self {
            table,
            notifycmd,
            exec: tx,
            queue,
            wall_missing_reported: false,
        }
    }

    /// Start every queued NOTIFYCMD before the process exits (NUT forks each one at once, so
    /// they survive its exit; ours must at least have been started). Waits at most `limit`.
    pub async fn flush(self, limit: Duration) {
        drop(self.exec);
        let _ = tokio::time::timeout(limit, self.queue).await;
    }

    /// New NOTIFYMSG / NOTIFYFLAG / NOTIFYCMD after a reload.
    pub fn reconfigure(&mut self, table: NotifyTable, notifycmd: Option<String>) {
        self.table = table;
        self.notifycmd = notifycmd;
    }

    /// Deliver one notification as its NOTIFYFLAG says.
    pub fn notify(&mut self, n: &Notification) {
        let Some(d) = self.table.dispatch(n) else {
            tracing::debug!("{n}: ignored (NOTIFYFLAG IGNORE)");
            return;
        };
        if d.syslog {
            tracing::info!("{}", d.message);
        }
        if d.wall {
            self.wall(&d.message);
        }
        if d.exec {
            match &self.notifycmd {
                Some(cmd) => {
                    let job = ExecJob {
                        command: format!("{cmd} \"{}\"", escape_double_quoted(&d.message)),
                        env: d.env,
                    };
                    let _ = self.exec.send(job);
                }
                None => tracing::debug!("{n}: EXEC requested but no NOTIFYCMD is set"),
            }
        }
    }

    /// Send `message` to every logged-in user with `wall`, in the background.
    pub fn wall(&mut self, message: &str) {
        let child = Command::new("wall")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                if !self.wall_missing_reported {
                    self.wall_missing_reported = true;
                    tracing::warn!("Can't run wall: {e} (WALL notifications are skipped)");
                }
                return;
            }
        };
        let text = format!("{message}\n");
        tokio::spawn(async move {
            let feed = async {
                if let Some(mut stdin) = child.stdin.take() {
                    let _ = stdin.write_all(text.as_bytes()).await;
                }
                child.wait().await
            };
            if tokio::time::timeout(WALL_WAIT, feed).await.is_err() {
                let _ = child.kill().await;
            }
        });
    }
}

/// Start the jobs in order: each when the previous one has ended or [`ORDER_GRACE`] after
/// it started. Every child is reaped in the background whenever it ends.
async fn run_exec_queue(mut jobs: mpsc::UnboundedReceiver<ExecJob>) {
    while let Some(job) = jobs.recv().await {
        let spawned = Command::new("/bin/sh")
            .arg("-c")
            .arg(&job.command)
            .env_clear()
            .envs(nut_daemon::exec::environment(&job.env))
            .stdin(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("Can't run NOTIFYCMD {}: {e}", job.command);
                continue;
            }
        };
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            match child.wait().await {
                Ok(status) if !status.success() => {
                    tracing::warn!("NOTIFYCMD {} exited with {status}", job.command);
                }
                Ok(_) => {}
                Err(e) => tracing::debug!("NOTIFYCMD {}: {e}", job.command),
            }
            let _ = done_tx.send(());
        });
        let _ = tokio::time::timeout(ORDER_GRACE, done_rx).await;
    }
}

/// Escape what the shell interprets inside double quotes.
pub fn escape_double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cannot_escape_their_quotes() {
        assert_eq!(
            escape_double_quoted("UPS ups@host on battery"),
            "UPS ups@host on battery"
        );
        assert_eq!(
            escape_double_quoted(r#"a"b$(rm -rf /)`x`\"#),
            r#"a\"b\$(rm -rf /)\`x\`\\"#
        );
    }

    #[test]
    fn notifycmd_gets_the_message_as_one_argument_and_the_environment() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let script = tmp.path().join("notify.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"$#\" \"$NOTIFYTYPE\" \"$UPSNAME\" \"$1\" >> {}\n",
                out.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut table = NotifyTable::new();
            let exec = nut_core::names::NotifyFlags::parse("EXEC").unwrap();
            for kind in nut_core::names::NotifyType::ALL {
                table.set_flags(*kind, exec);
            }
            table.set_message(
                nut_core::names::NotifyType::OnBatt,
                "on \"battery\" $HOME %s",
            );
            let mut notifier = Notifier::new(table, Some(script.display().to_string()));
            let onbatt = Notification::for_ups(nut_core::names::NotifyType::OnBatt, "ups@h:1");
            let lowbatt = Notification::for_ups(nut_core::names::NotifyType::LowBatt, "ups@h:1");
            let shutdown = Notification::global(nut_core::names::NotifyType::Shutdown);
            notifier.notify(&onbatt);
            notifier.notify(&lowbatt);
            notifier.notify(&shutdown);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let text = std::fs::read_to_string(&out).unwrap_or_default();
                if text.lines().count() == 3 {
                    // Each notifier starts at once, so they may finish in any order.
                    let mut lines: Vec<&str> = text.lines().collect();
                    lines.sort_unstable();
                    assert_eq!(
                        lines,
                        [
                            "1|LOWBATT|ups@h:1|UPS ups@h:1 battery is low",
                            "1|ONBATT|ups@h:1|on \"battery\" $HOME ups@h:1",
                            "1|SHUTDOWN||Auto logout and shutdown proceeding",
                        ]
                    );
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "got {text:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }

    #[test]
    fn notifycmd_gets_the_daemon_environment_plus_the_event() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("env");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (jobs, queue) = mpsc::unbounded_channel();
            let dump = out.display();
            jobs.send(ExecJob {
                command: format!("/usr/bin/env -0 > '{dump}.part' && mv '{dump}.part' '{dump}'"),
                env: vec![("NOTIFYTYPE", "ONBATT".into()), ("UPSNAME", "ups@h".into())],
            })
            .unwrap();
            drop(jobs);
            run_exec_queue(queue).await;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while !out.exists() {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "NOTIFYCMD never ran"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let dumped = nut_daemon::exec::env_dump(&std::fs::read(&out).unwrap());
        for var in ["NOTIFYTYPE=ONBATT", "UPSNAME=ups@h"] {
            assert!(dumped.iter().any(|v| v == var), "{var} missing: {dumped:?}");
        }
        let expected =
            nut_daemon::exec::expected_dump(&[("NOTIFYTYPE", "ONBATT"), ("UPSNAME", "ups@h")]);
        assert_eq!(dumped, expected);
    }
}
