//! Nothing a spec file, an events file or a driver's transfer can hold panics the replay, and
//! every answer respects the length asked for.

use nut_usb::ControlSetup;
use nut_usb::replay::{Interrupt, ReplayDevice};
use nut_usb::spec::{self, BridgeKind};
use proptest::prelude::*;

fn spec_line() -> impl Strategy<Value = String> {
    let bridge = prop::sample::select(BridgeKind::ALL.to_vec()).prop_map(|b| format!("bridge {b}"));
    prop_oneof![
        "(vid|pid|bcd|langid) [0-9a-f]{1,4}",
        "(bus|devnum|port|imanufacturer|iproduct|iserial) [0-9]{1,3}",
        "iface [0-9]{1,2}",
        "string [0-9]{1,3} .{0,40}",
        "desc( [0-9a-f]{2}){0,40}",
        "(feature|input) [0-9a-f]{2}( [0-9a-f]{2}){1,20}",
        "intr( [0-9a-f]{2}){1,12}",
        "unknown (stall|zero)",
        bridge,
        "q1 (Q1|F|I|Q|T|TL|C|S.5|QGS|M) -> [ -~]{0,60}",
        "q1 (Q1|F|I) -> <none>",
        Just("unplug".to_string()),
        "replug( [0-9]{1,3})?",
        ".{0,80}",
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Control(u8, u8, u16, u16, Vec<u8>, u16),
    IntrIn(u8, usize),
    IntrOut(u8, Vec<u8>),
    Ascii(u8, usize),
    Line(String),
    Open,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            any::<u8>(),
            prop_oneof![
                Just(0x01u8),
                Just(0x06),
                Just(0x09),
                Just(0x0a),
                any::<u8>()
            ],
            any::<u16>(),
            any::<u16>(),
            prop::collection::vec(any::<u8>(), 0..70),
            0u16..1100
        )
            .prop_map(|(a, b, c, d, e, f)| Op::Control(a, b, c, d, e, f)),
        (any::<u8>(), 0usize..80).prop_map(|(a, b)| Op::IntrIn(a, b)),
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(a, b)| Op::IntrOut(a, b)),
        (any::<u8>(), 0usize..300).prop_map(|(a, b)| Op::Ascii(a, b)),
        spec_line().prop_map(Op::Line),
        Just(Op::Open),
    ]
}

proptest! {
    #[test]
    fn parsing_never_panics(text in ".{0,400}", line in spec_line()) {
        let _ = spec::parse(&text);
        let _ = spec::parse_line(&line);
    }

    #[test]
    fn transfers_never_panic_and_respect_lengths(
        lines in prop::collection::vec(spec_line(), 0..30),
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let directives = lines.iter().filter_map(|l| spec::parse_line(l).ok().flatten()).collect();
        let mut d = ReplayDevice::new(directives);
        let mut h = d.open().unwrap_or(0);
        for op in ops {
            match op {
                Op::Control(rt, req, value, index, data, len) => {
                    let setup = ControlSetup { request_type: rt, request: req, value, index };
                    let data = if rt & 0x80 != 0 { Vec::new() } else { data };
                    if let Ok(r) = d.control(h, setup, &data, len) {
                        prop_assert!(r.len() <= usize::from(len));
                    }
                }
                Op::IntrIn(ep, len) => {
                    if let Ok(Interrupt::Data(r)) = d.interrupt_in(h, ep | 0x80, len) {
                        prop_assert!(r.len() <= len);
                    }
                }
                Op::IntrOut(ep, data) => {
                    let _ = d.interrupt_out(h, ep & 0x7f, &data);
                }
                Op::Ascii(idx, len) => {
                    if let Ok(r) = d.string_ascii(h, idx, len) {
                        prop_assert!(r.len() < len.max(1));
                    }
                }
                Op::Line(l) => {
                    if let Ok(Some(x)) = spec::parse_line(&l) {
                        d.apply(x, true);
                    }
                }
                Op::Open => h = d.open().unwrap_or(h),
            }
            let _ = d.take_log();
        }
    }
}
