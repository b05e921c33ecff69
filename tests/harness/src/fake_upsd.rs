//! A scriptable stand-in for upsd, to test clients against servers that misbehave: one that
//! streams an endless LIST, drips its reply a byte at a time, is slow, or sits in the middle
//! and refuses STARTTLS to read the password. Every request line received is recorded.
//!
//! ```no_run
//! use nut_harness::fake_upsd::{FakeUpsd, Reply};
//! let fake = FakeUpsd::start(|line| match line {
//!     "STARTTLS" => Reply::Lines(vec!["ERR FEATURE-NOT-CONFIGURED".into()]),
//!     _ => Reply::EndlessList,
//! });
//! assert!(fake.requests().is_empty());
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake answers to one request line.
#[derive(Clone, Debug)]
pub enum Reply {
    /// These lines (LF added to each).
    Lines(Vec<String>),
    /// `BEGIN LIST VAR <ups>` for the `LIST VAR <ups>` asked, then `VAR` lines without end
    /// (until the client goes away).
    EndlessList,
    /// `head` at once, then `bytes` one at a time with `every` between them (until the client
    /// goes away); `repeat`: start over with `bytes` when done, so the reply never completes.
    Drip {
        /// Sent at once first.
        head: Vec<u8>,
        /// The bytes.
        bytes: Vec<u8>,
        /// Pause between two bytes.
        every: Duration,
        /// Loop forever.
        repeat: bool,
    },
    /// Wait this long, then send the lines.
    After(Duration, Vec<String>),
    /// Close the connection.
    Close,
}

type Script = dyn Fn(&str) -> Reply + Send + Sync;

/// The running fake: a listener on a free loopback port, one thread per connection.
pub struct FakeUpsd {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
    stop: Arc<AtomicBool>,
}

impl FakeUpsd {
    /// Listen on 127.0.0.1 (free port) and answer each request line with `script(line)`.
    pub fn start(script: impl Fn(&str) -> Reply + Send + Sync + 'static) -> FakeUpsd {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake upsd");
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let (log, count, stopped) = (requests.clone(), connections.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                *count.lock().expect("count") += 1;
                let (script, log, stopped) = (script.clone(), log.clone(), stopped.clone());
                std::thread::spawn(move || serve(stream, &*script, &log, &stopped));
            }
        });
        FakeUpsd {
            port,
            requests,
            connections,
            stop,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request line received so far, in order of arrival.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }

    /// How many received lines start with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        *self.connections.lock().expect("count")
    }
}

impl Drop for FakeUpsd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, script: &Script, log: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut out = stream;
    let mut lines = BufReader::new(read_half);
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let request = line.trim_end_matches(['\r', '\n']).to_owned();
        log.lock().expect("log").push(request.clone());
        let done = match script(&request) {
            Reply::Lines(reply) => write_lines(&mut out, &reply),
            Reply::After(delay, reply) => {
                std::thread::sleep(delay);
                write_lines(&mut out, &reply)
            }
            Reply::EndlessList => endless_list(&mut out, &request, stop),
            Reply::Drip {
                head,
                bytes,
                every,
                repeat,
            } => out
                .write_all(&head)
                .map_err(drop)
                .and_then(|()| drip(&mut out, &bytes, every, repeat, stop)),
            Reply::Close => Err(()),
        };
        if done.is_err() || stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

fn write_lines(out: &mut TcpStream, lines: &[String]) -> Result<(), ()> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    out.write_all(text.as_bytes()).map_err(drop)
}

fn endless_list(out: &mut TcpStream, request: &str, stop: &AtomicBool) -> Result<(), ()> {
    let ups = request
        .split_whitespace()
        .nth(2)
        .unwrap_or("ups")
        .to_owned();
    out.write_all(format!("BEGIN LIST VAR {ups}\n").as_bytes())
        .map_err(drop)?;
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut chunk = String::with_capacity(64 * 1024);
        while chunk.len() < 60 * 1024 {
            chunk.push_str(&format!("VAR {ups} v{n} \"1\"\n"));
            n += 1;
        }
        out.write_all(chunk.as_bytes()).map_err(drop)?;
    }
    Err(())
}

fn drip(
    out: &mut TcpStream,
    bytes: &[u8],
    every: Duration,
    repeat: bool,
    stop: &AtomicBool,
) -> Result<(), ()> {
    loop {
        for byte in bytes {
            if stop.load(Ordering::Relaxed) {
                return Err(());
            }
            out.write_all(std::slice::from_ref(byte)).map_err(drop)?;
            std::thread::sleep(every);
        }
        if !repeat {
            return Ok(());
        }
    }
}
