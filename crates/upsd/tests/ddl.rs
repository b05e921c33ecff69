//! Every device dump of the NUT Devices Dumps Library (tests/fixtures/ddl), loaded by
//! Debian's dummy-ups, is served by our upsd exactly as by Debian's: LIST VAR, LIST CMD,
//! LIST RW, and GET TYPE / GET DESC of every variable, GET CMDDESC of every command.
//!
//! Both upsds run side by side on the same drivers (the harness's stack runs ours; the test
//! starts Debian's on a second port with the same ups.conf), a batch of UPSes at a time.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use nut_harness::{Conn, Impl, STARTUP_TIMEOUT, Stack, StackBuilder, bin, free_port, poll_until};

const BATCH: usize = 151;
const THREADS: usize = 8;

fn ddl_files() -> Vec<PathBuf> {
    let dir = nut_harness::workspace_root().join("tests/fixtures/ddl");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dev"))
        .collect();
    files.sort();
    files
}

/// A protocol connection for many pipelined requests (a batch can take a while).
fn connect(addr: SocketAddr) -> Conn {
    let mut conn = Conn::connect(addr);
    conn.set_timeout(Duration::from_secs(30));
    conn
}

/// Start Debian's upsd on the stack's drivers, on another port, in a subdirectory.
fn start_debian_upsd(stack: &mut Stack) -> SocketAddr {
    let port = free_port();
    let dir = stack.dir().to_owned();
    let ups_conf = std::fs::read(dir.join("ups.conf")).unwrap();
    let users = std::fs::read(dir.join("upsd.users")).unwrap();
    stack.write_file("debian/upsd.conf", format!("LISTEN 127.0.0.1 {port}\n"));
    stack.write_file("debian/ups.conf", ups_conf);
    stack.write_file("debian/upsd.users", users);
    let conf = dir.join("debian");
    let mut cmd = Command::new(bin(Impl::Debian, "upsd"));
    cmd.arg("-F")
        .env("NUT_CONFPATH", &conf)
        .env("NUT_STATEPATH", &dir)
        .env("NUT_ALTPIDPATH", &conf);
    stack.spawn(cmd);
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn wait_ready(addr: SocketAddr, names: &[String]) {
    let mut client = poll_until(STARTUP_TIMEOUT, || TcpStream::connect(addr).ok())
        .map(|_| connect(addr))
        .expect("Debian's upsd never listened");
    for name in names {
        let ok = poll_until(STARTUP_TIMEOUT, || {
            let r = client
                .pipeline(&[format!("GET VAR {name} ups.status")])
                .remove(0);
            let waiting = r.ends_with("\"WAIT\"\n") || r.starts_with("ERR DRIVER-NOT-CONNECTED");
            (!waiting).then_some(())
        });
        assert!(ok.is_some(), "{name} never became ready on {addr}");
    }
}

/// Everything a client can learn about one UPS, requests pipelined to keep it quick.
fn describe(client: &mut Conn, name: &str) -> String {
    let lists = client.pipeline(&[
        format!("LIST VAR {name}"),
        format!("LIST RW {name}"),
        format!("LIST CMD {name}"),
    ]);
    let mut gets = Vec::new();
    for line in lists[0].lines().filter(|l| l.starts_with("VAR ")) {
        let var = line.split(' ').nth(2).unwrap_or_default();
        gets.push(format!("GET TYPE {name} {var}"));
        gets.push(format!("GET DESC {name} {var}"));
    }
    for line in lists[2].lines().filter(|l| l.starts_with("CMD ")) {
        let cmd = line.split(' ').nth(2).unwrap_or_default();
        gets.push(format!("GET CMDDESC {name} {cmd}"));
    }
    let mut out = lists.concat();
    out.push_str(&client.pipeline(&gets).concat());
    out
}

/// Describe every UPS on both servers, a few connections in parallel.
fn compare(ours: SocketAddr, debian: SocketAddr, names: &[(String, PathBuf)]) -> Vec<String> {
    let chunk = names.len().div_ceil(THREADS).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = names
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut a = connect(debian);
                    let mut b = connect(ours);
                    let mut failures = Vec::new();
                    for (name, file) in part {
                        let theirs = describe(&mut a, name);
                        let mine = describe(&mut b, name);
                        if theirs != mine {
                            failures.push(format!(
                                "{} ({name}):\n--- debian\n{theirs}--- ours\n{mine}",
                                file.display()
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    })
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn ddl_dumps_are_served_like_debian() {
    let files = ddl_files();
    assert!(
        files.len() >= 600,
        "expected the 604 ddl dumps, found {}",
        files.len()
    );
    let mut compared = 0;
    let mut failures = Vec::new();
    for (batch_no, batch) in files.chunks(BATCH).enumerate() {
        // Drivers are started here, all at once: dummy-ups takes about a second to come
        // up, which one after the other would cost ten minutes.
        let mut builder = StackBuilder::new()
            .upsd(Impl::Ours)
            .driver(Impl::Debian)
            .no_upsd();
        let mut names = Vec::new();
        for (i, file) in batch.iter().enumerate() {
            let name = format!("ddl{}", batch_no * BATCH + i);
            let bytes = std::fs::read(file).unwrap();
            builder = builder
                .file(&format!("{name}.dev"), bytes)
                .ups_section(&name, &format!("driver = dummy-ups\nport = {name}.dev"));
            names.push(name);
        }
        let mut stack = builder.start();
        for name in &names {
            let mut cmd = Command::new(bin(Impl::Debian, "dummy-ups"));
            cmd.args(["-F", "-a", name]);
            stack.spawn(cmd);
        }
        for name in &names {
            let socket = stack.dir().join(format!("dummy-ups-{name}"));
            let up = poll_until(STARTUP_TIMEOUT, || socket.exists().then_some(()));
            assert!(
                up.is_some(),
                "driver of {name} never came up:\n{}",
                stack.logs()
            );
        }
        stack.start_upsd();
        wait_ready(stack.addr(), &names);
        let debian = start_debian_upsd(&mut stack);
        wait_ready(debian, &names);
        let pairs: Vec<(String, PathBuf)> = names.into_iter().zip(batch.iter().cloned()).collect();
        compared += pairs.len();
        failures.extend(compare(stack.addr(), debian, &pairs));
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} dumps differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{compared} dumps served identically");
}
