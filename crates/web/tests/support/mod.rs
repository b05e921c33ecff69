//! What both integration test files need: a plain HTTP/1.1 GET against nut-web.
// Each test file compiles this module on its own and uses a different part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a request may take.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// A response: status code and body.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// GET `path` on nut-web at `port` (the connection closes after the reply).
pub fn try_get(port: u16, path: &str) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(READ_TIMEOUT))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8(raw).map_err(std::io::Error::other)?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    assert_ne!(
        header("transfer-encoding"),
        "chunked",
        "test client cannot de-chunk"
    );
    Ok(Reply {
        status,
        content_type: header("content-type"),
        body: body.to_owned(),
    })
}
