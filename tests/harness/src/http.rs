//! A plain HTTP/1.1 GET for tests (nut-web's pages, API and `/metrics`): one request per
//! connection (`Connection: close`), the reply read to EOF, a chunked body decoded.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a request may take before the test fails; generous for slow CI machines.
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// A response: status code, `Content-Type` and the (de-chunked) body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// GET `path` from `127.0.0.1:port`. `Err` on I/O errors, a timeout or a malformed reply.
pub fn try_get(port: u16, path: &str) -> io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw)
}

/// GET `path`; fails the test on any error.
pub fn get(port: u16, path: &str) -> Reply {
    try_get(port, path).unwrap_or_else(|e| panic!("nut-harness: GET {path} on port {port}: {e}"))
}

fn parse_reply(raw: &[u8]) -> io::Result<Reply> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("no end of the header"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(io::Error::other)?;
    let body = &raw[end + 4..];
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no status in {head:?}")))?;
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let body = if header("transfer-encoding").eq_ignore_ascii_case("chunked") {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(Reply {
        status,
        content_type: header("content-type"),
        body: String::from_utf8(body).map_err(io::Error::other)?,
    })
}

/// Decodes a `Transfer-Encoding: chunked` body (chunk extensions and trailers ignored).
fn dechunk(mut rest: &[u8]) -> io::Result<Vec<u8>> {
    let bad = |what: &str| io::Error::other(format!("bad chunked body: {what}"));
    let mut body = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("chunk size line without CRLF"))?;
        let size_line = std::str::from_utf8(&rest[..eol]).map_err(|_| bad("size not text"))?;
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad(size_line))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 || &rest[size..size + 2] != b"\r\n" {
            return Err(bad("chunk shorter than its size"));
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_reply() {
        let r =
            parse_reply(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope").unwrap();
        assert_eq!(
            (r.status, r.content_type.as_str(), r.body.as_str()),
            (404, "text/plain", "nope")
        );
    }

    #[test]
    fn chunked_reply_is_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n";
        assert_eq!(parse_reply(raw).unwrap().body, "abcdef");
    }

    #[test]
    fn truncated_chunk_is_an_error() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc";
        assert!(parse_reply(raw).is_err());
        assert!(parse_reply(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}
