//! What the upsmon process tests share: a Debian upsd + dummy-ups stack, one of our upsmons
//! with its config, events and SHUTDOWNCMD log ([`Mon`]), and a fake upsd the test controls
//! ([`FakeUpsd`]). (The sd_notify listener is `nut_harness::notify`.)

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nut_harness::{Daemon, Impl, Stack, StackBuilder, wait_until};

pub const STEP: Duration = Duration::from_secs(30);

pub fn upsmon() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_upsmon"))
}

pub fn stack() -> Stack {
    StackBuilder::new()
        .upsd(Impl::Debian)
        .driver(Impl::Debian)
        .dummy(
            "dummy",
            "dummy.dev",
            "ups.status: OL\nbattery.charge: 100\n",
        )
        .start()
}

/// The default NOTIFYCMD: one line `<NOTIFYTYPE> <uid>` per notification.
pub const NOTIFY_SCRIPT: &str = "echo \"$NOTIFYTYPE $(id -u)\" >> \"$EVENTS\"\n";

/// One of our upsmons: config dir, PID dir, events file, shutdown log.
pub struct Mon {
    pub conf: PathBuf,
    pub run: PathBuf,
    pub events: PathBuf,
    pub shutdowns: PathBuf,
    tag: String,
    tail: String,
}

impl Mon {
    /// Write the config (`body` + NOTIFYCMD/SHUTDOWNCMD/fast polling/EXEC everywhere).
    pub fn new(stack: &Stack, tag: &str, body: &str) -> Mon {
        Mon::with(stack, tag, body, "", NOTIFY_SCRIPT)
    }

    /// [`Mon::new`] with `tail` after the defaults (later settings win) and NOTIFYCMD's body
    /// (`$EVENTS` is the events file).
    pub fn with(stack: &Stack, tag: &str, body: &str, tail: &str, script: &str) -> Mon {
        let dir = stack.dir();
        let mon = Mon {
            conf: dir.join(format!("{tag}-conf")),
            run: dir.join(format!("{tag}-run")),
            events: dir.join(format!("{tag}-events.log")),
            shutdowns: dir.join(format!("{tag}-shutdowns.log")),
            tag: tag.to_owned(),
            tail: tail.to_owned(),
        };
        mon.write_conf(stack, body);
        stack.write_executable(
            &format!("{tag}-conf/notify.sh"),
            format!("#!/bin/sh\nEVENTS={}\n{script}", mon.events.display()),
        );
        mon
    }

    /// (Re)write upsmon.conf with these MONITOR lines (and the same defaults and tail).
    pub fn write_conf(&self, stack: &Stack, body: &str) {
        let dir = stack.dir();
        let tag = &self.tag;
        let mut conf = body.replace("{port}", &stack.port().to_string());
        conf.push_str(&format!(
            "\nNOTIFYCMD {}/notify.sh\nSHUTDOWNCMD \"id -u >> {}\"\nPOWERDOWNFLAG {}/{tag}-killpower\n\
             POLLFREQ 1\nPOLLFREQALERT 1\nFINALDELAY 0\nHOSTSYNC 2\n",
            self.conf.display(),
            self.shutdowns.display(),
            dir.display()
        ));
        for t in [
            "ONLINE", "ONBATT", "LOWBATT", "FSD", "SHUTDOWN", "NOPARENT", "COMMBAD",
        ] {
            conf.push_str(&format!("NOTIFYFLAG {t} SYSLOG+EXEC\n"));
        }
        conf.push_str(&self.tail);
        stack.write_file(&format!("{tag}-conf/upsmon.conf"), conf);
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(upsmon());
        cmd.args(args)
            .env("NUT_CONFPATH", &self.conf)
            .env("NUT_PIDPATH", &self.run)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID");
        cmd
    }

    pub fn spawn(&self, stack: &mut Stack, label: &str, args: &[&str]) -> Daemon {
        let cmd = self.command(args);
        stack.spawn_as(label, cmd)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run upsmon")
    }

    pub fn pid_file(&self) -> PathBuf {
        self.run.join("upsmon.pid")
    }

    pub fn pid_in_file(&self) -> Option<i32> {
        std::fs::read_to_string(self.pid_file())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn killpower(&self, stack: &Stack) -> PathBuf {
        stack.dir().join(format!("{}-killpower", self.tag))
    }

    pub fn events(&self) -> Vec<String> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Wait for an event line starting with `kind `; returns the line.
    pub fn wait_event(&self, kind: &str) -> String {
        let prefix = format!("{kind} ");
        wait_until(&format!("{kind} notification"), STEP, || {
            self.events().into_iter().find(|l| l.starts_with(&prefix))
        })
    }

    pub fn shutdown_uids(&self) -> Vec<String> {
        std::fs::read_to_string(&self.shutdowns)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Wait until SHUTDOWNCMD has run; returns the uids it ran as.
    pub fn wait_shutdowncmd(&self) -> Vec<String> {
        wait_until("SHUTDOWNCMD", STEP, || {
            let uids = self.shutdown_uids();
            (!uids.is_empty()).then_some(uids)
        })
    }
}

pub const PRIMARY: &str = "MONITOR dummy@127.0.0.1:{port} 1 admin adminpass primary\n";

pub fn set_status(stack: &Stack, status: &str) {
    let mut c = stack.conn();
    assert_eq!(c.request("USERNAME admin"), ["OK"]);
    assert_eq!(c.request("PASSWORD adminpass"), ["OK"]);
    assert_eq!(
        c.request(&format!("SET VAR dummy ups.status \"{status}\"")),
        ["OK"]
    );
}

pub fn num_logins(stack: &Stack) -> u32 {
    let reply = stack.conn().request("GET NUMLOGINS dummy");
    reply
        .first()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub fn wait_logins(stack: &Stack, n: u32) {
    wait_until(&format!("{n} login(s) on dummy"), STEP, || {
        (num_logins(stack) >= n).then_some(())
    });
}

/// A loopback "upsd" that accepts connections and never answers (a wedged host, a half-open
/// tunnel). The kernel completes the handshakes; nothing reads.
pub struct HungServer {
    listener: TcpListener,
}

impl HungServer {
    pub fn start() -> HungServer {
        HungServer {
            listener: TcpListener::bind("127.0.0.1:0").expect("bind"),
        }
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().expect("local addr").port()
    }
}

#[derive(Default)]
struct FakeState {
    /// Connections accepted so far.
    connections: usize,
    /// When each `GET VAR <ups> ups.status` arrived.
    status_polls: Vec<Instant>,
    /// Once set: open connections are closed, new ones accepted and never answered.
    blackhole: bool,
    open: Vec<TcpStream>,
}

/// A minimal upsd serving one UPS that is always `OL`, for watching what upsmon sends and
/// for cutting it off at a chosen moment ([`FakeUpsd::blackhole`]).
pub struct FakeUpsd {
    port: u16,
    state: Arc<Mutex<FakeState>>,
}

impl FakeUpsd {
    pub fn start() -> FakeUpsd {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(FakeState::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut st = shared.lock().unwrap();
                st.connections += 1;
                if let Ok(copy) = stream.try_clone() {
                    st.open.push(copy);
                }
                if st.blackhole {
                    continue;
                }
                drop(st);
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        FakeUpsd { port, state }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    pub fn status_polls(&self) -> Vec<Instant> {
        self.state.lock().unwrap().status_polls.clone()
    }

    /// Cut every connection now; from now on connections are accepted and never answered.
    pub fn blackhole(&self) {
        let mut st = self.state.lock().unwrap();
        st.blackhole = true;
        for s in st.open.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn serve(stream: TcpStream, state: &Mutex<FakeState>) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words.as_slice() {
            ["STARTTLS"] => "ERR FEATURE-NOT-CONFIGURED".to_owned(),
            ["USERNAME" | "PASSWORD", ..] | ["LOGIN", _] => "OK".to_owned(),
            ["PRIMARY", _] => "OK PRIMARY-GRANTED".to_owned(),
            ["MASTER", _] => "OK MASTER-GRANTED".to_owned(),
            ["GET", "VAR", ups, "ups.status"] => {
                let mut st = state.lock().unwrap();
                if st.blackhole {
                    return;
                }
                st.status_polls.push(Instant::now());
                format!("VAR {ups} ups.status \"OL\"")
            }
            ["GET", "VAR", ..] => "ERR VAR-NOT-SUPPORTED".to_owned(),
            ["GET", "NUMLOGINS", ups] => format!("NUMLOGINS {ups} 1"),
            ["FSD", _] => "OK FSD-SET".to_owned(),
            ["LOGOUT"] => {
                let _ = out.write_all(b"OK Goodbye\n");
                return;
            }
            _ => "ERR UNKNOWN-COMMAND".to_owned(),
        };
        if state.lock().unwrap().blackhole
            || out.write_all(format!("{reply}\n").as_bytes()).is_err()
        {
            return;
        }
    }
}
