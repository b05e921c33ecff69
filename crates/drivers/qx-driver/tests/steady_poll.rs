//! A poll that finds nothing changed allocates nothing: the whole path of a steady nutdrv_qx
//! poll (the framework's `Device::poll`, the Q1 engine, the link, the failure semantics)
//! reuses its buffers. Why it matters: an idle driver's poll runs on cold caches, and
//! malloc/free alone touched about 30 code lines of one (docs/benchmarks-drivers.md).
//!
//! The allocations are counted per thread by this test binary's allocator, so tests running
//! beside this one do not count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use nut_driver::link::{Exchange, Framer, Reply, Timeouts};
use nut_driver::{Device, DriverError, Transport};
use qx_driver::{NutdrvQx, QxDriver};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // During thread teardown the counter may be gone; such allocations are not ours.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is passed on unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// A Megatec UPS that answers at once and always the same (the status of the UPSmart
/// recording in tests/fixtures/serial); other commands get no answer.
#[derive(Debug, Default)]
struct Megatec {
    open: bool,
}

impl Megatec {
    fn answer(request: &[u8]) -> Option<&'static [u8]> {
        match request {
            b"Q1\r" => Some(b"(232.0 000.0 232.0 000 49.9 13.6 29.0 00001000\r"),
            b"F\r" => Some(b"#230.0 004 12.00 50.0\r"),
            b"I\r" => Some(b"#UPSmart                    V3.8      \r"),
            _ => None,
        }
    }
}

impl Transport for Megatec {
    async fn open(&mut self) -> Result<(), DriverError> {
        self.open = true;
        Ok(())
    }

    fn close(&mut self) {
        self.open = false;
    }
}

impl Exchange for Megatec {
    async fn exchange(
        &mut self,
        request: &[u8],
        reply: Reply,
        _: Timeouts,
        answer: &mut Vec<u8>,
    ) -> Result<(), DriverError> {
        assert!(self.open, "exchange on a closed link");
        let Some(bytes) = Self::answer(request) else {
            answer.clear();
            return Err(DriverError::Timeout("no answer".into()));
        };
        let mut framer = Framer::reusing(reply, std::mem::take(answer));
        framer.push(bytes);
        *answer = framer.into_bytes();
        Ok(())
    }
}

/// Run `f` to its end, which must come without waiting (the link answers at once).
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the operation waited"),
    }
}

fn device() -> Device<QxDriver<NutdrvQx, Megatec>> {
    let args: Vec<String> = [
        "-s",
        "ups",
        "-x",
        "port=/dev/null",
        "-x",
        "protocol=megatec",
    ]
    .map(String::from)
    .to_vec();
    let cli = nut_driver::cli::parse("nutdrv_qx", &args).expect("command line");
    let cfg = nut_driver::config::build(qx_driver::driver_info::<NutdrvQx>(), &cli, None)
        .expect("configuration");
    let driver = QxDriver::<NutdrvQx, Megatec>::new(&cfg).expect("driver");
    Device::new(driver, Megatec::default(), &cfg)
}

#[test]
fn a_poll_that_changes_nothing_allocates_nothing() {
    let mut dev = device();
    now(dev.init()).expect("init");
    let t0 = Instant::now();
    let poll = Duration::from_secs(2);
    // The first polls set the values and grow the buffers to their working size.
    for i in 0..3 {
        now(dev.poll(t0 + poll * i));
    }
    assert_eq!(dev.state().get("ups.status"), Some("OL"));
    assert_eq!(dev.state().get("input.voltage"), Some("232.0"));
    for i in 3..10 {
        let before = allocations();
        now(dev.poll(t0 + poll * i));
        let made = allocations() - before;
        assert_eq!(made, 0, "poll {i} allocated {made} times");
    }
    assert_eq!(dev.exit_requested(), None);
    assert!(!dev.is_lost());
}
