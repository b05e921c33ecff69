//! Every device dump of the NUT Devices Dumps Library (tests/fixtures/ddl), loaded by
//! Debian's dummy-ups, is served by our upsd exactly as by Debian's: LIST VAR, LIST CMD,
//! LIST RW, and GET TYPE / GET DESC of every variable, GET CMDDESC of every command.
//!
//! Both upsds run side by side on the same drivers (the harness's stack runs ours; the test
//! starts Debian's on a second port with the same ups.conf), a batch of UPSes at a time.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use nut_harness::{Impl, STARTUP_TIMEOUT, Stack, StackBuilder, bin, free_port, poll_until};

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

/// A line-oriented client that reads whole replies (one line, or BEGIN…END LIST).
struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.set_nodelay(true).unwrap();
        Client {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    fn request(&mut self, line: &str) -> String {
        self.pipeline(&[line.to_owned()]).remove(0)
    }

    /// Send every line at once, then read one reply per line.
    fn pipeline(&mut self, lines: &[String]) -> Vec<String> {
        let mut bytes = String::new();
        for l in lines {
            bytes.push_str(l);
            bytes.push('\n');
        }
        self.writer.write_all(bytes.as_bytes()).unwrap();
        lines.iter().map(|l| self.read_reply(l)).collect()
    }

    fn read_reply(&mut self, line: &str) -> String {
        let mut reply = String::new();
        loop {
            let mut l = String::new();
            let n = self
                .reader
                .read_line(&mut l)
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            if n == 0 {
                panic!("{line}: connection closed");
            }
            let first = reply.is_empty();
            reply.push_str(&l);
            if !(first && l.starts_with("BEGIN LIST")) && (first || l.starts_with("END LIST")) {
                return reply;
            }
        }
    }
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
        .map(|_| Client::connect(addr))
        .expect("Debian's upsd never listened");
    for name in names {
        let ok = poll_until(STARTUP_TIMEOUT, || {
            let r = client.request(&format!("GET VAR {name} ups.status"));
            let waiting = r.ends_with("\"WAIT\"\n") || r.starts_with("ERR DRIVER-NOT-CONNECTED");
            (!waiting).then_some(())
        });
        assert!(ok.is_some(), "{name} never became ready on {addr}");
    }
}

/// Everything a client can learn about one UPS, requests pipelined to keep it quick.
fn describe(client: &mut Client, name: &str) -> String {
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
                    let mut a = Client::connect(debian);
                    let mut b = Client::connect(ours);
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
