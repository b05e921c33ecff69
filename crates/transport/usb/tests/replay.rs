//! The replay transport, rule by rule, through `DeviceFinder` and the `UsbTransport` trait (what a
//! driver sees), with the transfer log checked line by line.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nut_usb::replay::ReplayOptions;
use nut_usb::{
    ControlSetup, DeviceFinder, MatchCriteria, OpenError, UsbError, UsbOptions, UsbTransport,
};

const T: Duration = Duration::from_millis(1000);

struct Rig {
    _tmp: tempfile::TempDir,
    spec: PathBuf,
    log: PathBuf,
    events: PathBuf,
}

impl Rig {
    fn new(spec_text: &str) -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        let spec = tmp.path().join("dev.spec");
        fs::write(&spec, spec_text).unwrap();
        let events = tmp.path().join("events");
        fs::write(&events, "").unwrap();
        Rig {
            log: tmp.path().join("log"),
            spec,
            events,
            _tmp: tmp,
        }
    }

    fn options(&self, criteria: MatchCriteria) -> UsbOptions {
        UsbOptions {
            port: format!("replay:{}", self.spec.display()),
            criteria,
            replay: ReplayOptions {
                log: Some(self.log.clone()),
                events: Some(self.events.clone()),
            },
            ..UsbOptions::default()
        }
    }

    fn finder(&self) -> DeviceFinder {
        DeviceFinder::new(self.options(MatchCriteria::default())).unwrap()
    }

    fn open(&self) -> (DeviceFinder, Box<dyn UsbTransport>) {
        let mut f = self.finder();
        let t = f.open(&mut |_| true).unwrap();
        (f, t)
    }

    fn event(&self, line: &str) {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&self.events)
            .unwrap();
        f.write_all(line.as_bytes()).unwrap();
    }

    /// The log lines after the "loaded" line(s) and the identity reads of the open.
    fn log_lines(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn log_since(&self, mark: usize) -> Vec<String> {
        self.log_lines()[mark..].to_vec()
    }
}

fn get_descriptor(ty: u8, index: u8, langid: u16) -> ControlSetup {
    ControlSetup {
        request_type: 0x80,
        request: 0x06,
        value: (u16::from(ty) << 8) | u16::from(index),
        index: langid,
    }
}

fn get_report(kind: u8, id: u8) -> ControlSetup {
    ControlSetup {
        request_type: 0xa1,
        request: 0x01,
        value: (u16::from(kind) << 8) | u16::from(id),
        index: 0,
    }
}

fn set_report(kind: u8, id: u8) -> ControlSetup {
    ControlSetup {
        request_type: 0x21,
        request: 0x09,
        value: (u16::from(kind) << 8) | u16::from(id),
        index: 0,
    }
}

const HID: &str = "vid 051d\npid 0002\nbcd 0106\nimanufacturer 3\niproduct 1\niserial 2\n\
                   string 1 Back-UPS XS 1400U\nstring 2 3B1234X56789\nstring 3 Amérícan Power\n\
                   desc 05 84 09 04 a1 01\ndesc c0\nfeature 0c 0c 64\ninput 16 16 08 00\nfeature 16 16 0c 00\n\
                   input 21 21 01\n";

#[test]
fn open_reads_identity_as_nut_and_logs_it() {
    let rig = Rig::new(HID);
    let (_, t) = rig.open();
    let id = t.identity();
    assert_eq!(
        (id.vendor_id, id.product_id, id.bcd_device),
        (0x051d, 0x0002, 0x0106)
    );
    assert_eq!(id.vendor.as_deref(), Some("Am?r?can Power"));
    assert_eq!(id.product.as_deref(), Some("Back-UPS XS 1400U"));
    assert_eq!(id.serial.as_deref(), Some("3B1234X56789"));
    assert_eq!((id.bus, id.device, id.port), (1, 2, Some(1)));
    assert_eq!(
        rig.log_lines(),
        vec![
            format!(
                "loaded {}: 051d:0002, report descriptor 7 bytes, 0 queued interrupt reports",
                rig.spec.display()
            ),
            "string 3: Am?r?can Power".to_string(),
            "string 1: Back-UPS XS 1400U".to_string(),
            "string 2: 3B1234X56789".to_string(),
        ]
    );
}

#[test]
fn descriptors_of_any_length() {
    let rig = Rig::new(HID);
    let (_, mut t) = rig.open();
    let mark = rig.log_lines().len();
    let dev = t.control_in(get_descriptor(1, 0, 0), 18, T).unwrap();
    assert_eq!(
        dev,
        [
            18, 1, 0x10, 0x01, 0, 0, 0, 8, 0x1d, 0x05, 0x02, 0x00, 0x06, 0x01, 3, 1, 2, 1
        ]
    );
    assert_eq!(
        t.control_in(get_descriptor(1, 0, 0), 8, T).unwrap(),
        dev[..8]
    );
    assert_eq!(
        t.control_in(get_descriptor(0x21, 0, 0), 9, T).unwrap(),
        [9, 0x21, 0x10, 0x01, 0, 1, 0x22, 7, 0]
    );
    assert_eq!(
        t.control_in(get_descriptor(0x22, 0, 0), 4096, T).unwrap(),
        [0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0xc0]
    );
    assert_eq!(
        t.control_in(get_descriptor(0x22, 0, 0), 3, T).unwrap(),
        [0x05, 0x84, 0x09]
    );
    assert_eq!(
        t.control_in(get_descriptor(3, 0, 0), 255, T).unwrap(),
        [4, 3, 0x09, 0x04]
    );
    let s = t.string_descriptor(1, 0x0409, 255, T).unwrap();
    assert_eq!(s[..6], [36, 3, b'B', 0, b'a', 0]);
    assert_eq!(s.len(), 36);
    assert_eq!(t.string_descriptor(9, 0x0409, 255, T), Err(UsbError::Stall));
    assert_eq!(
        t.control_in(get_descriptor(2, 0, 0), 9, T),
        Err(UsbError::Stall)
    );
    assert_eq!(t.string_ascii(0, 255, T), Err(UsbError::Stall));
    assert_eq!(t.string_ascii(1, 5, T).unwrap(), b"Back");
    assert_eq!(
        rig.log_since(mark),
        [
            "get_descriptor type 0x01 index 0 len 18 -> 18",
            "get_descriptor type 0x01 index 0 len 8 -> 8",
            "get_descriptor type 0x21 index 0 len 9 -> 9",
            "get_descriptor type 0x22 index 0 len 4096 -> 7",
            "get_descriptor type 0x22 index 0 len 3 -> 3",
            "get_descriptor type 0x03 index 0 len 255 -> 4",
            "get_descriptor type 0x03 index 1 len 255 -> 36",
            "get_descriptor type 0x03 index 9 len 255 -> -9",
            "get_descriptor type 0x02 index 0 len 9 -> -9",
            "string 0 -> STALL",
            "string 1: Back",
        ]
    );
}

#[test]
fn reports_recorded_substituted_stalled_or_zero() {
    let rig = Rig::new(HID);
    let (_, mut t) = rig.open();
    let mark = rig.log_lines().len();
    assert_eq!(
        t.control_in(get_report(3, 0x0c), 64, T).unwrap(),
        [0x0c, 0x64]
    );
    assert_eq!(
        t.control_in(get_report(1, 0x16), 64, T).unwrap(),
        [0x16, 0x08, 0x00]
    );
    assert_eq!(
        t.control_in(get_report(3, 0x16), 2, T).unwrap(),
        [0x16, 0x0c]
    );
    // only recorded as Input: a Feature request gets it (and the other way round)
    assert_eq!(
        t.control_in(get_report(3, 0x21), 8, T).unwrap(),
        [0x21, 0x01]
    );
    assert_eq!(
        t.control_in(get_report(1, 0x0c), 8, T).unwrap(),
        [0x0c, 0x64]
    );
    assert_eq!(
        t.control_in(get_report(3, 0x40), 8, T),
        Err(UsbError::Stall)
    );
    assert_eq!(
        rig.log_since(mark),
        [
            "get_report 3 12: 0c 64",
            "get_report 1 22: 16 08 00",
            "get_report 3 22: 16 0c",
            "get_report 3 33: 21 01",
            "get_report 1 12: 0c 64",
            "get_report STALL 3 64:",
        ]
    );

    let rig = Rig::new(&format!("{HID}unknown zero\n"));
    let (_, mut t) = rig.open();
    let mark = rig.log_lines().len();
    assert_eq!(
        t.control_in(get_report(3, 0x40), 4, T).unwrap(),
        [0x40, 0, 0, 0]
    );
    assert_eq!(rig.log_since(mark), ["get_report zero 3 64: 40 00 00 00"]);
}

#[test]
fn set_report_is_stored_set_idle_accepted_everything_else_stalls() {
    let rig = Rig::new(HID);
    let (_, mut t) = rig.open();
    let mark = rig.log_lines().len();
    assert_eq!(t.control_out(set_report(3, 0x11), &[0x11, 0x0f], T), Ok(2));
    assert_eq!(
        t.control_in(get_report(3, 0x11), 8, T).unwrap(),
        [0x11, 0x0f]
    );
    assert_eq!(t.control_out(set_report(3, 0x0c), &[0x0c, 0x32], T), Ok(2));
    assert_eq!(
        t.control_in(get_report(3, 0x0c), 8, T).unwrap(),
        [0x0c, 0x32]
    );
    let idle = ControlSetup {
        request_type: 0x21,
        request: 0x0a,
        value: 0,
        index: 0,
    };
    assert_eq!(t.control_out(idle, &[], T), Ok(0));
    let vendor = ControlSetup {
        request_type: 0x42,
        request: 0x0d,
        value: 0,
        index: 0,
    };
    assert_eq!(t.control_out(vendor, b"Q1\r", T), Err(UsbError::Stall));
    let status = ControlSetup {
        request_type: 0x80,
        request: 0x00,
        value: 0,
        index: 0,
    };
    assert_eq!(t.control_in(status, 2, T), Err(UsbError::Stall));
    // the direction of the request type must agree with the call
    assert!(matches!(
        t.control_in(set_report(3, 1), 2, T),
        Err(UsbError::InvalidParam(_))
    ));
    assert!(matches!(
        t.control_out(get_report(3, 1), &[1], T),
        Err(UsbError::InvalidParam(_))
    ));
    // the trait's HID helpers make the same requests
    assert_eq!(t.hid_set_report(3, 0x11, 0, &[0x11, 0x0f], T), Ok(2));
    assert_eq!(t.hid_get_report(3, 0x11, 0, 8, T).unwrap(), [0x11, 0x0f]);
    assert_eq!(
        rig.log_since(mark),
        [
            "set_report 3 17: 11 0f",
            "get_report 3 17: 11 0f",
            "set_report 3 12: 0c 32",
            "get_report 3 12: 0c 32",
            "set_idle 0x0000",
            "control rtype=42 req=0d value=0000 index=0000 len=3 -> STALL",
            "control rtype=80 req=00 value=0000 index=0000 len=2 -> STALL",
            "set_report 3 17: 11 0f",
            "get_report 3 17: 11 0f",
        ]
    );
}

#[test]
fn interrupt_queue_in_order_then_timeout_and_events_tailed() {
    let rig = Rig::new(&format!("{HID}intr 06 00 01 10\nintr 06 00 00 10\n"));
    let (_, mut t) = rig.open();
    let mark = rig.log_lines().len();
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), [6, 0, 1, 0x10]);
    assert_eq!(t.interrupt_in(0x81, 2, T).unwrap(), [6, 0]);
    assert_eq!(
        t.interrupt_in(0x81, 8, Duration::from_millis(20)),
        Err(UsbError::Timeout)
    );
    // an incomplete line waits for its newline; complete lines apply before the next transfer
    rig.event("intr 0a 0b\nfeature 0c 0c 2");
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), [0x0a, 0x0b]);
    assert_eq!(
        t.control_in(get_report(3, 0x0c), 8, T).unwrap(),
        [0x0c, 0x64]
    );
    rig.event("1\n# a comment\n");
    assert_eq!(
        t.control_in(get_report(3, 0x0c), 8, T).unwrap(),
        [0x0c, 0x21]
    );
    // a bad event line is logged and ignored; the device keeps serving
    rig.event("frobnicate 3\n");
    assert_eq!(t.interrupt_out(0x02, &[1, 2], T), Ok(2));
    assert_eq!(
        rig.log_since(mark),
        [
            "interrupt 129 4: 06 00 01 10",
            "interrupt 129 2: 06 00",
            "event: intr 0a 0b",
            "interrupt 129 2: 0a 0b",
            "get_report 3 12: 0c 64",
            "event: feature 0c 0c 21",
            "event: # a comment",
            "get_report 3 12: 0c 21",
            "event: frobnicate 3",
            "interrupt_out 2 2: 01 02",
        ]
    );
}

#[test]
fn unplug_and_replug_with_a_new_device_number() {
    let rig = Rig::new(HID);
    let (mut finder, mut old) = rig.open();
    assert_eq!(old.identity().device, 2);
    rig.event("unplug\n");
    assert_eq!(old.interrupt_in(0x81, 8, T), Err(UsbError::NoDevice));
    assert_eq!(
        old.control_in(get_report(3, 0x0c), 8, T),
        Err(UsbError::NoDevice)
    );
    assert_eq!(old.string_ascii(1, 255, T), Err(UsbError::NoDevice));
    assert!(UsbError::NoDevice.needs_reconnect());
    assert!(matches!(
        finder.open(&mut |_| true),
        Err(OpenError::NotFound { listed: 0, .. })
    ));
    rig.event("replug 7\n");
    let mut new = finder.open(&mut |_| true).unwrap();
    assert_eq!(new.identity().device, 7);
    assert_eq!(new.identity().serial.as_deref(), Some("3B1234X56789"));
    assert_eq!(
        new.control_in(get_report(3, 0x0c), 8, T).unwrap(),
        [0x0c, 0x64]
    );
    // the handle from before the unplug stays dead: the device re-enumerated
    assert_eq!(
        old.control_in(get_report(3, 0x0c), 8, T),
        Err(UsbError::NoDevice)
    );
    // replug without a number: same device number, still a new handle
    rig.event("unplug\nreplug\n");
    assert_eq!(new.interrupt_in(0x81, 8, T), Err(UsbError::NoDevice));
    let third = finder.open(&mut |_| true).unwrap();
    assert_eq!(third.identity().device, 7);
    let log = rig.log_lines().join("\n");
    assert!(log.contains(
        "event: unplug\ninterrupt -> NO_DEVICE\ncontrol -> NO_DEVICE\nstring -> NO_DEVICE"
    ));
}

#[test]
fn reopen_only_accepts_the_same_ups() {
    let rig = Rig::new(HID);
    let (mut finder, _t) = rig.open();
    let remembered = finder.remembered().unwrap().clone();
    assert_eq!(remembered.serial.as_deref(), Some("3B1234X56789"));
    // another unit (other serial number) shows up in its place: not ours
    rig.event("unplug\nstring 2 OTHER-UNIT\nreplug 9\n");
    let e = finder.open(&mut |_| true).err().unwrap();
    assert!(matches!(e, OpenError::NotFound { listed: 1, .. }));
    assert!(
        e.to_string().ends_with(
            "; 051d:0002 (vendor \"Am?r?can Power\", product \"Back-UPS XS 1400U\", serial \"OTHER-UNIT\", bus 001, device 009): not the UPS opened before"
        ),
        "{e}"
    );
    rig.event("unplug\nstring 2 3B1234X56789\nreplug 10\n");
    assert_eq!(finder.open(&mut |_| true).unwrap().identity().device, 10);
}

#[test]
fn matching_options_and_the_driver_table_filter_the_device() {
    let rig = Rig::new(HID);
    let crit = |pairs: &[(&str, &str)]| {
        let mut c = MatchCriteria::default();
        for (k, v) in pairs {
            assert!(c.set(k, v));
        }
        c
    };
    let open = |c: MatchCriteria, accept: bool| {
        DeviceFinder::new(rig.options(c))
            .unwrap()
            .open(&mut |_| accept)
    };
    assert!(
        open(
            crit(&[
                ("vendorid", "051D"),
                ("product", "back-ups.*"),
                ("bus", "001")
            ]),
            true
        )
        .is_ok()
    );
    assert!(
        open(
            crit(&[
                ("device", "002"),
                ("busport", "001"),
                ("serial", "3B1234X56789")
            ]),
            true
        )
        .is_ok()
    );
    for (c, option) in [
        (crit(&[("vendorid", "0463")]), "vendorid"),
        (crit(&[("product", "Back-UPS")]), "product"),
        (crit(&[("serial", "")]), "serial"),
        (crit(&[("device", "003")]), "device"),
    ] {
        let e = open(c, true).err().unwrap();
        assert!(matches!(e, OpenError::NotFound { listed: 1, .. }));
        assert!(
            e.to_string()
                .ends_with(&format!(": {option} does not match")),
            "{e}"
        );
    }
    let e = open(MatchCriteria::default(), false).err().unwrap();
    assert!(
        e.to_string().ends_with(": not supported by the driver"),
        "{e}"
    );
    assert!(matches!(
        open(MatchCriteria::default(), false),
        Err(OpenError::NotFound { .. })
    ));
    let e = DeviceFinder::new(rig.options(crit(&[("vendor", "(")])))
        .err()
        .unwrap();
    assert!(
        e.to_string().starts_with("Invalid regular expression: ("),
        "{e}"
    );
}

#[test]
fn spec_errors_name_file_and_line_and_nothing_is_served() {
    let rig = Rig::new("vid 051d\npid 0002\ndesc 05 84\nfeature 0c 0c 6g4\n");
    let e = DeviceFinder::new(rig.options(MatchCriteria::default()))
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:4: '6g4' is not a hex byte (write bytes apart: 'a1 b2')",
            rig.spec.display()
        )
    );
    let missing = UsbOptions {
        port: "replay:/nonexistent/dev.spec".into(),
        ..UsbOptions::default()
    };
    let e = DeviceFinder::new(missing).err().unwrap();
    assert!(
        e.to_string()
            .starts_with("cannot read device spec /nonexistent/dev.spec"),
        "{e}"
    );
    // a spec with neither a report descriptor nor a bridge lists no device
    let rig = Rig::new("vid 051d\npid 0002\n");
    assert!(matches!(
        rig.finder().open(&mut |_| true),
        Err(OpenError::NotFound { listed: 0, .. })
    ));
}

fn q1_rig(bridge: &str, extra: &str) -> Rig {
    Rig::new(&format!(
        "vid 0665\npid 5161\nbridge {bridge}\nq1 Q1 -> (230.0 x\nq1 Q1 -> (231.0 y\nq1 T -> <none>\n{extra}"
    ))
}

fn class_out(value: u16) -> ControlSetup {
    ControlSetup {
        request_type: 0x21,
        request: 0x09,
        value,
        index: 0,
    }
}

#[test]
fn cypress_bridge_chunks_replies_cycles_and_echoes() {
    let rig = q1_rig("cypress", "");
    let (_, mut t) = rig.open();
    let mark = rig.log_lines().len();
    assert_eq!(t.control_out(class_out(0x200), b"Q1\r\0\0\0\0\0", T), Ok(8));
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), b"(230.0 x");
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), b"\r\0\0\0\0\0\0\0");
    assert_eq!(
        t.interrupt_in(0x81, 8, Duration::from_millis(10)),
        Err(UsbError::Timeout)
    );
    // a command across two chunks; bytes after a chunk's first NUL are padding
    t.control_out(class_out(0x200), b"Q\0junk!!", T).unwrap();
    t.control_out(class_out(0x200), b"1\r\0\0\0\0\0\0", T)
        .unwrap();
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), b"(231.0 y");
    t.interrupt_in(0x81, 8, T).unwrap();
    // unknown commands come back as they went (Megatec units echo them); <none> is silence
    t.control_out(class_out(0x200), b"QGS\r\0\0\0\0", T)
        .unwrap();
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), b"QGS\r\0\0\0\0");
    t.control_out(class_out(0x200), b"T\r\0\0\0\0\0\0", T)
        .unwrap();
    assert_eq!(
        t.interrupt_in(0x81, 8, Duration::from_millis(10)),
        Err(UsbError::Timeout)
    );
    // a status change from the events file replaces the cycle
    rig.event("q1 Q1 -> (000.0 OB\n");
    t.control_out(class_out(0x200), b"Q1\r\0\0\0\0\0", T)
        .unwrap();
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), b"(000.0 O");
    let log = rig.log_since(mark);
    assert_eq!(log[0], "set_report 2 0: 51 31 0d 00 00 00 00 00");
    assert_eq!(log[1], "q1 cypress: Q1 -> (230.0 x");
    assert_eq!(log[2], "interrupt 129 8: 28 32 33 30 2e 30 20 78");
    assert!(log.contains(&"q1 cypress: Q1 -> (231.0 y".to_string()));
    assert!(log.contains(&"q1 cypress: QGS -> QGS".to_string()));
    assert!(log.contains(&"q1 cypress: T -> (none)".to_string()));
    assert!(log.contains(&"q1 cypress: Q1 -> (000.0 OB".to_string()));
}

#[test]
fn string_bridges_answer_by_descriptor_index() {
    let rig = q1_rig("krauler", "q1 F -> #220.0 013 72.00 50.0\n");
    let (_, mut t) = rig.open();
    assert_eq!(t.string_ascii(3, 256, T).unwrap(), b"(230.0 x");
    let raw = t.string_descriptor(3, 0x0409, 255, T).unwrap();
    assert_eq!(raw[0] as usize, raw.len());
    assert_eq!(raw[2..6], [b'(', 0, b'2', 0]);
    assert_eq!(
        t.string_ascii(0x0d, 256, T).unwrap(),
        b"#220.0 013 72.00 50.0"
    );
    // a mapped command without a recording: the bridge says "UPS No Ack"; <none>: STALL
    assert_eq!(t.string_ascii(0x0c, 256, T).unwrap(), b"UPS No Ack");
    assert_eq!(t.string_ascii(0x04, 256, T), Err(UsbError::Stall));
    // an index that is no command is an ordinary (here: missing) string
    assert_eq!(t.string_ascii(0x20, 256, T), Err(UsbError::Stall));

    // hunnox and snr devices end their strings with CR (NUT adds none for them)
    let rig = q1_rig("hunnox", "");
    let (_, mut t) = rig.open();
    assert_eq!(t.string_ascii(3, 256, T).unwrap(), b"(230.0 x\r");
    // fabula/hunnox shutdown indexes decode to the Megatec command
    t.string_ascii(0x18, 256, T).unwrap();
    t.string_ascii(0x60, 256, T).unwrap();
    let log = rig.log_lines().join("\n");
    assert!(log.contains("q1 hunnox: S.5 -> UPS No Ack"), "{log}");
    assert!(log.contains("q1 hunnox: S01R0000 -> UPS No Ack"), "{log}");
}

#[test]
fn packet_bridges_frame_as_their_chips() {
    // sgs: 8-byte reports, count byte first
    let rig = q1_rig("sgs", "");
    let (_, mut t) = rig.open();
    t.control_out(class_out(0x200), &[2, b'Q', b'1', 0, 0, 0, 0, 0], T)
        .unwrap();
    t.control_out(class_out(0x200), &[1, b'\r', 0, 0, 0, 0, 0, 0], T)
        .unwrap();
    assert_eq!(
        t.interrupt_in(0x81, 8, T).unwrap(),
        [7, b'(', b'2', b'3', b'0', b'.', b'0', b' ']
    );
    assert_eq!(
        t.interrupt_in(0x81, 8, T).unwrap(),
        [2, b'x', b'\r', 0, 0, 0, 0, 0]
    );

    // armac: 6-byte reports 0xa0|count, an empty one at the end; unknown commands are ignored
    let rig = q1_rig("armac", "");
    let (_, mut t) = rig.open();
    t.control_out(class_out(0x200), &[0xa3, b'Q', b'1', b'\r'], T)
        .unwrap();
    assert_eq!(
        t.interrupt_in(0x81, 6, T).unwrap(),
        [0xa5, b'(', b'2', b'3', b'0', b'.']
    );
    assert_eq!(
        t.interrupt_in(0x81, 6, T).unwrap(),
        [0xa4, b'0', b' ', b'x', b'\r', 0]
    );
    assert_eq!(t.interrupt_in(0x81, 6, T).unwrap(), [0xa0, 0, 0, 0, 0, 0]);
    t.control_out(class_out(0x200), &[0xa3, b'Q', b'S', b'\r'], T)
        .unwrap();
    assert_eq!(
        t.interrupt_in(0x81, 6, Duration::from_millis(10)),
        Err(UsbError::Timeout)
    );

    // ippon: one 64-byte report
    let rig = q1_rig("ippon", "");
    let (_, mut t) = rig.open();
    t.control_out(class_out(0x0002), b"Q1\r\0\xcc\xcc\xac\x6c", T)
        .unwrap();
    let r = t.interrupt_in(0x81, 64, T).unwrap();
    assert_eq!(r.len(), 64);
    assert_eq!(&r[..10], b"(230.0 x\r\0");

    // fuji: interrupt OUT 80 06 <n+1> 03 <cmd> .. <reply length>; 0 = a command, no reply
    let rig = q1_rig("fuji", "");
    let (_, mut t) = rig.open();
    t.interrupt_out(0x02, &[0x80, 0x06, 3, 0x03, b'Q', b'1', 0, 47], T)
        .unwrap();
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), b"(230.0 x");
    assert_eq!(t.interrupt_in(0x81, 8, T).unwrap(), b"\r\0\0\0\0\0\0\0");
    t.interrupt_out(0x02, &[0x80, 0x06, 2, 0x03, b'T', 0, 0, 0], T)
        .unwrap();
    assert_eq!(
        t.interrupt_in(0x81, 8, Duration::from_millis(10)),
        Err(UsbError::Timeout)
    );

    // ablerex: command and reply through feature report 5
    let rig = q1_rig("ablerex", "");
    let (_, mut t) = rig.open();
    let mut cmd = vec![0x05, 0, 3, b'Q', b'1', b'\r'];
    cmd.resize(47, 0xcc);
    t.control_out(class_out(0x0305), &cmd, T).unwrap();
    let r = t.control_in(get_report(3, 5), 47, T).unwrap();
    assert_eq!(r.len(), 47);
    assert_eq!(&r[..10], b"(230.0 x\r\0");
    let log = rig.log_lines().join("\n");
    assert!(log.contains("set_report 3 5: 05 00 03 51 31 0d\n"), "{log}");

    // phoenixtec (Masterguard): a vendor request carries the command; the reply in one transfer;
    // commands NUT expects no answer to get none ("M" is one, "MSO" is not)
    let rig = q1_rig("phoenixtec", "");
    let (_, mut t) = rig.open();
    let vendor = ControlSetup {
        request_type: 0x42,
        request: 0x0d,
        value: 0,
        index: 0,
    };
    assert_eq!(t.control_out(vendor, b"Q1\r", T), Ok(3));
    assert_eq!(t.interrupt_in(0x81, 100, T).unwrap(), b"(230.0 x\r");
    t.control_out(vendor, b"M\r", T).unwrap();
    assert_eq!(
        t.interrupt_in(0x81, 100, Duration::from_millis(10)),
        Err(UsbError::Timeout)
    );
    t.control_out(vendor, b"MSO\r", T).unwrap();
    assert_eq!(t.interrupt_in(0x81, 100, T).unwrap(), b"MSO\r");
    let log = rig.log_lines().join("\n");
    assert!(
        log.contains("vendor_out 0 0: 51 31 0d\nq1 phoenixtec: Q1 -> (230.0 x\n"),
        "{log}"
    );
    assert!(log.contains("q1 phoenixtec: M -> (none)\n"), "{log}");
}

#[test]
fn every_spec_in_the_repository_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures");
    let mut n = 0;
    for sub in ["hid", "usb"] {
        for e in fs::read_dir(root.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "spec") {
                let text = fs::read_to_string(&p).unwrap();
                let d =
                    nut_usb::spec::parse(&text).unwrap_or_else(|e| panic!("{}:{e}", p.display()));
                assert!(d.len() > 3, "{}", p.display());
                n += 1;
            }
        }
    }
    assert_eq!(n, 16, "12 HID specs and 4 Q1-over-USB specs");
}

#[test]
fn langid_list_and_langid_fix_reads() {
    let rig = Rig::new("vid 0001\npid 0000\nlangid 4095\nbridge krauler\nq1 Q1 -> (230.0 x\n");
    let (_, mut t) = rig.open();
    assert_eq!(
        nut_usb::langid::supported_langids(t.as_mut(), T),
        Ok(vec![0x4095])
    );
    // krauler with langid_fix: the raw descriptor, converted as NUT does
    let raw = t.string_descriptor(3, 0x4095, 255, T).unwrap();
    assert_eq!(
        nut_usb::langid::langid_fix_ascii(&raw, 255).unwrap(),
        b"(230.0 x"
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// The event-driven interrupt pipe: queued reports at once; with nothing queued it waits (a
/// wait given up loses nothing) until a line appended to the events file brings a report;
/// an unplug ends the wait with NoDevice.
#[test]
fn interrupt_pipe_waits_for_the_events_file() {
    let rig = Rig::new(&format!("{HID}intr 16 0c 00\n"));
    let (_finder, mut t) = rig.open();
    let mut pipe = t.interrupt_pipe(0x81, 8).unwrap();
    let rt = runtime();
    rt.block_on(async {
        assert_eq!(pipe.next().await, Ok(vec![0x16, 0x0c, 0x00]));
        // Nothing queued: still waiting after a while (the wait is dropped, losing nothing).
        let quiet = tokio::time::timeout(Duration::from_millis(300), pipe.next()).await;
        assert!(quiet.is_err(), "a report out of nowhere: {quiet:?}");
        rig.event("intr 16 08 00 01 02 03 04 05 06 07\n");
        let got = tokio::time::timeout(Duration::from_secs(10), pipe.next()).await;
        // Truncated to the pipe's length, as an interrupt IN of 8 bytes.
        assert_eq!(got, Ok(Ok(vec![0x16, 0x08, 0, 1, 2, 3, 4, 5])));
        rig.event("unplug\n");
        let gone = tokio::time::timeout(Duration::from_secs(10), pipe.next()).await;
        assert_eq!(gone, Ok(Err(UsbError::NoDevice)));
    });
    let log = rig.log_lines().join("\n");
    assert!(
        log.contains("interrupt 129 3: 16 0c 00") && log.contains("interrupt -> NO_DEVICE"),
        "{log}"
    );
    // A pipe of a device that is gone cannot be made.
    assert!(matches!(t.interrupt_pipe(0x81, 8), Err(UsbError::NoDevice)));
}

/// A report that arrives while nobody waits is kept for the next wait, and control transfers
/// go on while a pipe exists.
#[test]
fn interrupt_pipe_keeps_what_arrived_meanwhile() {
    let rig = Rig::new(HID);
    let (_finder, mut t) = rig.open();
    let mut pipe = t.interrupt_pipe(0x81, 64).unwrap();
    rig.event("intr 21 01\nintr 21 00\n");
    assert_eq!(
        t.control_in(get_report(3, 0x0c), 8, T).unwrap(),
        [0x0c, 0x64]
    );
    let rt = runtime();
    rt.block_on(async {
        for want in [vec![0x21, 0x01], vec![0x21, 0x00]] {
            let got = tokio::time::timeout(Duration::from_secs(10), pipe.next()).await;
            assert_eq!(got, Ok(Ok(want)));
        }
    });
}
