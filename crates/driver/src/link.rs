//! Request/reply links, the seam of protocol families whose device answers commands (the
//! Q1/megatec family over serial or USB, apcsmart, …): [`Exchange`] is what such a driver
//! is written against, implemented by the real transports (`nut-serial`'s `SerialPort`,
//! the USB transport) and by [`Script`], a transcript for tests. The reply framing is pure
//! ([`Framer`]): where a reply ends and what is dropped on the way (NUT's `ser_get_line`: an
//! end character, characters to ignore, a maximum length).

use std::collections::VecDeque;
use std::time::Duration;

use crate::{DriverError, Transport};

/// Time limits of one reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for the next bytes (NUT's `d_sec`/`d_usec` of each `select`).
    pub gap: Duration,
    /// Longest wait for the whole reply.
    pub total: Duration,
}

impl Timeouts {
    /// The same limit for the gap and the whole reply.
    pub const fn within(total: Duration) -> Self {
        Self { gap: total, total }
    }
}

/// A link that sends a request and reads the reply.
#[allow(async_fn_in_trait)] // single-threaded runtime: futures need not be Send
pub trait Exchange: Transport {
    /// Send `request` (after dropping stale input) and read one reply framed by `reply`
    /// into `answer` (emptied first; the caller keeps it from exchange to exchange, so that
    /// a steady poll allocates nothing). No byte in time is [`DriverError::Timeout`], part
    /// of a reply [`DriverError::Protocol`], a vanished device an error that
    /// [needs a reconnect](DriverError::needs_reconnect).
    async fn exchange(
        &mut self,
        request: &[u8],
        reply: Reply,
        timeouts: Timeouts,
        answer: &mut Vec<u8>,
    ) -> Result<(), DriverError>;
}

/// What the scripted device does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send these bytes (framed like a real reply: what follows the end is dropped, a
    /// reply cut short is a short reply).
    Bytes(Vec<u8>),
    /// Say nothing (a timeout).
    Silence,
    /// Vanish (unplugged): this and every exchange until the link is reopened fail.
    Gone,
}

/// A scripted device for tests: each exchange must send the next expected request (byte
/// for byte) and gets the scripted answer. Every request sent is kept in
/// [`sent`](Self::sent), so a test can check the exact bytes a command produces.
#[derive(Debug, Default)]
pub struct Script {
    steps: VecDeque<(Vec<u8>, Answer)>,
    sent: Vec<Vec<u8>>,
    open: bool,
    gone: bool,
    opens: u32,
}

impl Script {
    /// An empty script (every exchange then fails as unexpected).
    pub fn new() -> Self {
        Self::default()
    }

    /// Expect `request`, answer with `answer`.
    #[must_use]
    pub fn then(mut self, request: impl Into<Vec<u8>>, answer: Answer) -> Self {
        self.push(request, answer);
        self
    }

    /// Append a step.
    pub fn push(&mut self, request: impl Into<Vec<u8>>, answer: Answer) {
        self.steps.push_back((request.into(), answer));
    }

    /// The requests sent so far, in order.
    pub fn sent(&self) -> &[Vec<u8>] {
        &self.sent
    }

    /// Steps not played yet.
    pub fn remaining(&self) -> usize {
        self.steps.len()
    }

    /// How many times the link was opened.
    pub fn opens(&self) -> u32 {
        self.opens
    }
}

impl Transport for Script {
    async fn open(&mut self) -> Result<(), DriverError> {
        self.opens += 1;
        self.open = true;
        self.gone = false;
        Ok(())
    }

    fn close(&mut self) {
        self.open = false;
    }
}

impl Exchange for Script {
    async fn exchange(
        &mut self,
        request: &[u8],
        reply: Reply,
        _timeouts: Timeouts,
        out: &mut Vec<u8>,
    ) -> Result<(), DriverError> {
        out.clear();
        if !self.open || self.gone {
            return Err(DriverError::Disconnected("scripted device is gone".into()));
        }
        self.sent.push(request.to_vec());
        let Some((expected, answer)) = self.steps.pop_front() else {
            return Err(DriverError::Protocol(format!(
                "unscripted request {:?}",
                String::from_utf8_lossy(request)
            )));
        };
        if expected != request {
            return Err(DriverError::Protocol(format!(
                "expected request {:?}, got {:?}",
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(request)
            )));
        }
        match answer {
            Answer::Silence => Err(DriverError::Timeout("scripted device".into())),
            Answer::Gone => {
                self.gone = true;
                Err(DriverError::Disconnected(
                    "scripted device unplugged".into(),
                ))
            }
            Answer::Bytes(bytes) => {
                let mut framer = Framer::reusing(reply, std::mem::take(out));
                framer.push(&bytes);
                let done = framer.is_done();
                *out = framer.into_bytes();
                if done {
                    Ok(())
                } else if out.is_empty() {
                    Err(DriverError::Timeout("scripted device".into()))
                } else {
                    Err(DriverError::Protocol(format!(
                        "short reply: {:?}",
                        String::from_utf8_lossy(out)
                    )))
                }
            }
        }
    }
}

/// How a device's reply ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Up to and excluding this byte (e.g. `\r` for Q1 devices). Bytes in `ignore` are
    /// dropped; a reply longer than `max` bytes ends there.
    Terminated {
        /// The end byte.
        end: u8,
        /// Bytes dropped wherever they appear (e.g. `\n`).
        ignore: &'static [u8],
        /// The longest reply kept.
        max: usize,
    },
    /// Exactly this many bytes.
    Length(usize),
}

impl Reply {
    /// A reply ended by `end`, at most `max` bytes, nothing ignored.
    pub const fn line(end: u8, max: usize) -> Self {
        Self::Terminated {
            end,
            ignore: &[],
            max,
        }
    }
}

/// Collects one reply from bytes as they arrive.
#[derive(Clone, Debug)]
pub struct Framer {
    reply: Reply,
    buf: Vec<u8>,
    done: bool,
}

impl Framer {
    /// A framer for one reply of this shape.
    pub fn new(reply: Reply) -> Self {
        Self::reusing(reply, Vec::new())
    }

    /// The same, collecting into `buf` (emptied first), whose capacity a caller keeps from
    /// reply to reply through [`into_bytes`](Self::into_bytes).
    pub fn reusing(reply: Reply, mut buf: Vec<u8>) -> Self {
        buf.clear();
        Self {
            reply,
            buf,
            done: false,
        }
    }

    /// Feed received bytes; returns how many were used (the rest belongs to no reply and
    /// is discarded by the caller, as NUT discards what follows the end character).
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let used = match self.reply {
            _ if self.done => 0,
            Reply::Terminated { end, ignore, max } => self.push_terminated(bytes, end, ignore, max),
            Reply::Length(n) => {
                // At least one byte, as a reply of length 0 is complete before any arrives.
                let take = n.saturating_sub(self.buf.len()).max(1).min(bytes.len());
                self.buf.extend_from_slice(&bytes[..take]);
                self.done = self.buf.len() >= n;
                take
            }
        };
        if self.reply == Reply::Length(0) {
            self.done = true;
        }
        if self.done { used } else { bytes.len() }
    }

    /// Copy runs of bytes up to the end byte, an ignored byte or `max`; returns how many
    /// bytes were used.
    fn push_terminated(&mut self, bytes: &[u8], end: u8, ignore: &[u8], max: usize) -> usize {
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            let stop = rest
                .iter()
                .position(|b| *b == end || ignore.contains(b))
                .unwrap_or(rest.len());
            // A reply of `max` bytes ends there (one byte always goes in, as with `max` 0).
            let room = max.saturating_sub(self.buf.len()).max(1);
            if room <= stop {
                self.buf.extend_from_slice(&rest[..room]);
                self.done = true;
                return at + room;
            }
            self.buf.extend_from_slice(&rest[..stop]);
            if stop == rest.len() {
                break;
            }
            at += stop + 1;
            if rest[stop] == end {
                self.done = true;
                return at;
            }
        }
        bytes.len()
    }

    /// Whether the reply is complete.
    pub fn is_done(&self) -> bool {
        self.done || self.reply == Reply::Length(0)
    }

    /// What was received so far (the reply, once [`is_done`](Self::is_done)).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Take the reply.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_checks_requests_frames_answers_and_vanishes() {
        let t = Timeouts::within(Duration::from_secs(1));
        let line = Reply::line(b'\r', 64);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut s = Script::new()
                .then("Q1\r", Answer::Bytes(b"(230.0 50.0\rjunk".to_vec()))
                .then("Q1\r", Answer::Bytes(b"(23".to_vec()))
                .then("Q1\r", Answer::Silence)
                .then("F\r", Answer::Gone);
            s.open().await.unwrap();
            let mut a = b"left from before".to_vec();
            s.exchange(b"Q1\r", line, t, &mut a).await.unwrap();
            assert_eq!(a, b"(230.0 50.0");
            assert!(matches!(
                s.exchange(b"Q1\r", line, t, &mut a).await,
                Err(DriverError::Protocol(_))
            ));
            assert_eq!(a, b"(23", "a short reply is what came");
            assert!(matches!(
                s.exchange(b"Q1\r", line, t, &mut a).await,
                Err(DriverError::Timeout(_))
            ));
            let gone = s.exchange(b"F\r", line, t, &mut a).await.unwrap_err();
            assert!(gone.needs_reconnect());
            assert!(
                s.exchange(b"F\r", line, t, &mut a)
                    .await
                    .unwrap_err()
                    .needs_reconnect()
            );
            s.close();
            s.open().await.unwrap();
            let wrong = s.exchange(b"I\r", line, t, &mut a).await.unwrap_err();
            assert!(wrong.to_string().contains("unscripted request"), "{wrong}");
            assert_eq!(s.sent().len(), 5);
            assert_eq!(s.opens(), 2);
        });
    }

    #[test]
    fn terminated_reply_across_chunks_with_ignored_bytes() {
        let mut f = Framer::new(Reply::Terminated {
            end: b'\r',
            ignore: b"\n",
            max: 64,
        });
        assert_eq!(f.push(b"(230.0 2"), 8);
        assert!(!f.is_done());
        assert_eq!(f.push(b"\n29.0\rgarbage"), 6);
        assert!(f.is_done());
        assert_eq!(f.bytes(), b"(230.0 229.0");
    }

    #[test]
    fn max_length_and_fixed_length() {
        let mut f = Framer::new(Reply::line(b'\r', 4));
        assert_eq!(f.push(b"abcdef\r"), 4);
        assert_eq!(f.into_bytes(), b"abcd");
        let mut f = Framer::new(Reply::Length(3));
        f.push(b"\x01\x02");
        assert!(!f.is_done());
        assert_eq!(f.push(b"\x03\x04"), 1);
        assert_eq!(f.into_bytes(), [1, 2, 3]);
        assert!(Framer::new(Reply::Length(0)).is_done());
    }

    /// The framer byte by byte, as the definition of what [`Framer::push`] does in runs.
    fn push_bytewise(f: &mut Framer, bytes: &[u8]) -> usize {
        for (i, &b) in bytes.iter().enumerate() {
            if f.done {
                return i;
            }
            match f.reply {
                Reply::Terminated { end, ignore, max } => {
                    if b == end {
                        f.done = true;
                    } else if !ignore.contains(&b) {
                        f.buf.push(b);
                        f.done = f.buf.len() >= max;
                    }
                }
                Reply::Length(n) => {
                    f.buf.push(b);
                    f.done = f.buf.len() >= n;
                }
            }
        }
        if f.reply == Reply::Length(0) {
            f.done = true;
        }
        bytes.len()
    }

    #[test]
    fn runs_frame_like_single_bytes() {
        // Small alphabet so that end and ignored bytes are frequent; chunks of every size.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let shapes = [
            Reply::line(b'\r', 0),
            Reply::line(b'\r', 1),
            Reply::line(b'\r', 5),
            Reply::line(b'\r', 64),
            Reply::Terminated {
                end: b'\r',
                ignore: b"\n",
                max: 6,
            },
            Reply::Terminated {
                end: b'\r',
                ignore: b"\n\r",
                max: 64,
            },
            Reply::Length(0),
            Reply::Length(1),
            Reply::Length(7),
        ];
        for shape in shapes {
            for _ in 0..300 {
                let (mut ours, mut model) = (Framer::new(shape), Framer::new(shape));
                for _ in 0..(next() % 5) {
                    let len = (next() % 12) as usize;
                    let chunk: Vec<u8> =
                        (0..len).map(|_| b"ab\r\n"[(next() % 4) as usize]).collect();
                    let used = ours.push(&chunk);
                    assert_eq!(
                        used,
                        push_bytewise(&mut model, &chunk),
                        "{shape:?} {chunk:?}"
                    );
                    assert_eq!(ours.is_done(), model.is_done(), "{shape:?} {chunk:?}");
                    assert_eq!(ours.bytes(), model.bytes(), "{shape:?} {chunk:?}");
                }
            }
        }
    }
}
