//! A silent device behind the `miniq1` example driver (the framework's loop and the serial
//! transport, a real process): each poll's exchange runs on the loop thread, as in NUT's
//! drivers, and is bounded by the read timeout, after which the driver answers its socket.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nut_harness::{Daemon, StackBuilder};

use crate::upsd::{Act, Mode, Requests, plug_in_logged, port_dir, start_miniq1};

/// miniq1's read timeout for its one command (`Q1`).
const READ_TIMEOUT: Duration = Duration::from_secs(1);
/// Room for a loaded machine on top of the timeout. An exchange without a bound would
/// never end: no answer, no next request.
const SLACK: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const WAIT: Duration = Duration::from_secs(40);
/// What a driver sends every connected client on its own (its state changes).
const BROADCASTS: [&str; 12] = [
    "DATASTALE",
    "DATAOK",
    "SETINFO",
    "DELINFO",
    "SETFLAGS",
    "SETAUX",
    "ADDENUM",
    "DELENUM",
    "ADDRANGE",
    "DELRANGE",
    "ADDCMD",
    "DELCMD",
];

fn requests_seen(driver: &Daemon, requests: &Requests, n: usize) -> Vec<Instant> {
    nut_harness::poll_until(WAIT, || {
        let seen = requests.lock().unwrap();
        (seen.len() >= n).then(|| seen.clone())
    })
    .unwrap_or_else(|| {
        panic!(
            "the device never saw {n} requests; the driver said:\n{}",
            driver.output_so_far()
        )
    })
}

#[test]
fn a_silent_device_costs_the_read_timeout_per_poll_and_the_socket_is_answered_after_it() {
    let dir = port_dir();
    let link = dir.path().join("ttyUPS");
    let mode: Mode = Arc::new(Mutex::new(Act::Silence));
    let requests = Requests::default();
    let _slave = plug_in_logged(&link, &mode, &requests);
    let s = StackBuilder::new()
        .no_upsd()
        .ups_section(
            "ups",
            &format!(
                "driver = miniq1\nport = {}\npollinterval = {}",
                link.display(),
                POLL_INTERVAL.as_secs()
            ),
        )
        .start();
    let driver = start_miniq1(&s);
    let socket = s.dir().join("miniq1-ups");

    // A request has just reached the silent device: its exchange is (or was just) running.
    let first = requests_seen(&driver, &requests, 1).len();
    let asked = requests_seen(&driver, &requests, first + 1)[first];
    let stream = UnixStream::connect(&socket).expect("the driver's socket");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut r = BufReader::new(stream);
    r.get_mut().write_all(b"PING\n").unwrap();
    // Broadcasts may come first: the client is connected, and the silent device is being
    // declared stale meanwhile (DATASTALE), which every connected client is told.
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line)
            .expect("an answer, not a hung driver");
        let first = line.split_whitespace().next().unwrap_or("");
        if !BROADCASTS.contains(&first) {
            break;
        }
    }
    let answered = Instant::now();
    assert_eq!(line, "PONG\n", "{}", driver.output_so_far());
    assert!(
        answered - asked <= READ_TIMEOUT + SLACK,
        "answered {:?} after the request",
        answered - asked
    );

    // Poll after poll, each silent exchange ends at its timeout and the next poll follows.
    let seen = requests_seen(&driver, &requests, first + 4);
    for pair in seen[first..].windows(2) {
        let between = pair[1] - pair[0];
        assert!(
            between <= READ_TIMEOUT + POLL_INTERVAL + SLACK,
            "{between:?} between two requests: {seen:?}"
        );
    }
    assert!(driver.is_running(), "{}", driver.output_so_far());
}
