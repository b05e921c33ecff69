//! Reply framing as a pure function of the bytes received: where a reply ends, what is
//! dropped on the way (NUT's `ser_get_line`: an end character, a set of characters to
//! ignore, a maximum length).

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
        Self {
            reply,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Feed received bytes; returns how many were used (the rest belongs to no reply and
    /// is discarded by the caller, as NUT discards what follows the end character).
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        for (i, &b) in bytes.iter().enumerate() {
            if self.done {
                return i;
            }
            match self.reply {
                Reply::Terminated { end, ignore, max } => {
                    if b == end {
                        self.done = true;
                    } else if !ignore.contains(&b) {
                        self.buf.push(b);
                        if self.buf.len() >= max {
                            self.done = true;
                        }
                    }
                }
                Reply::Length(n) => {
                    self.buf.push(b);
                    if self.buf.len() >= n {
                        self.done = true;
                    }
                }
            }
        }
        if self.reply == Reply::Length(0) {
            self.done = true;
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
}
