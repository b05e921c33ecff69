//! The shutdown (`-k`) of each ported subdriver sends the same SET_REPORT bytes as Debian's
//! NUT 2.8.0 usbhid-ups through the libusb stand-in (tests/fixtures/hid/debian-2.8.0/*.shutdown).

mod common;
use common::{engine, fixtures};
use usbhid_ups::Subdriver;
use usbhid_ups::engine::Action;

fn our_shutdown(name: &str, sub: Subdriver) -> Vec<String> {
    let (_, mut engine) = engine(name, sub);
    engine.init();
    // The stand-in accepts every SET_REPORT, so the first plan is the one performed; no plan:
    // nothing is sent (Debian's driver exits with "Shutdown failed!").
    let plans = engine.shutdown_plans();
    let Some((_, actions)) = plans.into_iter().next() else {
        return Vec::new();
    };
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::SetReport { report_id, data } => Some(format!(
                "set_report 3 {report_id}: {}",
                data.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            Action::WaitMs(_) => None,
        })
        .collect()
}

/// Debian's SET_REPORTs, with one deliberate fix applied: for a report it never managed to
/// read, NUT 2.8.0 sends its zero-filled buffer, report-id byte included (`00` where the id
/// belongs); we send the id (docs/compatibility.md).
fn debian_shutdown(name: &str) -> Vec<String> {
    std::fs::read_to_string(fixtures().join(format!("debian-2.8.0/{name}.shutdown")))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("set_report"))
        .map(|l| {
            let (head, bytes) = l.split_once(": ").unwrap();
            let id: u8 = head.rsplit(' ').next().unwrap().parse().unwrap();
            match bytes.strip_prefix("00") {
                Some(rest) if id != 0 => format!("{head}: {id:02x}{rest}"),
                _ => l.to_string(),
            }
        })
        .collect()
}

#[test]
fn shutdown_sends_what_debian_sends() {
    for (name, sub) in [
        ("apc_back-ups-rs-1000g", Subdriver::Apc),
        ("apc_back-ups-xs-1400u", Subdriver::Apc),
        ("apc_smart-ups-x-750", Subdriver::Apc),
        ("cyberpower_cp1500pfclcd", Subdriver::Cps),
        ("powerwalker_vi-1200-shl", Subdriver::Liebert),
        ("salicru_slc-twin-pro2-3kva", Subdriver::Salicru),
        ("liebert_gxt4", Subdriver::Belkin),
        ("tripplite_09ae-3016", Subdriver::TrippLite),
    ] {
        assert_eq!(our_shutdown(name, sub), debian_shutdown(name), "{name}");
    }
}

/// CyberPower delays are whole minutes on the wire: the 0501's DelayBeforeStartup maps
/// -60…1966020 s onto -1…32767, so NUT's conversion writes floor(seconds / 60). Debian sends
/// 0 for the default ondelay of 30 s (recorded above); other values follow the same rule.
#[test]
fn cyberpower_delays_round_down_to_minutes() {
    for (ondelay, minutes) in [("30", 0u8), ("60", 1), ("119", 1), ("120", 2), ("600", 10)] {
        let (_, mut engine) = engine("cyberpower_cp1500pfclcd", Subdriver::Cps);
        engine.init();
        engine.setvar("ups.delay.start", ondelay).unwrap();
        let actions = engine.instcmd("shutdown.return", None).unwrap();
        let Action::SetReport { report_id, data } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(
            (*report_id, data.as_slice()),
            (0x16, &[0x16, minutes, 0][..]),
            "ondelay {ondelay}"
        );
    }
}
