//! Abuse by clients, against our upsd: floods of protocol misuse are logged a few times and
//! then counted, every refused request is logged with the peer's address, and a driver that
//! stops reading its socket makes upsd refuse further commands instead of queueing them
//! without bound.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::time::Duration;

use nut_harness::{Impl, STARTUP_TIMEOUT, Stack, StackBuilder, poll_until};

const DEV: &str = "ups.status: OL\nbattery.charge: 100\n";

fn stack() -> Stack {
    StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV)
        .start()
}

/// upsd's output once it holds `needle` (log lines reach the capture threads a little later
/// than the replies reach us).
fn upsd_output_with(stack: &Stack, needle: &str) -> String {
    let upsd = stack.upsd_daemon().unwrap();
    poll_until(STARTUP_TIMEOUT, || {
        let out = upsd.output_so_far();
        out.contains(needle).then_some(out)
    })
    .unwrap_or_else(|| panic!("upsd never logged {needle:?}:\n{}", upsd.output_so_far()))
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn a_flood_of_repeated_usernames_is_logged_only_a_few_times() {
    let stack = stack();
    let mut conn = stack.conn();
    assert_eq!(conn.request("USERNAME first"), ["OK"]);
    let flood = "USERNAME \"x\"\n".repeat(20_000);
    conn.send_raw(flood.as_bytes());
    for _ in 0..20_000 {
        assert_eq!(
            conn.read_line().as_deref(),
            Some("ERR ALREADY-SET-USERNAME")
        );
    }
    // A line logged after the flood: once it is there, so is everything before it.
    let mut mon = stack.conn();
    mon.request("USERNAME monuser");
    mon.request("PASSWORD monpass");
    assert_eq!(mon.request("LOGIN a"), ["OK"]);
    let out = upsd_output_with(&stack, "User monuser@127.0.0.1 logged into UPS [a]");
    let logged = out
        .matches("Client first@127.0.0.1 tried to set a username twice")
        .count();
    assert_eq!(
        logged,
        nut_upsd::server::LOG_BURST as usize,
        "{logged} lines"
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn refused_requests_are_logged_with_the_peer_address() {
    let stack = stack();
    let mut conn = stack.conn();
    conn.request("USERNAME monuser");
    conn.request("PASSWORD not-the-password");
    assert_eq!(conn.request("LOGIN a"), ["ERR ACCESS-DENIED"]);
    let out = upsd_output_with(
        &stack,
        "Access denied: monuser@127.0.0.1 LOGIN a (unknown user or wrong password)",
    );
    assert!(!out.contains("not-the-password"), "{out}");
    let mut conn = stack.conn();
    conn.request("USERNAME monuser");
    conn.request("PASSWORD monpass");
    assert_eq!(conn.request("FSD a"), ["ERR ACCESS-DENIED"]);
    upsd_output_with(
        &stack,
        "Access denied: monuser@127.0.0.1 FSD a (not permitted for this user)",
    );
}

/// A driver socket that sends a dump, then never reads again (a hung driver).
fn deaf_driver(listener: UnixListener) {
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.starts_with("DUMPALL") {
                break;
            }
            line.clear();
        }
        let mut writer = stream;
        let _ = writer.write_all(b"SETINFO ups.status \"OL\"\nADDCMD test.cmd\nDATAOK\nDUMPDONE\n");
        // Keep the connection open, unread, until the test ends.
        std::thread::park();
        drop(reader);
    });
}

#[test]
fn commands_for_a_driver_that_does_not_read_are_refused_not_queued_forever() {
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .ups_section("deaf", "driver = dummy-ups\nport = deaf.dev")
        // The deaf driver answers no PING: keep its data fresh for the test's duration.
        .upsd_conf("MAXAGE 600")
        .start();
    let socket = stack.driver_socket("deaf");
    let listener = UnixListener::bind(&socket).unwrap();
    // upsd runs as nut.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    deaf_driver(listener);
    let mut conn = stack.conn();
    conn.set_timeout(Duration::from_secs(30));
    let mut last = Vec::new();
    poll_until(STARTUP_TIMEOUT, || {
        last = conn.request("GET VAR deaf ups.status");
        (last == ["VAR deaf ups.status \"OL\""]).then_some(())
    })
    .unwrap_or_else(|| panic!("no dump from the deaf driver: {last:?}\n{}", stack.logs()));
    conn.request("USERNAME admin");
    conn.request("PASSWORD adminpass");
    // ~7 KB per command: the socket buffers fill after a few dozen, then upsd's own queue.
    let param = "p".repeat(7000);
    let mut accepted = 0;
    let refusal = loop {
        let reply = conn.request(&format!("INSTCMD deaf test.cmd {param}"));
        if reply != ["OK"] {
            break reply;
        }
        accepted += 1;
        // Unbounded, upsd would hold 35 MB of commands by now.
        assert!(
            accepted < 5000,
            "upsd kept queueing commands for a deaf driver"
        );
    };
    assert_eq!(refusal, ["ERR INSTCMD-FAILED"]);
    upsd_output_with(
        &stack,
        "INSTCMD from admin@127.0.0.1 on UPS [deaf] refused: the driver is not reading its socket",
    );
    // Reading is not affected.
    assert_eq!(
        conn.request("GET VAR deaf ups.status"),
        ["VAR deaf ups.status \"OL\""]
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn idle_unauthenticated_clients_cannot_lock_upsmon_out() {
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV)
        .upsd_conf("MAXCONN 3")
        .start();
    // Three connections that say one thing and then sit idle hold every slot.
    let idle: Vec<nut_harness::Conn> = (0..3)
        .map(|_| {
            let mut c = stack.conn();
            assert_eq!(c.request("NETVER"), ["1.3"]);
            c
        })
        .collect();
    // upsmon still gets in, and logs in.
    let mut upsmon = stack.conn();
    upsmon.set_timeout(Duration::from_secs(15));
    assert_eq!(upsmon.request("NETVER"), ["1.3"], "upsmon was locked out");
    assert_eq!(upsmon.request("USERNAME monuser"), ["OK"]);
    assert_eq!(upsmon.request("PASSWORD monpass"), ["OK"]);
    assert_eq!(upsmon.request("LOGIN a"), ["OK"]);
    // The longest idle one made room; the others are still served.
    let mut idle = idle.into_iter();
    let mut oldest = idle.next().unwrap();
    oldest.set_timeout(Duration::from_secs(15));
    assert_eq!(
        oldest.try_read_line().ok().flatten(),
        None,
        "not disconnected"
    );
    for mut c in idle {
        assert_eq!(c.request("NETVER"), ["1.3"]);
    }
    upsd_output_with(
        &stack,
        "MAXCONN (3) reached: disconnecting unauthenticated client 127.0.0.1, the longest idle, for 127.0.0.1",
    );
}
