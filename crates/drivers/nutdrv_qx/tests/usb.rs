//! USB subdriver framing: the transfers each subdriver makes for a command and how the reply
//! is put together, checked against NUT 2.8.0's nutdrv_qx.c behaviour and, for the string
//! descriptor subdrivers, against the UPSmart OEM log in
//! tests/fixtures/serial/megatec-upsmart_mec0003_0001-0000.txt (GET_DESCRIPTOR string requests
//! `80 06 <index> 03 09 04 00 66`: index 3 = Q1, 0x0d = F, 0x0c = I, 0x07 -> "UPS No Ack").

use crate::support;
use support::*;

use nutdrv_qx::usb::{
    Recovery, Subdriver, Support, UsbConfig, UsbError, UsbExchange, UsbOp, UsbResult, UsbState,
    UsbStep, select,
};
use nutdrv_qx::{CmdStatus, DetectStep, Detector, Outcome, ProtocolId, Step, Variant};

/// A fake device answering each op with a closure; records the ops.
fn run(
    sub: Subdriver,
    cmd: &[u8],
    cfg: &UsbConfig,
    state: &UsbState,
    mut dev: impl FnMut(&UsbOp) -> UsbResult,
) -> (Vec<UsbOp>, nutdrv_qx::usb::UsbOutcome, UsbState) {
    let mut x = UsbExchange::new(sub, cmd, cfg, state);
    let mut ops = Vec::new();
    let mut step = x.step(None);
    loop {
        match step {
            UsbStep::Op(op) => {
                let r = dev(&op);
                ops.push(op);
                assert!(ops.len() < 500, "runaway exchange");
                step = x.step(Some(r));
            }
            UsbStep::Done(o) => return (ops, o, x.state()),
        }
    }
}

/// Serve `reply` in `chunk`-byte interrupt reads (then time out); writes succeed.
fn chunked(reply: &[u8], chunk: usize) -> impl FnMut(&UsbOp) -> UsbResult {
    let mut pos = 0;
    let reply = reply.to_vec();
    move |op| match op {
        UsbOp::ControlOut { data, .. } | UsbOp::InterruptOut { data, .. } => {
            UsbResult::Written(data.len())
        }
        UsbOp::InterruptIn { length, .. } => {
            if pos >= reply.len() {
                return UsbResult::Err(UsbError::Timeout);
            }
            let n = (*length).min(chunk).min(reply.len() - pos);
            let d = reply[pos..pos + n].to_vec();
            pos += n;
            UsbResult::Data(d)
        }
        _ => UsbResult::Written(0),
    }
}

const Q1: &[u8] = b"(232.0 000.0 232.0 000 49.9 13.6 29.0 00001000\r";

fn class_write(data: &[u8], value: u16, timeout_ms: u32) -> UsbOp {
    UsbOp::ControlOut {
        request_type: 0x21,
        request: 0x09,
        value,
        index: 0,
        data: data.to_vec(),
        timeout_ms,
    }
}
fn intr_in(length: usize) -> UsbOp {
    UsbOp::InterruptIn {
        endpoint: 0x81,
        length,
        timeout_ms: 1000,
    }
}

#[test]
fn cypress_writes_8_byte_reports_and_reads_until_cr() {
    let (ops, out, _) = run(
        Subdriver::Cypress,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(Q1, 8),
    );
    assert_eq!(ops[0], class_write(b"Q1\r\0\0\0\0\0", 0x200, 5000));
    assert_eq!(ops[1..], vec![intr_in(8); 6][..]);
    assert_eq!(out.buf, Q1);
    assert_eq!(out.ret, Ok(47));
    // A timeout while reading is an error for the engine (not "no reply").
    let (_, out, _) = run(
        Subdriver::Cypress,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(b"(23", 8),
    );
    assert_eq!(out.ret, Err(UsbError::Timeout));
    assert_eq!(out.recovery(), Recovery::None);
    // Long commands go out in several reports.
    let (ops, _, _) = run(
        Subdriver::Cypress,
        b"S.5R0003\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(b"\r", 8),
    );
    assert_eq!(ops[0], class_write(b"S.5R0003", 0x200, 5000));
    assert_eq!(ops[1], class_write(b"\r\0\0\0\0\0\0\0", 0x200, 5000));
}

#[test]
fn phoenix_flushes_first_and_clears_a_stall() {
    let mut n = 0;
    let (ops, out, _) = run(
        Subdriver::Phoenix,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        move |op| {
            n += 1;
            match (n, op) {
                (1, _) => UsbResult::Data(b"junk".to_vec()),
                (2, _) => UsbResult::Err(UsbError::Pipe),
                (_, UsbOp::InterruptIn { .. }) => UsbResult::Data(b"(1\r".to_vec()),
                (_, UsbOp::ControlOut { data, .. }) => UsbResult::Written(data.len()),
                _ => UsbResult::Written(0),
            }
        },
    );
    assert_eq!(ops[0], intr_in(8));
    assert_eq!(ops[2], UsbOp::ClearHalt { endpoint: 0x81 });
    assert_eq!(ops[3], class_write(b"Q1\r\0\0\0\0\0", 0x200, 1000));
    assert_eq!(out.buf, b"(1\r");
}

#[test]
fn ippon_reads_one_64_byte_report() {
    let mut rep = b"(229.4\r".to_vec();
    rep.resize(64, 0);
    let (ops, out, _) = run(
        Subdriver::Ippon,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(&rep, 64),
    );
    assert_eq!(
        ops,
        [class_write(b"Q1\r\0\0\0\0\0", 0x2, 1000), intr_in(64)]
    );
    assert_eq!((out.buf.as_slice(), out.ret), (&b"(229.4\r"[..], Ok(7)));
    // No CR: the length of the string, and a CR is added.
    let mut rep = b"ACK".to_vec();
    rep.resize(64, 0);
    let (_, out, _) = run(
        Subdriver::Ippon,
        b"Q\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(&rep, 64),
    );
    assert_eq!((out.buf.as_slice(), out.ret), (&b"ACK\r"[..], Ok(4)));
}

#[test]
fn sgs_uses_length_prefixed_chunks() {
    let reply: Vec<u8> = [&[7u8][..], b"(232.0 ", &[3], b"000"].concat();
    let mut pos = 0;
    let (ops, out, _) = run(
        Subdriver::Sgs,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        move |op| match op {
            UsbOp::ControlOut { data, .. } => UsbResult::Written(data.len()),
            UsbOp::InterruptIn { .. } => {
                let r = if pos == 0 {
                    reply[..8].to_vec()
                } else if pos == 8 {
                    [&reply[8..], &[0u8; 4][..]].concat()
                } else {
                    return UsbResult::Err(UsbError::Timeout);
                };
                pos += 8;
                UsbResult::Data(r)
            }
            _ => UsbResult::Written(0),
        },
    );
    assert_eq!(ops[0], class_write(b"\x03Q1\r\0\0\0\0", 0x200, 5000));
    assert_eq!(out.buf, b"(232.0 000\r");
    assert_eq!(out.ret, Ok(11));
}

/// A string-descriptor device: index -> text; index 0 = language list (0x0409).
fn strings_dev(map: Vec<(u8, &'static str)>) -> impl FnMut(&UsbOp) -> UsbResult {
    move |op| match op {
        UsbOp::ControlIn {
            request_type: 0x80,
            request: 6,
            value,
            length,
            ..
        } => {
            let idx = (*value & 0xff) as u8;
            let mut d = if idx == 0 {
                vec![4, 3, 0x09, 0x04]
            } else {
                match map.iter().find(|(i, _)| *i == idx) {
                    Some((_, s)) => {
                        let mut d = vec![0, 3];
                        for c in s.bytes() {
                            d.extend([c, 0]);
                        }
                        d[0] = d.len() as u8;
                        d
                    }
                    None => return UsbResult::Err(UsbError::Pipe),
                }
            };
            d.truncate(usize::from(*length));
            UsbResult::Data(d)
        }
        UsbOp::InterruptIn { .. } => UsbResult::Err(UsbError::Timeout),
        _ => UsbResult::Written(0),
    }
}

fn get_desc(index: u8, langid: u16, length: u16) -> UsbOp {
    UsbOp::ControlIn {
        request_type: 0x80,
        request: 6,
        value: 0x0300 | u16::from(index),
        index: langid,
        length,
        timeout_ms: 1000,
    }
}

#[test]
fn krauler_maps_commands_to_string_indexes() {
    let map = vec![
        (3, "x232.0 000.0 232.0 000 49.9 13.6 29.0 00001000"),
        (7, "UPS No Ack"),
    ];
    // Without langid_fix: libusb's ASCII string read (language list, then the string).
    let (ops, out, _) = run(
        Subdriver::Krauler,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        strings_dev(map.clone()),
    );
    assert_eq!(ops, [get_desc(0, 0, 255), get_desc(3, 0x0409, 255)]);
    // First byte replaced by '(' and a CR added.
    assert_eq!(out.buf, Q1);
    // With langid_fix: raw descriptor with that language.
    let cfg = UsbConfig {
        langid_fix: Some(0x4095),
        ..Default::default()
    };
    let (ops, out, _) = run(
        Subdriver::Krauler,
        b"Q1\r",
        &cfg,
        &UsbState::default(),
        strings_dev(map.clone()),
    );
    assert_eq!(ops, [get_desc(3, 0x4095, 511)]);
    assert_eq!(out.buf, Q1);
    // "UPS No Ack" is retried 10 times, then nothing.
    let (ops, out, _) = run(
        Subdriver::Krauler,
        b"Q\r",
        &UsbConfig::default(),
        &UsbState::default(),
        strings_dev(map.clone()),
    );
    assert_eq!(ops.len(), 20);
    assert_eq!(out.ret, Ok(0));
    // Unknown commands are echoed without any transfer.
    let (ops, out, _) = run(
        Subdriver::Krauler,
        b"QGS\r",
        &UsbConfig::default(),
        &UsbState::default(),
        strings_dev(map),
    );
    assert!(ops.is_empty());
    assert_eq!(out.buf, b"QGS\r");
}

#[test]
fn fabula_encodes_shutdown_delays_in_the_index() {
    let (ops, out, _) = run(
        Subdriver::Fabula,
        b"S.5R0003\r",
        &UsbConfig::default(),
        &UsbState::default(),
        strings_dev(vec![(0x18, "UPS No Ack")]),
    );
    assert_eq!(ops[1], get_desc(0x18, 0x0409, 255));
    // "UPS No Ack" = done, no data (the engine takes it as a silent success).
    assert_eq!((out.buf.len(), out.ret), (0, Ok(0)));
    for (cmd, index) in [
        (&b"S00R0000\r"[..], 0x10u8),
        (b"S.7R0000\r", 0x30),
        (b"S01R0000\r", 0x60),
        (b"S02\r", 0x78),
        (b"S10R0001\r", 0xf8),
        (b"C\r", 0x0a),
        (b"Q\r", 0x07),
    ] {
        assert_eq!(
            nutdrv_qx::usb::hunnox_index(cmd),
            Some(index),
            "{}",
            String::from_utf8_lossy(cmd)
        );
    }
    assert_eq!(nutdrv_qx::usb::hunnox_index(b"T\r"), None);
}

#[test]
fn fuji_sends_interrupt_frames() {
    let (ops, out, _) = run(
        Subdriver::Fuji,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(&[Q1, &[0u8; 1][..]].concat(), 8),
    );
    assert_eq!(
        ops[0],
        UsbOp::InterruptOut {
            endpoint: 0x02,
            data: vec![0x80, 0x06, 0x03, 0x03, b'Q', b'1', 0, 47],
            timeout_ms: 5000
        }
    );
    assert_eq!(out.buf, Q1);
    // SnRm with m != 0 is cut to Sn; too-long commands are echoed.
    let (ops, _, _) = run(
        Subdriver::Fuji,
        b"S.5R0003\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(b"\r", 8),
    );
    assert_eq!(
        ops[0],
        UsbOp::InterruptOut {
            endpoint: 0x02,
            data: vec![0x80, 0x06, 0x04, 0x03, b'S', b'.', b'5', 0],
            timeout_ms: 5000
        }
    );
    let (ops, out, _) = run(
        Subdriver::Fuji,
        b"S00R0000\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(b"\r", 8),
    );
    assert!(ops.is_empty());
    assert_eq!(out.buf, b"S00R0000\r");
}

#[test]
fn phoenixtec_armac_ablerex() {
    let (ops, out, _) = run(
        Subdriver::Phoenixtec,
        b"T\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(b"", 8),
    );
    assert_eq!(
        ops,
        [UsbOp::ControlOut {
            request_type: 0x42,
            request: 0x0d,
            value: 0,
            index: 0,
            data: b"T\r".to_vec(),
            timeout_ms: 1000
        }]
    );
    assert_eq!(out.ret, Ok(0));
    let (ops, out, _) = run(
        Subdriver::Phoenixtec,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(Q1, 16),
    );
    assert_eq!(ops.len(), 4);
    assert_eq!(out.buf, Q1);

    // Armac: 3-byte chunks out, 6-byte reports in with the count in the low nibble.
    let mut reads = vec![
        vec![0x05, b'(', b'2', b'3', b'2', b'.'],
        vec![0x02, b'0', b'\r', 0, 0, 0],
        vec![0x00, 0, 0, 0, 0, 0],
    ]
    .into_iter();
    let (ops, out, _) = run(
        Subdriver::Armac,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        move |op| match op {
            UsbOp::ControlOut { data, .. } => UsbResult::Written(data.len()),
            UsbOp::InterruptIn { .. } => UsbResult::Data(reads.next().unwrap_or_default()),
            _ => UsbResult::Written(0),
        },
    );
    assert_eq!(ops[0], class_write(&[0xa3, b'Q', b'1', b'\r'], 0x200, 5000));
    assert!(ops.contains(&UsbOp::Wait { ms: 15 }));
    assert_eq!(out.buf, b"(232.0\r");
    let (ops, _, _) = run(
        Subdriver::Armac,
        b"QGS\r",
        &UsbConfig::default(),
        &UsbState::default(),
        chunked(b"", 8),
    );
    assert!(ops.is_empty());

    // Ablerex: SET_REPORT 0x305, wait, GET_REPORT 0x305; a Q1 reply must be 47 bytes.
    let (ops, out, _) = run(
        Subdriver::Ablerex,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        |op| match op {
            UsbOp::ControlIn { .. } => UsbResult::Data(Q1.to_vec()),
            _ => UsbResult::Written(47),
        },
    );
    let mut set = vec![0u8; 47];
    set[..7].copy_from_slice(&[0x05, 0, 3, b'Q', b'1', b'\r', 0]);
    assert_eq!(ops[0], class_write(&set, 0x305, 1000));
    assert_eq!(ops[1], UsbOp::Wait { ms: 500 });
    assert_eq!(
        ops[2],
        UsbOp::ControlIn {
            request_type: 0xA1,
            request: 0x01,
            value: 0x305,
            index: 0,
            length: 47,
            timeout_ms: 1000
        }
    );
    assert_eq!(out.buf, Q1);
    assert_eq!(out.ret, Ok(47));
    // A short Q1 reply is asked for again (3 times), then nothing.
    let (ops, out, _) = run(
        Subdriver::Ablerex,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        |op| match op {
            UsbOp::ControlIn { .. } => UsbResult::Data(b"(232.0\r".to_vec()),
            _ => UsbResult::Written(47),
        },
    );
    assert_eq!(ops.len(), 9);
    assert_eq!(out.ret, Ok(0));
}

#[test]
fn errors_map_to_nut_recovery() {
    let (_, out, _) = run(
        Subdriver::Cypress,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        |_| UsbResult::Err(UsbError::NoDevice),
    );
    assert_eq!(out.recovery(), Recovery::Reopen);
    let (_, out, _) = run(
        Subdriver::Cypress,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        |_| UsbResult::Err(UsbError::Busy),
    );
    assert_eq!(out.recovery(), Recovery::Fatal);
    let (_, out, _) = run(
        Subdriver::Cypress,
        b"Q1\r",
        &UsbConfig::default(),
        &UsbState::default(),
        |_| UsbResult::Err(UsbError::Pipe),
    );
    assert_eq!(out.recovery(), Recovery::ClearHaltOrReset);
}

#[test]
fn vid_pid_selection_like_nut() {
    use Subdriver::*;
    let q = Variant::NutdrvQx;
    assert_eq!(
        select(q, 0x0665, 0x5161, None, None),
        Support::Supported(Cypress)
    );
    assert_eq!(
        select(q, 0x0001, 0x0000, Some("MEC"), Some("MEC0003")),
        Support::Supported(Fabula)
    );
    assert_eq!(
        select(q, 0x0001, 0x0000, None, Some("MEC0003")),
        Support::Supported(Hunnox)
    );
    assert_eq!(
        select(
            q,
            0x0001,
            0x0000,
            Some("ATCL FOR UPS"),
            Some("atcl for ups")
        ),
        Support::Supported(Fuji)
    );
    assert_eq!(
        select(q, 0x0001, 0x0000, None, None),
        Support::Supported(Krauler)
    );
    assert_eq!(
        select(
            q,
            0x06da,
            0x0002,
            Some("Phoenixtec Power"),
            Some("USB Cable (V2.00)")
        ),
        Support::Supported(Phoenixtec)
    );
    assert_eq!(
        select(q, 0x06da, 0x0002, None, None),
        Support::Supported(Cypress)
    );
    assert_eq!(
        select(q, 0xffff, 0x0000, None, None),
        Support::Supported(Ablerex)
    );
    assert_eq!(
        select(Variant::BlazerUsb, 0xffff, 0x0000, None, None),
        Support::Supported(Krauler)
    );
    assert_eq!(
        select(q, 0x0925, 0x1234, None, None),
        Support::Supported(Armac)
    );
    assert_eq!(
        select(q, 0x06da, 0x9999, None, None),
        Support::PossiblySupported
    );
    assert_eq!(select(q, 0x1234, 0x5678, None, None), Support::NotSupported);
    assert_eq!(Subdriver::all(q).len(), 12);
    assert_eq!(Subdriver::all(Variant::BlazerUsb).len(), 4);
}

/// UPSmart (0001:0000 "MEC0003" -> hunnox) end to end with langid_fix=0x409: the string
/// requests are those of the OEM log (index 3, 0x0d, 0x0c with language 0x0409, 102 bytes),
/// after hunnox's handshake; beeper.toggle (index 7) gets "UPS No Ack" = accepted.
#[test]
fn upsmart_over_hunnox_end_to_end() {
    let rec = Device::from_fixture("megatec-upsmart_mec0003_0001-0000.txt");
    let text = |c: &str| String::from_utf8(rec.replies[c].clone()).unwrap();
    // The recorded strings as the device holds them (with the CR the log does not show).
    let q1 = text("Q1");
    let f = text("F");
    let i = "#UPSMART         MEC0003    V3.8      \r".to_string();
    let map: Vec<(u8, &'static str)> = vec![
        (3, Box::leak(q1.into_boxed_str())),
        (0x0d, Box::leak(f.into_boxed_str())),
        (0x0c, Box::leak(i.into_boxed_str())),
        (0x01, "MEC0003"),
        (0x07, "UPS No Ack"),
    ];
    let mut dev = strings_dev(map);
    let cfg = UsbConfig {
        langid_fix: Some(0x0409),
        ..Default::default()
    };
    let mut state = UsbState::default();
    let mut log: Vec<UsbOp> = Vec::new();
    let mut exchange = |cmd: &[u8], state: &mut UsbState, log: &mut Vec<UsbOp>| {
        let (ops, out, st) = run(Subdriver::Hunnox, cmd, &cfg, state, &mut dev);
        *state = st;
        log.extend(ops);
        out
    };
    let opts = opts(&[("protocol", Some("megatec"))]);
    let mut d = Detector::new(opts);
    let mut step = d.start();
    let mut qx = loop {
        match step {
            DetectStep::Send(b) => {
                let out = exchange(&b, &mut state, &mut log);
                step = d.feed(out.reply());
            }
            DetectStep::Found(qx) => break qx,
            DetectStep::NotSupported => panic!("not claimed"),
        }
    };
    assert_eq!(qx.protocol().id, ProtocolId::Megatec);
    let mut drive =
        |qx: &mut nutdrv_qx::Qx, mut s: Step, state: &mut UsbState, log: &mut Vec<UsbOp>| loop {
            match s {
                Step::Send(b) => {
                    let out = exchange(&b, state, log);
                    s = qx.feed(out.reply());
                }
                Step::Done(o) => return o,
            }
        };
    let s = qx.init(0.0);
    assert_eq!(
        drive(&mut qx, s, &mut state, &mut log),
        Outcome::Init(Ok(()))
    );
    assert_eq!(qx.getinfo("device.model"), Some("MEC0003"));
    assert_eq!(qx.getinfo("battery.voltage.nominal"), Some("12.0"));
    assert_eq!(qx.getinfo("input.voltage"), Some("232.0"));
    // Handshake on the first command: strings 0, 0, 1 (1026 bytes), a 10 ms pause.
    assert_eq!(
        log[..4],
        [
            get_desc(0, 0x409, 1026),
            get_desc(0, 0x409, 1026),
            get_desc(1, 0x409, 1026),
            UsbOp::Wait { ms: 10 }
        ]
    );
    // Every command request is GET_DESCRIPTOR(string, index) with language 0x0409, 102 bytes.
    let idx: Vec<u8> = log
        .iter()
        .filter_map(|o| match o {
            UsbOp::ControlIn {
                value, length: 102, ..
            } => Some((*value & 0xff) as u8),
            _ => None,
        })
        .collect();
    assert!(idx.iter().all(|i| [3, 0x0d, 0x0c].contains(i)), "{idx:?}");
    let s = qx.instcmd("beeper.toggle", None);
    assert_eq!(
        drive(&mut qx, s, &mut state, &mut log),
        Outcome::InstCmd(CmdStatus::Handled)
    );
    assert_eq!(log.last(), Some(&get_desc(7, 0x409, 102)));
}

#[test]
fn blazer_usb_framing_differences() {
    let blazer = UsbConfig {
        blazer: true,
        ..Default::default()
    };
    // krauler: no CR added; only an exact "UPS No Ack" is retried.
    let map = vec![(3, "x232.0 000.0 232.0 000 49.9 13.6 29.0 00001000")];
    let (_, out, _) = run(
        Subdriver::Krauler,
        b"Q1\r",
        &blazer,
        &UsbState::default(),
        strings_dev(map),
    );
    assert_eq!(out.buf, &Q1[..46]);
    assert_eq!(out.ret, Ok(46));
    // ippon: up to and including the first CR, stopping at a NUL.
    let mut rep = b"(229.4\r".to_vec();
    rep.resize(64, 0);
    let (_, out, _) = run(
        Subdriver::Ippon,
        b"Q1\r",
        &blazer,
        &UsbState::default(),
        chunked(&rep, 64),
    );
    assert_eq!((out.buf.as_slice(), out.ret), (&b"(229.4\r"[..], Ok(7)));
    let mut rep = b"ACK".to_vec();
    rep.resize(64, 0);
    let (_, out, _) = run(
        Subdriver::Ippon,
        b"Q\r",
        &blazer,
        &UsbState::default(),
        chunked(&rep, 64),
    );
    assert_eq!((out.buf.as_slice(), out.ret), (&b"ACK"[..], Ok(4)));
}
