//! The invocation's side of the PIPEFN socket: send a request, start the daemon if needed.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use nut_upsmon::upssched::Request;

use super::conf::DaemonConf;
use super::server;

/// How long the daemon may take to answer (it answers after a running CMDSCRIPT finished).
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a request is tried against a daemon that closed the connection unanswered (it
/// was exiting just then).
const ATTEMPTS: usize = 3;

/// Why a request did not get an answer.
enum Failure {
    /// The daemon closed the connection without answering; try again.
    Unanswered,
    /// Anything else.
    Fatal(String),
}

/// Send `request`, starting the daemon when none listens (unless the request has nothing to
/// do without one).
pub fn send(d: &DaemonConf, request: &Request) -> Result<(), String> {
    let line = request.encode();
    for _ in 0..ATTEMPTS {
        let stream = match UnixStream::connect(&d.pipefn) {
            Ok(s) => s,
            Err(_) if !request.may_start_daemon() => {
                tracing::debug!("no timer daemon running, nothing to cancel: {line}");
                return Ok(());
            }
            Err(_) => {
                start_daemon(d)?;
                UnixStream::connect(&d.pipefn).map_err(|e| {
                    format!(
                        "can't connect to the timer daemon at {}: {e}",
                        d.pipefn.display()
                    )
                })?
            }
        };
        match exchange(stream, &line) {
            Ok(lines) => {
                return match lines.last().map(String::as_str) {
                    Some("OK") => Ok(()),
                    other => Err(format!(
                        "timer daemon answered {} to {line}",
                        other.unwrap_or("nothing")
                    )),
                };
            }
            Err(Failure::Unanswered) => continue,
            Err(Failure::Fatal(e)) => return Err(e),
        }
    }
    Err(format!("the timer daemon did not answer {line}"))
}

/// `upssched -l`: print the running timers.
pub fn list(d: &DaemonConf) -> u8 {
    let Ok(stream) = UnixStream::connect(&d.pipefn) else {
        println!("No timer daemon running");
        return 0;
    };
    match exchange(stream, &Request::ListTimers.encode()) {
        Ok(lines) => {
            for l in lines
                .iter()
                .filter(|l| !l.starts_with("BEGIN LIST") && !l.starts_with("END LIST"))
                .filter(|l| *l != "OK")
            {
                println!("{l}");
            }
            0
        }
        Err(Failure::Unanswered) => 0,
        Err(Failure::Fatal(e)) => {
            eprintln!("upssched: {e}");
            1
        }
    }
}

/// Write one request line and read the reply up to its final `OK` / `ERR` line.
fn exchange(mut stream: UnixStream, line: &str) -> Result<Vec<String>, Failure> {
    let fatal = |e: io::Error| Failure::Fatal(format!("timer daemon: {e}"));
    stream
        .set_read_timeout(Some(REPLY_TIMEOUT))
        .map_err(fatal)?;
    if let Err(e) = stream.write_all(format!("{line}\n").as_bytes()) {
        return Err(match e.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => Failure::Unanswered,
            _ => fatal(e),
        });
    }
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    loop {
        let mut reply = String::new();
        match reader.read_line(&mut reply) {
            Ok(0) => return Err(Failure::Unanswered),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Err(Failure::Unanswered);
            }
            Err(e) => return Err(fatal(e)),
        }
        let reply = reply.trim_end_matches(['\n', '\r']).to_owned();
        let done = reply == "OK" || reply.starts_with("ERR");
        lines.push(reply);
        if done {
            return Ok(lines);
        }
    }
}

/// Start the daemon, unless another invocation did while we waited for the lock.
fn start_daemon(d: &DaemonConf) -> Result<(), String> {
    if let Some(dir) = d.pipefn.parent().filter(|p| !p.as_os_str().is_empty()) {
        nut_daemon::paths::ensure_dir(dir, 0o770, None)
            .map_err(|e| format!("can't create {}: {e}", dir.display()))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&d.lockfn)
        .map_err(|e| format!("can't open LOCKFN {}: {e}", d.lockfn.display()))?;
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("can't lock {}: {e}", d.lockfn.display()))?;
    if UnixStream::connect(&d.pipefn).is_ok() {
        // Started by a concurrent invocation while we waited for the lock.
        return Ok(());
    }
    // Under the lock, a socket file nobody listens on is stale.
    let _ = std::fs::remove_file(&d.pipefn);
    server::spawn(d, lock)
}
