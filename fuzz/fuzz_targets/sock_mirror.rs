//! The driver-state mirror (`nut_core::sock::mirror::DriverState`, what upsd keeps of each
//! driver) against the driver's own tree (`nut_core::sock::tree::StateTree`) under arbitrary
//! sequences of driver-side updates. The tree's change messages travel as socket lines
//! (rendered, split into arbitrary chunks, tokenized, parsed) to the mirror, which must then
//! hold exactly what the tree holds; a reconnection (mirror cleared, DUMPALL replayed) must
//! give the same mirror as the incremental updates.
//!
//! One known gap, NUT's own: a driver that clears every wire flag of a variable sends
//! `SETFLAGS <var>` with no flag, which upsd (2.8.0 and ours) ignores as too short, so the
//! mirror keeps the old flags until the next DUMPALL. That case alone is let through.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nut_core::sock::mirror::{Applied, DriverState};
use nut_core::sock::tree::{StateTree, render};
use nut_core::sock::{DriverMsg, ParseError, VarFlags};
use nut_core::token::{Limits, Tokenizer};

/// Variable and command names: a few, in several spellings (lookups ignore ASCII case).
const NAMES: &[&str] = &[
    "ups.status",
    "UPS.Status",
    "battery.charge",
    "input.voltage",
    "ups.id",
    "Ups.Id",
    "load.off",
    "x",
];

#[derive(Arbitrary, Debug)]
enum Op {
    SetInfo(u8, String),
    ForceInfo(u8, String),
    DelInfo(u8),
    AddEnum(u8, String),
    DelEnum(u8, String),
    AddRange(u8, i64, i64),
    DelRange(u8, i64, i64),
    SetAux(u8, i64),
    SetFlags(u8, bool, bool, bool, bool),
    AddCmd(u8),
    DelCmd(u8),
    DataOk,
    DataStale,
    /// Deliver the pending changes, cut into chunks of these sizes.
    Deliver(Vec<u8>),
    /// Connection lost and made again: DUMPALL.
    Reconnect,
}

#[derive(Arbitrary, Debug)]
struct Input {
    ops: Vec<Op>,
}

fn name(i: u8) -> &'static str {
    NAMES[usize::from(i) % NAMES.len()]
}

/// A value as it can cross the socket: printable ASCII (the tokenizer keeps only that, as
/// NUT's does).
fn value(s: &str) -> String {
    s.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(64)
        .collect()
}

/// Feed rendered lines to the mirror through a tokenizer, in chunks of the given sizes.
fn deliver(mirror: &mut DriverState, text: &str, chunks: &[u8]) {
    let mut tok = Tokenizer::new(Limits::default());
    let mut bytes = text.as_bytes();
    let mut sizes = chunks.iter().map(|c| usize::from(*c).max(1)).cycle();
    while !bytes.is_empty() {
        let n = if chunks.is_empty() {
            bytes.len()
        } else {
            sizes.next().unwrap_or(1)
        };
        let (now, rest) = bytes.split_at(n.min(bytes.len()));
        bytes = rest;
        for line in tok.push_slice(now) {
            let words = line.into_result().expect("rendered driver lines tokenize");
            let msg = match DriverMsg::parse(&words) {
                Ok(msg) => msg,
                Err(ParseError::TooFewArgs {
                    command: "SETFLAGS",
                    ..
                }) => continue,
                Err(e) => panic!("rendered driver line does not parse: {words:?}: {e}"),
            };
            let applied = mirror.apply(msg);
            assert!(
                matches!(applied, Applied::State | Applied::DumpDone),
                "{applied:?}"
            );
        }
    }
    assert!(!tok.is_mid_line(), "every rendered line ends with LF");
}

/// The mirror holds what the tree holds (flags as they travel on the wire).
fn assert_same(tree: &StateTree, mirror: &DriverState) {
    let t: Vec<_> = tree.vars().collect();
    let m: Vec<_> = mirror.vars().collect();
    assert_eq!(t.len(), m.len(), "variables: {t:?} vs {m:?}");
    for (a, b) in t.iter().zip(&m) {
        assert!(a.name.eq_ignore_ascii_case(&b.name), "{a:?} vs {b:?}");
        assert_eq!(a.value, b.value, "{}", a.name);
        if !a.flags.is_wire_empty() {
            assert_eq!(a.flags.wire_part(), b.flags.wire_part(), "{}", a.name);
        }
        assert_eq!(a.aux, b.aux, "{}", a.name);
        assert_eq!(a.enums, b.enums, "{}", a.name);
        assert_eq!(a.ranges, b.ranges, "{}", a.name);
        assert_eq!(
            mirror.value(&a.name.to_ascii_uppercase()),
            Some(a.value.as_str())
        );
    }
    let tc: Vec<&str> = tree.commands().collect();
    let mc: Vec<&str> = mirror.commands().collect();
    assert_eq!(tc.len(), mc.len(), "{tc:?} vs {mc:?}");
    for (a, b) in tc.iter().zip(&mc) {
        assert!(a.eq_ignore_ascii_case(b), "{a} vs {b}");
        assert!(mirror.has_command(&a.to_ascii_uppercase()));
    }
    assert_eq!(tree.is_stale(), mirror.is_stale());
}

fn dump(tree: &StateTree) -> DriverState {
    let mut fresh = DriverState::new();
    deliver(&mut fresh, &tree.render_dump_all(), &[]);
    assert!(fresh.dump_done());
    fresh
}

fuzz_target!(|input: Input| {
    let mut tree = StateTree::new();
    let mut mirror = dump(&tree);
    for op in input.ops.into_iter().take(256) {
        match op {
            Op::SetInfo(n, v) => {
                tree.set_info(name(n), &value(&v));
            }
            Op::ForceInfo(n, v) => {
                tree.force_info(name(n), &value(&v));
            }
            Op::DelInfo(n) => {
                tree.del_info(name(n));
            }
            Op::AddEnum(n, v) => {
                tree.add_enum(name(n), &value(&v));
            }
            Op::DelEnum(n, v) => {
                tree.del_enum(name(n), &value(&v));
            }
            Op::AddRange(n, a, b) => {
                tree.add_range(name(n), a, b);
            }
            Op::DelRange(n, a, b) => {
                tree.del_range(name(n), a, b);
            }
            Op::SetAux(n, aux) => {
                tree.set_aux(name(n), aux);
            }
            Op::SetFlags(n, rw, string, number, immutable) => {
                let flags = VarFlags {
                    rw,
                    string,
                    number,
                    immutable,
                };
                tree.set_flags(name(n), flags);
            }
            Op::AddCmd(n) => {
                tree.add_cmd(name(n));
            }
            Op::DelCmd(n) => {
                tree.del_cmd(name(n));
            }
            Op::DataOk => tree.data_ok(),
            Op::DataStale => tree.data_stale(),
            Op::Deliver(chunks) => {
                let text = render(&tree.take_changes());
                deliver(&mut mirror, &text, &chunks);
                assert_same(&tree, &mirror);
            }
            Op::Reconnect => {
                tree.take_changes();
                mirror.clear();
                mirror = dump(&tree);
                assert_same(&tree, &mirror);
            }
        }
    }
    // Whatever happened: delivering the rest converges, and a DUMPALL agrees.
    let text = render(&tree.take_changes());
    deliver(&mut mirror, &text, &[]);
    assert_same(&tree, &mirror);
    let fresh = dump(&tree);
    assert_same(&tree, &fresh);
    assert_eq!(fresh.vars().count(), mirror.vars().count());
});
