//! Hostile input against our upsd (Debian's dummy-ups behind it): huge lines, NUL and
//! non-ASCII bytes, thousands of connections, stalled half lines, privileged commands
//! without or with wrong credentials. Throughout, a well-behaved client must keep getting
//! correct answers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use nut_harness::{Conn, Impl, Stack, StackBuilder};

const DEV: &str = "ups.status: OL\nbattery.charge: 100\nups.id: myid\n";

fn stack() -> Stack {
    StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("dummy", "dummy.dev", DEV)
        .start()
}

fn assert_served(conn: &mut Conn) {
    assert_eq!(
        conn.request("GET VAR dummy ups.status"),
        ["VAR dummy ups.status \"OL\""]
    );
    let list = conn.request("LIST VAR dummy");
    assert_eq!(
        list.first().map(String::as_str),
        Some("BEGIN LIST VAR dummy")
    );
    assert_eq!(list.last().map(String::as_str), Some("END LIST VAR dummy"));
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn huge_lines_are_refused_and_the_connection_keeps_working() {
    let stack = stack();
    let mut conn = stack.conn();
    let mut huge = b"GET VAR dummy ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1 << 20));
    huge.push(b'\n');
    assert_eq!(conn.request_raw(&huge), b"ERR INVALID-ARGUMENT\n");
    // A line just under the limit is still read normally.
    let mut long = b"GET VAR dummy ".to_vec();
    long.extend(std::iter::repeat_n(b'a', nut_upsd::MAX_REQUEST_LINE - 100));
    long.push(b'\n');
    assert_eq!(conn.request_raw(&long), b"ERR VAR-NOT-SUPPORTED\n");
    // A 10 MiB line: still one error, and memory stays bounded while it streams in.
    let mut flood = Vec::new();
    for _ in 0..10 {
        flood.extend(std::iter::repeat_n(b'x', 1 << 20));
    }
    flood.push(b'\n');
    assert_eq!(conn.request_raw(&flood), b"ERR INVALID-ARGUMENT\n");
    assert_served(&mut conn);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn nul_and_non_ascii_bytes_are_dropped_like_upsd_does() {
    let stack = stack();
    let mut conn = stack.conn();
    assert_eq!(
        conn.request_raw(b"GET VAR du\x00mmy ups.st\xc3\xa9atus\n"),
        b"VAR dummy ups.status \"OL\"\n"
    );
    assert_eq!(
        conn.request_raw(b"\x00\x01\xff\n"),
        b"ERR UNKNOWN-COMMAND\n"
    );
    let all_bytes: Vec<u8> = (0u8..=255).filter(|b| *b != b'\n').collect();
    let mut line = all_bytes.clone();
    line.push(b'\n');
    // Whatever the reply, it is one line and the connection survives.
    let reply = conn.request_raw(&line);
    assert!(reply.ends_with(b"\n") || reply.is_empty(), "{reply:?}");
    assert_served(&mut conn);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn privileged_commands_need_the_right_credentials() {
    let stack = stack();
    let mut anon = stack.conn();
    for (req, want) in [
        ("SET VAR dummy ups.id x", "ERR USERNAME-REQUIRED"),
        ("INSTCMD dummy load.off", "ERR USERNAME-REQUIRED"),
        ("FSD dummy", "ERR USERNAME-REQUIRED"),
        ("LOGIN dummy", "ERR USERNAME-REQUIRED"),
        ("PRIMARY dummy", "ERR USERNAME-REQUIRED"),
    ] {
        assert_eq!(anon.request(req), [want], "{req}");
    }
    assert_eq!(anon.request("USERNAME admin"), ["OK"]);
    assert_eq!(anon.request("FSD dummy"), ["ERR PASSWORD-REQUIRED"]);
    let mut wrong = stack.conn();
    wrong.request("USERNAME admin");
    assert_eq!(wrong.request("PASSWORD nope"), ["OK"]);
    for req in [
        "SET VAR dummy ups.id x",
        "INSTCMD dummy load.off",
        "FSD dummy",
        "LOGIN dummy",
        "PRIMARY dummy",
    ] {
        assert_eq!(wrong.request(req), ["ERR ACCESS-DENIED"], "{req}");
    }
    let mut ghost = stack.conn();
    ghost.request("USERNAME ghost");
    ghost.request("PASSWORD adminpass");
    assert_eq!(
        ghost.request("SET VAR dummy ups.id x"),
        ["ERR ACCESS-DENIED"]
    );
    let mut secondary = stack.conn();
    secondary.request("USERNAME monuser");
    secondary.request("PASSWORD monpass");
    assert_eq!(secondary.request("LOGIN dummy"), ["OK"]);
    assert_eq!(secondary.request("FSD dummy"), ["ERR ACCESS-DENIED"]);
    assert_eq!(
        secondary.request("SET VAR dummy ups.id x"),
        ["ERR ACCESS-DENIED"]
    );
    // Nothing of that changed the UPS.
    let mut conn = stack.conn();
    assert_served(&mut conn);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn stalled_half_lines_do_not_block_others() {
    let stack = stack();
    let mut stalled: Vec<TcpStream> = (0..200)
        .map(|i| {
            let mut s = TcpStream::connect(stack.addr()).unwrap();
            let half: &[u8] = if i % 2 == 0 {
                b"GET VAR dum"
            } else {
                b"LIST VAR \"dummy"
            };
            s.write_all(half).unwrap();
            s
        })
        .collect();
    let mut conn = stack.conn();
    for _ in 0..20 {
        assert_served(&mut conn);
    }
    // The stalled clients complete their lines later and are answered.
    for s in stalled.iter_mut().step_by(2) {
        s.write_all(b"my ups.status\n").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"VAR dummy ups.status \"OL\"\n");
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn five_thousand_connections_at_once() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    const N: usize = 5000;
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let want = (N as u64 + 1000).min(hard);
    setrlimit(Resource::RLIMIT_NOFILE, want, hard).unwrap();
    assert!(
        want >= N as u64 + 500,
        "the test needs {N} descriptors; the hard limit is {hard}"
    );
    let stack = stack();
    let pid = stack.upsd_daemon().unwrap().pid();
    let idle_rss = rss_kib(pid);
    let mut conns: Vec<TcpStream> = (0..N)
        .map(|i| {
            TcpStream::connect(stack.addr())
                .unwrap_or_else(|e| panic!("connection {i} of {N} failed: {e}"))
        })
        .collect();
    let mut conn = stack.conn();
    assert_served(&mut conn);
    // Every one of them is served too.
    for s in conns.iter_mut() {
        s.write_all(b"GET VAR dummy ups.status\n").unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or_else(|e| panic!("conn {i}: {e}"));
        assert_eq!(&buf[..n], b"VAR dummy ups.status \"OL\"\n", "conn {i}");
    }
    assert_served(&mut conn);
    if let (Some(idle), Some(busy)) = (idle_rss, rss_kib(pid)) {
        eprintln!("upsd RSS: {idle} KiB idle, {busy} KiB with {N} clients");
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn pipelined_lists_are_all_answered_in_order() {
    let stack = stack();
    let mut conn = stack.conn();
    const N: usize = 3000;
    let mut burst = Vec::new();
    for i in 0..N {
        if i % 2 == 0 {
            burst.extend_from_slice(b"LIST VAR dummy\n");
        } else {
            burst.extend_from_slice(b"GET VAR dummy battery.charge\n");
        }
    }
    // Written from another thread: the server answers while we are still sending.
    let mut writer = conn.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&burst).unwrap());
    for i in 0..N {
        let reply = conn.read_reply();
        if i % 2 == 0 {
            assert_eq!(
                reply.first().map(Vec::as_slice),
                Some(&b"BEGIN LIST VAR dummy\n"[..])
            );
            assert_eq!(
                reply.last().map(Vec::as_slice),
                Some(&b"END LIST VAR dummy\n"[..])
            );
        } else {
            assert_eq!(
                reply,
                [b"VAR dummy battery.charge \"100\"\n".to_vec()],
                "reply {i}"
            );
        }
    }
    sender.join().unwrap();
    assert_served(&mut conn);
}
