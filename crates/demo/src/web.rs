//! Talking to the demo's `nut-web`: a minimal HTTP/1.1 GET over a std `TcpStream` (the demo is
//! synchronous and only needs a few requests, so no HTTP client crate), and a one-line summary
//! of what the JSON API says about the demo UPS.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Enough for the demo's one-UPS JSON document many times over; a bigger reply is a bug.
const MAX_REPLY: u64 = 1 << 20;

/// `GET path` from nut-web on 127.0.0.1:`port`; returns the status code and the body.
pub fn get(port: u16, path: &str) -> Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .with_context(|| format!("can't connect to {addr}"))?;
    // nut-web asks upsd afresh on every request (3 s timeout by default): leave it room.
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut reply = Vec::new();
    stream
        .take(MAX_REPLY)
        .read_to_end(&mut reply)
        .with_context(|| format!("reading the reply to GET {path}"))?;
    let (status, body) = parse_response(&reply)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Split a complete HTTP/1.1 response (the connection was closed after it) into the status
/// code and the body, honouring `Content-Length` and chunked transfer encoding.
pub fn parse_response(reply: &[u8]) -> Result<(u16, Vec<u8>)> {
    let Some(head_end) = reply.windows(4).position(|w| w == b"\r\n\r\n") else {
        bail!(
            "incomplete HTTP reply ({} bytes, no end of headers)",
            reply.len()
        );
    };
    let head = String::from_utf8_lossy(&reply[..head_end]);
    let body = &reply[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
        [version, code, ..] if version.starts_with("HTTP/1.") => code
            .parse::<u16>()
            .with_context(|| format!("bad HTTP status line {status_line:?}"))?,
        _ => bail!("bad HTTP status line {status_line:?}"),
    };
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .with_context(|| format!("bad Content-Length {value:?}"))?,
            );
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else if let Some(length) = length {
        match body.get(..length) {
            Some(b) => b.to_vec(),
            None => bail!("HTTP body cut short: {} of {length} bytes", body.len()),
        }
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            bail!("chunked HTTP body cut short");
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let Some(chunk) = data.get(..size) else {
            bail!("chunked HTTP body cut short");
        };
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

/// Whether an `/api/v1/upses` document lists the UPS identified as `host` (`ups@host:port`).
/// Tells our nut-web from another one answering on the same port.
pub fn lists(json: &str, host: &str) -> bool {
    serde_json::from_str::<Value>(json)
        .ok()
        .as_ref()
        .and_then(|doc| doc.get("upses"))
        .and_then(Value::as_array)
        .is_some_and(|upses| {
            upses
                .iter()
                .any(|u| u.get("host").and_then(Value::as_str) == Some(host))
        })
}

/// What `/api/v1/upses` says about `ups`, as one timeline line:
/// `ups.status "OB DISCHRG", battery.charge 41`, or the error nut-web reports for it.
pub fn summarize(json: &str, ups: &str) -> Result<String> {
    let doc: Value = serde_json::from_str(json).context("nut-web's JSON does not parse")?;
    let entry = doc
        .get("upses")
        .and_then(Value::as_array)
        .and_then(|upses| {
            upses
                .iter()
                .find(|u| u.get("ups").and_then(Value::as_str) == Some(ups))
        })
        .with_context(|| format!("nut-web's JSON has no entry for UPS {ups:?}"))?;
    if let Some(error) = entry.get("error").and_then(Value::as_str) {
        return Ok(format!("error {error:?}"));
    }
    let var = |name: &str| {
        entry
            .get("vars")
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    Ok(format!(
        "ups.status {:?}, battery.charge {}, battery.runtime {}",
        var("ups.status"),
        var("battery.charge"),
        var("battery.runtime")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_body() {
        let reply =
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\nEXTRA";
        assert_eq!(parse_response(reply).unwrap(), (200, b"ok\n".to_vec()));
    }

    #[test]
    fn chunked_body() {
        let reply =
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnot \r\n6;x=y\r\nfound\n\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(reply).unwrap(),
            (404, b"not found\n".to_vec())
        );
    }

    #[test]
    fn body_until_close_without_length() {
        let reply = b"HTTP/1.0 200 OK\r\n\r\n{}";
        assert_eq!(parse_response(reply).unwrap(), (200, b"{}".to_vec()));
    }

    #[test]
    fn broken_replies_are_errors() {
        for reply in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n"[..],
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\nab",
        ] {
            assert!(parse_response(reply).is_err(), "{reply:?}");
        }
    }

    #[test]
    fn summary_of_the_demo_ups() {
        let json = r#"{"upses":[
            {"host":"other@h","ups":"other","vars":{"ups.status":"OL"}},
            {"host":"demo@127.0.0.1:1","ups":"demo","server":"127.0.0.1:1","status_raw":"OB DISCHRG",
             "vars":{"battery.charge":"41","battery.runtime":"380","ups.status":"OB DISCHRG"}}]}"#;
        assert_eq!(
            summarize(json, "demo").unwrap(),
            r#"ups.status "OB DISCHRG", battery.charge 41, battery.runtime 380"#
        );
    }

    #[test]
    fn lists_tells_our_ups_from_others() {
        let json = r#"{"upses":[{"host":"demo@127.0.0.1:4000","ups":"demo"}]}"#;
        assert!(lists(json, "demo@127.0.0.1:4000"));
        assert!(!lists(json, "demo@127.0.0.1:4001"));
        assert!(!lists("ok\n", "demo@127.0.0.1:4000"));
    }

    #[test]
    fn summary_shows_the_error() {
        let json = r#"{"upses":[{"ups":"demo","vars":{},"error":"Data stale"}]}"#;
        assert_eq!(summarize(json, "demo").unwrap(), r#"error "Data stale""#);
    }

    #[test]
    fn summary_without_the_ups_or_json_fails() {
        assert!(summarize(r#"{"upses":[]}"#, "demo").is_err());
        assert!(summarize("<html>", "demo").is_err());
    }
}
