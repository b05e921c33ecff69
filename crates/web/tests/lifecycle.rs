//! nut-web as a systemd service: the test binds a `NOTIFY_SOCKET` and acts as systemd. READY=1
//! once it serves; SIGHUP (the unit's `ExecReload=kill -HUP`) gives RELOADING=1 … READY=1 and
//! swaps the UPS list for new requests, or keeps the old list when the new hosts.conf is
//! broken; SIGTERM gives STOPPING=1, lets a request in flight finish, and exits 0. With
//! `WATCHDOG_USEC` set it pings `WATCHDOG=1`.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nut_harness::notify::NotifySocket;
use nut_harness::{Daemon, Signal, free_port, wait_until};

const TIMEOUT: Duration = Duration::from_secs(20);

/// The index of the first message at or after `from` holding the line `line`.
fn wait(socket: &NotifySocket, from: usize, line: &str, daemon: &Daemon) -> usize {
    let output = || format!("output:\n{}", daemon.output_so_far());
    socket.expect_line(from, line, TIMEOUT, output).0
}

/// GET `path` on nut-web: (status, body).
fn try_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    nut_harness::http::try_get(port, path).map(|reply| (reply.status, reply.body))
}

/// The `ups` names the JSON API lists.
fn listed(port: u16) -> Vec<String> {
    let (status, body) = try_get(port, "/api/v1/upses").expect("GET /api/v1/upses");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    json["upses"]
        .as_array()
        .expect("upses")
        .iter()
        .map(|u| u["ups"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// nut-web with `args`, notifying `socket`; waits for READY=1.
fn start(dir: &Path, socket: &NotifySocket, args: &[&str]) -> (Daemon, u16) {
    start_with_env(dir, socket, args, &[])
}

fn start_with_env(
    dir: &Path,
    socket: &NotifySocket,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Daemon, u16) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nut-web"));
    cmd.env("NUT_CONFPATH", dir)
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .envs(env.iter().copied())
        .env("NOTIFY_SOCKET", socket.path())
        .env_remove("NUT_WEB_USERNAME")
        .env_remove("NUT_WEB_PASSWORD")
        .arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .args(args);
    let web = Daemon::spawn("nut-web", cmd);
    wait(socket, 0, "READY=1", &web);
    (web, port)
}

#[test]
fn sighup_swaps_the_list_and_a_broken_file_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts.conf");
    // Nothing listens there: each UPS is listed with a connection error, which is all a
    // test of the list needs.
    let dead = free_port();
    std::fs::write(&hosts, format!("MONITOR alpha@127.0.0.1:{dead} \"A\"\n")).unwrap();
    let socket = NotifySocket::bind(dir.path());
    let (web, port) = start(dir.path(), &socket, &["-f", hosts.to_str().unwrap()]);
    assert_eq!(listed(port), ["alpha"]);

    std::fs::write(
        &hosts,
        format!("MONITOR beta@127.0.0.1:{dead} \"B\"\nMONITOR gamma@127.0.0.1:{dead} \"\"\n"),
    )
    .unwrap();
    let from = socket.count();
    web.signal(Signal::SIGHUP);
    let reloading = wait(&socket, from, "RELOADING=1", &web);
    wait(&socket, reloading + 1, "READY=1", &web);
    assert_eq!(listed(port), ["beta", "gamma"]);
    let (status, _) = try_get(port, "/metrics?ups=alpha").unwrap();
    assert_eq!(status, 404, "the removed UPS is gone for new requests");

    // Line 2 is broken: the reload fails with file:line, and beta/gamma are still served.
    std::fs::write(&hosts, "MONITOR delta@127.0.0.1:1 \"D\"\nMONITOR\n").unwrap();
    let from = socket.count();
    web.signal(Signal::SIGHUP);
    let reloading = wait(&socket, from, "RELOADING=1", &web);
    wait(&socket, reloading + 1, "READY=1", &web);
    let needle = format!("{}:2:", hosts.display());
    let line = wait_until("the reload error in the log", TIMEOUT, || {
        web.output_so_far()
            .lines()
            .find(|l| l.contains(&needle))
            .map(str::to_owned)
    });
    assert!(line.contains("reload failed"), "{line}");
    assert_eq!(
        web.output_so_far().matches(&needle).count(),
        1,
        "one line: {}",
        web.output_so_far()
    );
    assert!(web.is_running(), "{}", web.output_so_far());
    assert_eq!(listed(port), ["beta", "gamma"]);

    // A missing file is a failed reload too, not an exit.
    std::fs::remove_file(&hosts).unwrap();
    let from = socket.count();
    web.signal(Signal::SIGHUP);
    let reloading = wait(&socket, from, "RELOADING=1", &web);
    wait(&socket, reloading + 1, "READY=1", &web);
    assert_eq!(listed(port), ["beta", "gamma"]);

    let from = socket.count();
    web.signal(Signal::SIGTERM);
    wait(&socket, from, "STOPPING=1", &web);
    let status = web.wait_exit(TIMEOUT);
    assert_eq!(status.code(), Some(0), "{}", web.output_so_far());
}

#[test]
fn sighup_reloads_a_monitor_only_list_too() {
    // Without -f nothing is re-read but the command line; the reload still completes.
    let dir = tempfile::tempdir().unwrap();
    let socket = NotifySocket::bind(dir.path());
    let (web, port) = start(dir.path(), &socket, &["-m", "solo@127.0.0.1:1"]);
    let from = socket.count();
    web.signal(Signal::SIGHUP);
    let reloading = wait(&socket, from, "RELOADING=1", &web);
    wait(&socket, reloading + 1, "READY=1", &web);
    assert_eq!(listed(port), ["solo"]);
    // SIGINT must say STOPPING=1 too. Waited for on the socket (its reader is a thread of
    // its own, so checking the collected messages right after the exit was a race).
    let from = socket.count();
    web.signal(Signal::SIGINT);
    wait(&socket, from, "STOPPING=1", &web);
    let status = web.wait_exit(TIMEOUT);
    assert_eq!(status.code(), Some(0), "{}", web.output_so_far());
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    // A "server" that accepts and never answers keeps nut-web's request busy until its
    // reply timeout (-t 1).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let socket = NotifySocket::bind(dir.path());
    let ups = format!("slow@127.0.0.1:{silent_port}");
    let (web, port) = start(dir.path(), &socket, &["-t", "1", "-m", &ups]);

    let request = std::thread::spawn(move || try_get(port, "/api/v1/upses"));
    // nut-web connected to the silent server: the request is in flight.
    let (_held, _) = silent.accept().unwrap();
    let from = socket.count();
    web.signal(Signal::SIGTERM);
    wait(&socket, from, "STOPPING=1", &web);

    let (status, body) = request.join().unwrap().expect("the request in flight");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"slow\""), "{body}");
    let exit = web.wait_exit(TIMEOUT);
    assert_eq!(exit.code(), Some(0), "{}", web.output_so_far());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens after the exit"
    );
}

#[test]
fn pings_the_watchdog_systemd_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let socket = NotifySocket::bind(dir.path());
    // WatchdogSec=1s: a ping at least every half second.
    let (web, _port) = start_with_env(
        dir.path(),
        &socket,
        &["-m", "solo@127.0.0.1:1"],
        &[("WATCHDOG_USEC", "1000000")],
    );
    let first = wait(&socket, 0, "WATCHDOG=1", &web);
    wait(&socket, first + 1, "WATCHDOG=1", &web);
    web.signal(Signal::SIGTERM);
    assert_eq!(
        web.wait_exit(TIMEOUT).code(),
        Some(0),
        "{}",
        web.output_so_far()
    );
}
