//! The framework's failure semantics wired to a driver and a transport, on a virtual
//! clock: what the state tree publishes after scripted failures.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nut_core::sock::DriverMsg;

use super::*;
use crate::executor::Executor;
use crate::{DriverError, DriverInfo, Transport};

/// A transport whose opens succeed or fail as scripted (then succeed).
#[derive(Default)]
struct Link {
    open: bool,
    opens: u32,
    fail_opens: u32,
}

impl Transport for Link {
    async fn open(&mut self) -> Result<(), DriverError> {
        self.opens += 1;
        if self.fail_opens > 0 {
            self.fail_opens -= 1;
            return Err(DriverError::Disconnected("no device".into()));
        }
        self.open = true;
        Ok(())
    }
    fn close(&mut self) {
        self.open = false;
    }
}

/// A driver whose polls fail as scripted (then succeed, publishing `ups.status`).
struct Scripted {
    polls: VecDeque<Result<(), DriverError>>,
}

impl Driver for Scripted {
    type Transport = Link;
    async fn init_info(&mut self, io: &mut Link, state: &mut State) -> Result<(), DriverError> {
        assert!(io.open, "init_info runs on an open transport");
        state.set_info("ups.status", "OL");
        Ok(())
    }
    async fn update_info(
        &mut self,
        io: &mut Link,
        _now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        assert!(io.open, "polls run on an open transport");
        let r = self.polls.pop_front().unwrap_or(Ok(()));
        if r.is_ok() {
            state.set_info("ups.status", "OL");
        }
        r
    }
    async fn handle_event(
        &mut self,
        io: &mut Link,
        _now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        assert!(io.open, "events are handled on an open transport");
        state.set_info("ups.status", "OB");
        Ok(())
    }
}

static INFO: DriverInfo = DriverInfo {
    name: "test",
    description: "test",
    version: "0",
    vars: &[],
};

fn device(polls: Vec<Result<(), DriverError>>, fail_opens: u32) -> Device<Scripted> {
    let cli = crate::cli::parse(
        "test",
        &["-s".into(), "u".into(), "-x".into(), "port=x".into()],
    )
    .expect("cli");
    let cfg = config::build(&INFO, &cli, None).expect("config");
    let link = Link {
        fail_opens,
        ..Link::default()
    };
    Device::new(
        Scripted {
            polls: polls.into(),
        },
        link,
        &cfg,
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

/// The socket messages the last steps queued, as text.
fn changes(dev: &mut Device<Scripted>) -> Vec<String> {
    dev.state
        .tree_mut()
        .take_changes()
        .iter()
        .map(DriverMsg::to_line)
        .map(|l| l.trim_end().to_owned())
        .collect()
}

fn timeout() -> DriverError {
    DriverError::Timeout("Q1".into())
}

#[test]
fn silent_device_goes_stale_on_the_fifth_failed_poll_and_recovers() {
    rt().block_on(async {
        let mut dev = device((0..6).map(|_| Err(timeout())).collect(), 0);
        dev.init().await.expect("init");
        let t0 = Instant::now();
        dev.poll(t0).await; // fails
        let _ = changes(&mut dev);
        for n in 2..=4 {
            dev.poll(t0).await;
            assert!(
                !changes(&mut dev).contains(&"DATASTALE".to_owned()),
                "stale after {n} failures"
            );
        }
        dev.poll(t0).await;
        assert_eq!(changes(&mut dev), ["DATASTALE"]);
        dev.poll(t0).await; // sixth failure: still stale, nothing new to say
        assert!(changes(&mut dev).is_empty());
        dev.poll(t0).await; // answers again: initialised at last
        assert_eq!(
            changes(&mut dev),
            ["SETINFO driver.state \"quiet\"", "DATAOK"]
        );
        assert_eq!(dev.transport().opens, 1, "a timeout does not reopen");
        assert_eq!(dev.state().get("driver.state"), Some("quiet"));
    });
}

#[test]
fn a_lost_device_is_reopened_with_backoff_and_reports_driver_state() {
    rt().block_on(async {
        let gone = || DriverError::Disconnected("unplugged".into());
        let mut dev = device(vec![Err(gone())], 2);
        // The first open fails too: init fails (the driver exits at start-up, as NUT's).
        assert!(dev.init().await.is_err());
        dev.io.fail_opens = 2;
        dev.io.open = true;
        let t0 = Instant::now();
        dev.poll(t0).await;
        assert!(dev.is_lost());
        assert!(!dev.transport().open, "closed after the loss");
        let c = changes(&mut dev);
        assert!(c.contains(&"DATASTALE".to_owned()), "{c:?}");
        assert!(
            c.contains(&"SETINFO driver.state \"reconnect.trying\"".to_owned()),
            "{c:?}"
        );
        let poll = Duration::from_secs(2);
        assert_eq!(dev.deadline(t0 + poll * 100), t0 + poll);
        // Two failed reopen attempts, each scheduled later than the one before.
        let mut now = t0 + poll;
        let mut waits = Vec::new();
        for _ in 0..2 {
            dev.reopen(now).await;
            assert!(dev.is_lost());
            let next = dev.deadline(now + poll * 100);
            waits.push(next - now);
            now = next;
        }
        assert!(waits[1] > waits[0], "{waits:?}");
        // The device is back: reopened, polled at once, fresh data.
        dev.reopen(now).await;
        assert!(!dev.is_lost());
        assert_eq!(dev.transport().opens, 1 + 3);
        let c = changes(&mut dev);
        assert_eq!(
            c,
            [
                "SETINFO driver.state \"reconnect.updateinfo\"",
                // init_info failed at start, so this is the first value.
                "SETINFO ups.status \"OL\"",
                "SETINFO driver.state \"quiet\"",
                "DATAOK"
            ]
        );
    });
}

#[test]
fn reconnect_max_tries_zero_exits_when_the_device_is_lost() {
    rt().block_on(async {
        let mut dev = device(vec![Err(DriverError::Disconnected("gone".into()))], 0);
        dev.health = Health::new(
            "u",
            crate::health::ReconnectPolicy {
                max_tries: Some(0),
                report_freq: 0,
            },
        );
        dev.init().await.expect("init");
        dev.poll(Instant::now()).await;
        assert_eq!(dev.exit_requested(), Some(1));
    });
}

#[test]
fn a_non_communication_error_stops_the_driver() {
    rt().block_on(async {
        let mut dev = device(vec![Err(DriverError::new("broken"))], 0);
        dev.init().await.expect("init");
        dev.poll(Instant::now()).await;
        assert_eq!(dev.exit_requested(), Some(1));
    });
}

#[test]
fn device_events_update_the_state_and_their_errors_count_like_failed_polls() {
    rt().block_on(async {
        let mut dev = device(vec![], 0);
        dev.init().await.expect("init");
        let _ = changes(&mut dev);
        dev.event(Ok(()), Instant::now()).await;
        assert_eq!(changes(&mut dev), ["SETINFO ups.status \"OB\""]);
        // The interrupt pipe fails: the device is gone.
        dev.event(Err(DriverError::Disconnected("EIO".into())), Instant::now())
            .await;
        assert!(dev.is_lost());
        assert!(!dev.transport().open);
        assert!(changes(&mut dev).contains(&"DATASTALE".to_owned()));
    });
}

/// A driver that notes when it is polled and stops the driver (a fatal error) at poll
/// `stop_at`. With `TOKIO` its polls await a tokio timer, so its loop runs on tokio.
struct Clocked<const TOKIO: bool> {
    polls: Vec<Instant>,
    stop_at: usize,
}

impl<const TOKIO: bool> Driver for Clocked<TOKIO> {
    type Transport = Link;
    const TOKIO: bool = TOKIO;
    async fn init_info(&mut self, _: &mut Link, _: &mut State) -> Result<(), DriverError> {
        Ok(())
    }
    async fn update_info(
        &mut self,
        _: &mut Link,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        self.polls.push(now);
        if TOKIO {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if self.polls.len() >= self.stop_at {
            return Err(DriverError::Fatal("enough polls".into()));
        }
        state.set_info("ups.status", "OL");
        Ok(())
    }
}

#[test]
fn the_loop_polls_on_its_timer_never_early_and_serves_the_socket_in_between() {
    the_loop_polls_and_serves::<false>();
}

#[test]
fn on_tokio_the_loop_polls_on_its_timer_never_early_and_serves_the_socket_in_between() {
    the_loop_polls_and_serves::<true>();
}

fn the_loop_polls_and_serves<const TOKIO: bool>() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("test-u");
    let cli = crate::cli::parse(
        "test",
        &["-s".into(), "u".into(), "-x".into(), "port=x".into()],
    )
    .expect("cli");
    let cfg = config::build(&INFO, &cli, None).expect("config");
    let interval = Duration::from_millis(100);
    let stop_at = 4;
    let clocked = Clocked::<TOKIO> {
        polls: Vec::new(),
        stop_at,
    };
    let mut dev = Device::new(clocked, Link::default(), &cfg);
    dev.poll_interval = interval;
    // The executor this driver gets in a process.
    let executor = Executor::for_driver::<Clocked<TOKIO>>().expect("executor");
    assert_eq!(
        executor.wake_fd().is_none(),
        TOKIO,
        "the executor the driver asked for"
    );
    let (code, polls, reply) = executor.block_on(async {
        dev.init().await.expect("init");
        let mut reactor = Reactor::new(&executor).expect("reactor");
        let mut server = Server::bind(&socket, None, reactor.epoll()).expect("bind");
        let mut runner = Runner::new(&INFO, cfg, cli, dev, socket.clone());
        let start = Instant::now();
        let client = std::thread::spawn({
            let socket = socket.clone();
            move || {
                use std::io::{BufRead as _, Write as _};
                let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .expect("timeout");
                stream.write_all(b"PING\n").expect("send");
                // Updates are broadcast to every client: skip them to the reply.
                let mut lines = std::io::BufReader::new(stream).lines();
                loop {
                    match lines.next().transpose().expect("reply") {
                        Some(line) if line.starts_with("SETINFO ") || line == "DATAOK" => {}
                        other => break other,
                    }
                }
            }
        });
        let code = runner.main_loop(&mut reactor, &mut server, None).await;
        drop(server);
        let reply = client.join().expect("client");
        let polls: Vec<Duration> = runner
            .dev
            .driver()
            .polls
            .iter()
            .map(|t| *t - start)
            .collect();
        (code, polls, reply)
    });
    assert_eq!(code, 1, "a fatal poll error stops the loop with 1");
    assert_eq!(polls.len(), stop_at, "{polls:?}");
    // The first poll comes one interval after the start, each next one an interval after
    // the previous (the alarm never rings before its deadline).
    assert!(polls[0] >= interval, "first poll too early: {polls:?}");
    for pair in polls.windows(2) {
        assert!(
            pair[1] - pair[0] >= interval,
            "a poll came early: {polls:?}"
        );
    }
    assert_eq!(
        reply.as_deref(),
        Some("PONG"),
        "the socket is served between polls"
    );
}
