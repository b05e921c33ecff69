//! nut-usb-probe: open a UPS the way a driver does and print what the transport reads from it, in
//! a stable text form: so the same device spec can be compared through the replay
//! (`port=replay:<spec>`) and as a real kernel USB device (`port=auto`, e.g. in the rig's USB/IP VM).
//!
//!     nut-usb-probe [port] [name=value ...]      (matching options: vendorid=051d product=...)
//!     nut-usb-probe --reattach [port] [name=value ...]
//!
//! The bus location goes to stderr: it is the one thing that differs between the two.
//! `--reattach` waits for the device, reads it (`first ...`), waits until it is gone, waits until
//! the same UPS is back (found again by its identity, wherever it re-enumerated) and reads it again
//! (`second ...`): what a driver's self-healing does. Each wait gives up after 60 s.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use nut_usb::{ControlSetup, DeviceFinder, MatchCriteria, UsbError, UsbOptions, UsbTransport};

const T: Duration = Duration::from_millis(2000);

fn hex(d: &[u8]) -> String {
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    let mut options = UsbOptions::for_port("auto");
    let mut criteria = MatchCriteria::default();
    let mut reattach = false;
    for arg in std::env::args().skip(1) {
        if arg == "--reattach" {
            reattach = true;
            continue;
        }
        match arg.split_once('=') {
            Some((k, v)) if criteria.set(k, v) => {}
            Some(_) => {
                eprintln!("nut-usb-probe: unknown option {arg}");
                return ExitCode::from(2);
            }
            None => options.port = arg,
        }
    }
    options.criteria = criteria;
    let mut finder = match DeviceFinder::new(options) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("nut-usb-probe: {e}");
            return ExitCode::from(2);
        }
    };
    if reattach {
        return match reattach_cycle(&mut finder) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("nut-usb-probe: {e}");
                ExitCode::from(1)
            }
        };
    }
    let mut t = match finder.open(&mut |_| true) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("nut-usb-probe: {e}");
            return ExitCode::from(1);
        }
    };
    probe(t.as_mut());
    ExitCode::SUCCESS
}

fn probe(t: &mut dyn UsbTransport) {
    let id = t.identity().clone();
    eprintln!(
        "location bus={:03} device={:03} port={:?}",
        id.bus, id.device, id.port
    );
    println!(
        "identity {:04x}:{:04x} bcd {:04x} vendor {:?} product {:?} serial {:?}",
        id.vendor_id, id.product_id, id.bcd_device, id.vendor, id.product, id.serial
    );
    match nut_usb::langid::supported_langids(t, T) {
        Ok(l) => println!("langids {l:04x?}"),
        Err(e) => println!("langids: {e}"),
    }
    let get_desc = |ty: u8| ControlSetup {
        request_type: 0x81,
        request: 0x06,
        value: u16::from(ty) << 8,
        index: 0,
    };
    match t.control_in(get_desc(0x21), 9, T) {
        Ok(d) => println!("hid descriptor: {}", hex(&d)),
        Err(e) => println!("hid descriptor: {e}"),
    }
    let len = t
        .control_in(get_desc(0x21), 9, T)
        .ok()
        .filter(|d| d.len() == 9)
        .map_or(4096, |d| u16::from_le_bytes([d[7], d[8]]));
    match t.control_in(get_desc(0x22), len, T) {
        Ok(d) => println!("report descriptor {} bytes: {}", d.len(), hex(&d)),
        Err(e) => println!("report descriptor: {e}"),
    }
    let feature = |request_type, request, id: u8| ControlSetup {
        request_type,
        request,
        value: 0x0300 | u16::from(id),
        index: 0,
    };
    let mut writable = None;
    for id in 1..=255u8 {
        match t.control_in(feature(0xa1, 0x01, id), 64, T) {
            Ok(d) => {
                println!("feature {id:02x}: {}", hex(&d));
                if writable.is_none() && d.len() >= 2 {
                    writable = Some((id, d));
                }
            }
            Err(UsbError::Stall) => {}
            Err(e) => println!("feature {id:02x}: {e}"),
        }
    }
    // SET_REPORT (a control OUT) and read it back: the device stores what it is sent
    if let Some((id, mut d)) = writable {
        let last = d.len() - 1;
        d[last] ^= 0x01;
        match t.control_out(feature(0x21, 0x09, id), &d, T) {
            Ok(n) => println!("set_report {id:02x}: {n} bytes {}", hex(&d)),
            Err(e) => println!("set_report {id:02x}: {e}"),
        }
        match t.control_in(feature(0xa1, 0x01, id), 64, T) {
            Ok(r) => println!("read back {id:02x}: {}", hex(&r)),
            Err(e) => println!("read back {id:02x}: {e}"),
        }
    }
    for i in 1..=5u8 {
        match t.string_ascii(i, 256, T) {
            Ok(s) => println!("string {i}: {}", String::from_utf8_lossy(&s)),
            Err(e) => println!("string {i}: {e}"),
        }
    }
    match t.interrupt_in(0x81, 64, Duration::from_millis(100)) {
        Ok(d) => println!("interrupt: {}", hex(&d)),
        Err(e) => println!("interrupt: {e}"),
    }
}

const WAIT: Duration = Duration::from_secs(60);
const RETRY: Duration = Duration::from_millis(100);

fn open_when_there(finder: &mut DeviceFinder) -> Result<Box<dyn UsbTransport>, String> {
    let deadline = Instant::now() + WAIT;
    loop {
        match finder.open(&mut |_| true) {
            Ok(t) => return Ok(t),
            Err(e) if Instant::now() > deadline => return Err(format!("no device: {e}")),
            Err(_) => std::thread::sleep(RETRY),
        }
    }
}

fn first_feature(t: &mut dyn UsbTransport) -> Result<String, UsbError> {
    for id in 1..=255u8 {
        let setup = ControlSetup {
            request_type: 0xa1,
            request: 0x01,
            value: 0x0300 | u16::from(id),
            index: 0,
        };
        match t.control_in(setup, 64, T) {
            Ok(d) => return Ok(hex(&d)),
            Err(UsbError::Stall) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(UsbError::NotFound)
}

fn reattach_cycle(finder: &mut DeviceFinder) -> Result<(), String> {
    let mut t = open_when_there(finder)?;
    let (id, report) = (
        t.identity().clone(),
        first_feature(t.as_mut()).map_err(|e| e.to_string())?,
    );
    println!(
        "first device={:03} serial={:?} report {report}",
        id.device, id.serial
    );
    let deadline = Instant::now() + WAIT;
    let gone = loop {
        match first_feature(t.as_mut()) {
            Err(e) if e.needs_reconnect() => break e,
            _ if Instant::now() > deadline => return Err("the device did not go away".into()),
            _ => std::thread::sleep(RETRY),
        }
    };
    println!("gone: {gone}");
    drop(t);
    let mut t = open_when_there(finder)?;
    let (again, report) = (
        t.identity().clone(),
        first_feature(t.as_mut()).map_err(|e| e.to_string())?,
    );
    println!(
        "second device={:03} serial={:?} report {report}",
        again.device, again.serial
    );
    Ok(())
}
