//! A blocking, line-oriented client for the NUT network protocol, for tests: it sends
//! exactly what it is given and returns exactly what the server said.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a read may block before the test fails; generous for slow CI machines.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(15);

/// A raw protocol connection. Reads are bounded by a timeout (default
/// `DEFAULT_READ_TIMEOUT`); the panicking methods fail the test on timeout or I/O error.
pub struct Conn {
    reader: BufReader<TcpStream>,
    peer: SocketAddr,
}

impl Conn {
    /// Connects to `addr`; panics on failure.
    pub fn connect(addr: SocketAddr) -> Conn {
        Conn::try_connect(addr)
            .unwrap_or_else(|e| panic!("nut-harness: cannot connect to {addr}: {e}"))
    }

    /// Connects to `addr`.
    pub fn try_connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, DEFAULT_READ_TIMEOUT)?;
        stream.set_read_timeout(Some(DEFAULT_READ_TIMEOUT))?;
        stream.set_write_timeout(Some(DEFAULT_READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream),
            peer: addr,
        })
    }

    /// Changes the read timeout (e.g. short, to check that the server stays silent).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.stream()
            .set_read_timeout(Some(timeout))
            .expect("nut-harness: set_read_timeout");
    }

    /// The underlying socket (e.g. to shut down the write half).
    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Sends `line` followed by `"\n"`.
    pub fn send_line(&mut self, line: &str) {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.send_raw(&bytes);
    }

    /// Sends exactly `bytes`; panics if the write fails.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let peer = self.peer;
        self.try_send_raw(bytes)
            .unwrap_or_else(|e| panic!("nut-harness: write to {peer} failed: {e}"));
    }

    /// Sends exactly `bytes` (e.g. to a server that may already have closed the connection).
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.reader.get_mut().write_all(bytes)
    }

    /// Reads one line including its `"\n"` (the last bytes before EOF may lack it).
    /// `Ok(None)` on EOF; `Err` on timeout (`WouldBlock`/`TimedOut`) or I/O error.
    pub fn try_read_raw_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(line)),
            Err(e) => Err(e),
        }
    }

    /// Like [`Conn::try_read_raw_line`], as text without the trailing `"\n"`.
    pub fn try_read_line(&mut self) -> io::Result<Option<String>> {
        Ok(self.try_read_raw_line()?.map(|raw| line_text(&raw)))
    }

    /// Reads one line including its `"\n"`; `None` on EOF; panics on timeout.
    pub fn read_raw_line(&mut self) -> Option<Vec<u8>> {
        let peer = self.peer;
        self.try_read_raw_line()
            .unwrap_or_else(|e| panic!("nut-harness: reading a line from {peer} failed: {e}"))
    }

    /// Reads one line without its trailing `"\n"`; `None` on EOF; panics on timeout.
    pub fn read_line(&mut self) -> Option<String> {
        self.read_raw_line().map(|raw| line_text(&raw))
    }

    /// Sends one request line and returns the reply lines (without `"\n"`): one line, or
    /// from `BEGIN LIST …` through `END LIST …`. Stops early at EOF.
    pub fn request(&mut self, line: &str) -> Vec<String> {
        self.send_line(line);
        self.read_reply().iter().map(|raw| line_text(raw)).collect()
    }

    /// Sends exactly `bytes` and returns the exact bytes of the reply (one line, or a
    /// whole `BEGIN LIST` … `END LIST` block). Stops early at EOF.
    pub fn request_raw(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.send_raw(bytes);
        self.read_reply().concat()
    }

    /// Sends every line in one write, then reads one reply per line, each as its exact text
    /// (one line, or a whole list, every line with its `"\n"`). Panics if the server closes
    /// the connection before answering them all.
    pub fn pipeline(&mut self, lines: &[impl AsRef<str>]) -> Vec<String> {
        let mut bytes = String::new();
        for line in lines {
            bytes.push_str(line.as_ref());
            bytes.push('\n');
        }
        self.send_raw(bytes.as_bytes());
        lines
            .iter()
            .map(|line| {
                let reply = self.read_reply();
                if reply.is_empty() {
                    panic!(
                        "nut-harness: {} closed the connection before answering {:?}",
                        self.peer,
                        line.as_ref()
                    );
                }
                String::from_utf8_lossy(&reply.concat()).into_owned()
            })
            .collect()
    }

    /// Reads one reply: a line, or a whole list. Each element keeps its `"\n"`.
    pub fn read_reply(&mut self) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        let Some(first) = self.read_raw_line() else {
            return lines;
        };
        let is_list = first.starts_with(b"BEGIN LIST");
        lines.push(first);
        if is_list {
            while let Some(line) = self.read_raw_line() {
                let end = line.starts_with(b"END LIST");
                lines.push(line);
                if end {
                    break;
                }
            }
        }
        lines
    }

    /// Asserts that the server closes the connection (next read is EOF).
    pub fn expect_eof(&mut self) {
        if let Some(line) = self.read_line() {
            panic!(
                "nut-harness: expected {} to close the connection, got {line:?}",
                self.peer
            );
        }
    }
}

fn line_text(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    String::from_utf8_lossy(raw).into_owned()
}
