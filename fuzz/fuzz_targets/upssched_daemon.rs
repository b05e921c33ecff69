//! The upssched timer daemon's protocol and state machine (`nut_upsmon::upssched::TimerDaemon`)
//! under arbitrary sequences of request lines (raw bytes, and requests our client encodes),
//! time steps and timeouts, driven the way its socket server drives it:
//!
//! * every request our client can send encodes to a line that parses back to itself and is
//!   answered (never `ERR UNKNOWN`); a `LIST-TIMERS` answer is a well-formed block;
//! * a timer fires once, when due, and never early: after a timeout nothing due is left;
//! * the daemon's next deadline is always in the future; once it exits, it stays exited.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nut_core::token::{Limits, Tokenizer};
use nut_upsmon::Time;
use nut_upsmon::upssched::{DaemonAction, Origin, Reply, Request, TimerDaemon};

const NAMES: &[&str] = &["onbatt", "ONBATT", "lowbatt", "t x", ""];
const UPSES: &[&str] = &["ups@h", "other@h", ""];

#[derive(Arbitrary, Debug)]
enum Req {
    Start(u8, i64, u8, String),
    StartShared(u8, i64, u8, String),
    Cancel(u8, Option<String>, u8),
    CancelMatched(u8, Option<String>, u8),
    List,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Raw(Vec<u8>),
    Request(Req),
    /// Milliseconds to let pass.
    Advance(u32),
    /// Let time pass to the daemon's next deadline and handle it.
    Fire,
}

/// Printable ASCII: all the protocol carries (the tokenizer drops other bytes, as NUT's).
fn text(s: &str) -> String {
    s.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(32)
        .collect()
}

fn origin(ups: u8, message: &str) -> Origin {
    Origin {
        notify_type: "ONBATT".into(),
        ups: UPSES[usize::from(ups) % UPSES.len()].into(),
        message: text(message),
    }
}

impl Req {
    fn request(&self) -> Request {
        let name = |n: &u8| NAMES[usize::from(*n) % NAMES.len()].to_owned();
        // The daemon's own limit on what a client asks for is the i64 of `atol`.
        match self {
            Self::Start(n, secs, ups, msg) => Request::Start {
                name: name(n),
                seconds: secs % 100_000,
                origin: origin(*ups, msg),
            },
            Self::StartShared(n, secs, ups, msg) => Request::StartShared {
                name: name(n),
                seconds: secs % 100_000,
                origin: origin(*ups, msg),
            },
            Self::Cancel(n, fallback, ups) => Request::Cancel {
                name: name(n),
                fallback: fallback.as_deref().map(text).filter(|f| !f.is_empty()),
                origin: origin(*ups, ""),
            },
            Self::CancelMatched(n, fallback, ups) => Request::CancelMatched {
                name: name(n),
                fallback: fallback.as_deref().map(text).filter(|f| !f.is_empty()),
                origin: origin(*ups, ""),
            },
            Self::List => Request::ListTimers,
        }
    }
}

struct World {
    daemon: TimerDaemon,
    now: Time,
}

impl World {
    /// One request line through the tokenizer, as the socket server reads it.
    fn lines(&mut self, bytes: &[u8]) -> Vec<Reply> {
        let mut tok = Tokenizer::new(Limits::default());
        let mut lines = tok.push_slice(bytes);
        lines.extend(tok.finish());
        let mut replies = Vec::new();
        for line in lines {
            let Ok(words) = line.into_result() else {
                continue;
            };
            if words.is_empty() {
                continue;
            }
            let reply = self.daemon.handle_line(self.now, &words);
            let text = reply.encode(self.now, 1_700_000_000);
            assert!(
                text.ends_with("OK\n") || text == "ERR UNKNOWN\n",
                "{text:?}"
            );
            if let Reply::List(timers) = &reply {
                assert_eq!(text.lines().count(), timers.len() + 3, "{text:?}");
                assert!(text.starts_with("BEGIN LIST TIMERS\n"));
            }
            replies.push(reply);
        }
        replies
    }

    fn timeout(&mut self) {
        let due = self
            .daemon
            .timers(self.now)
            .iter()
            .filter(|t| t.deadline <= self.now)
            .count();
        let was_exited = self.daemon.has_exited();
        self.daemon.handle_timeout(self.now);
        let mut runs = 0;
        let mut exits = 0;
        while let Some(action) = self.daemon.poll_action() {
            match action {
                DaemonAction::Run(cmd) => {
                    assert!(!cmd.argv.is_empty());
                    runs += 1;
                }
                DaemonAction::Exit => exits += 1,
            }
        }
        if was_exited {
            assert_eq!((runs, exits), (0, 0), "an exited daemon does nothing");
            return;
        }
        assert_eq!(runs, due, "every due timer fires once");
        assert!(
            self.daemon
                .timers(self.now)
                .iter()
                .all(|t| t.deadline > self.now)
        );
        assert_eq!(exits, usize::from(self.daemon.has_exited()));
        match self.daemon.poll_timeout() {
            Some(next) => assert!(
                next > self.now,
                "next deadline {next:?} not after {:?}",
                self.now
            ),
            None => assert!(self.daemon.has_exited()),
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut w = World {
        daemon: TimerDaemon::new(vec!["/bin/cmd".into(), "arg".into()], Time::ZERO),
        now: Time::ZERO,
    };
    for op in ops.into_iter().take(200) {
        // The process is gone once it decided to exit.
        if w.daemon.has_exited() {
            break;
        }
        match op {
            Op::Raw(bytes) => {
                w.lines(&bytes);
                while w.daemon.poll_action().is_some() {}
            }
            Op::Request(req) => {
                let request = req.request();
                let line = request.encode();
                let mut tok = Tokenizer::new(Limits::default());
                let parsed: Vec<_> = tok.push_slice(format!("{line}\n").as_bytes());
                assert_eq!(parsed.len(), 1, "{line:?}");
                let words = parsed[0]
                    .clone()
                    .into_result()
                    .expect("encoded lines tokenize");
                assert_eq!(Request::parse(&words).as_ref(), Ok(&request), "{line:?}");
                let replies = w.lines(format!("{line}\n").as_bytes());
                assert_eq!(replies.len(), 1);
                assert_ne!(replies[0], Reply::ErrUnknown, "{line:?}");
                // Cancelling with a fallback and nothing to cancel runs it at once.
                while let Some(action) = w.daemon.poll_action() {
                    assert!(matches!(action, DaemonAction::Run(_)), "{action:?}");
                }
            }
            Op::Advance(ms) => {
                w.now = w.now.plus_millis(u64::from(ms % 3_600_000));
                if w.daemon.poll_timeout().is_some_and(|t| t <= w.now) {
                    w.timeout();
                }
            }
            Op::Fire => {
                if let Some(next) = w.daemon.poll_timeout() {
                    w.now = w.now.max(next);
                    w.timeout();
                }
            }
        }
    }
});
