//! The small subdrivers (arduino, delta_ups, ever, idowell, legrand, openups, powervar) on
//! synthetic devices (tests/fixtures/hid/synthetic: descriptors built from (path, report id,
//! size, logical range, exponent, value) lists by make_specs.py): the variables and instant
//! commands our engine derives equal what Debian's NUT 2.8.0 usbhid-ups publishes for the same
//! spec through the libusb stand-in (debian-2.8.0/synthetic_*.vars/.cmds, record.sh), driver.*
//! aside. The per-row behaviour each spec exercises is listed at its test.

use std::collections::BTreeMap;

use usbhid_ups::Subdriver;

mod common;
use common::{engine, fixtures};

/// What our core publishes after initialisation and the first update, as Debian's `-d 1`
/// dump shows it: the identity variables set first (as NUT sets them before its first walk,
/// so a table row for one of them only fills a gap); the first update is a quick one (NUT
/// starts its pollfreq clock at initialisation), so no alarms are committed yet; then the
/// framework copies ups.mfr/model/serial to device.* (NUT's main.c does so once after the
/// first update, which is how a table-supplied ups.serial reaches device.serial).
/// With `full`, the first update is a full one (Debian run with `-x pollfreq=-1`): alarms are
/// committed and the non-quick rows re-read.
fn our_vars(name: &str, sub: Subdriver, full: bool) -> (BTreeMap<String, String>, Vec<String>) {
    let (spec, mut engine) = engine(&format!("synthetic/{name}"), sub);
    let s = |i: u8| spec.strings.get(&i).map(String::as_str);
    for (i, t) in &spec.strings {
        engine.set_string(*i, t.clone());
    }
    let mut identity = sub.identity(
        spec.vid,
        spec.pid,
        s(spec.imfr),
        s(spec.iproduct),
        s(spec.iserial),
    );
    if let Some(model) = sub.model_from_report(&engine) {
        for (k, v) in identity.iter_mut() {
            if k == "ups.model" || k == "device.model" {
                *v = model.clone();
            }
        }
    }
    engine.state.vars.extend(identity);
    engine.init();
    let commands = engine.state.commands.iter().cloned().collect();
    engine.update(full);
    let mut vars = engine.state.vars.clone();
    for item in ["mfr", "model", "serial"] {
        if let Some(v) = vars.get(&format!("ups.{item}")).cloned() {
            vars.insert(format!("device.{item}"), v);
        }
    }
    let (status, alarm) = engine.state.committed_status();
    vars.insert("ups.status".into(), status);
    if let Some(a) = alarm {
        vars.insert("ups.alarm".into(), a);
    }
    (vars, commands)
}

fn debian(name: &str, ext: &str) -> Vec<String> {
    let path = fixtures().join(format!("debian-2.8.0/{name}.{ext}"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// Both recordings: the first update quick (as Debian runs by default) and full.
fn check(name: &str, sub: Subdriver) {
    check_mode(name, sub, false);
    check_mode(name, sub, true);
}

fn check_mode(name: &str, sub: Subdriver, full: bool) {
    let (ours, our_cmds) = our_vars(name, sub, full);
    let theirs: BTreeMap<String, String> = debian(name, if full { "full.vars" } else { "vars" })
        .iter()
        .filter(|l| !l.starts_with("driver."))
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap_or((l.trim_end_matches(':'), ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    assert!(theirs.len() > 10, "{name}: Debian's dump is too short");
    let mut diffs = Vec::new();
    for (k, v) in &theirs {
        match ours.get(k) {
            Some(o) if o == v => {}
            other => diffs.push(format!("{k}: debian {v:?}, ours {other:?}")),
        }
    }
    for (k, v) in &ours {
        if !theirs.contains_key(k) {
            diffs.push(format!("{k}: ours {v:?}, debian has none"));
        }
    }
    // Debian logs the table's commands; it adds load.off/load.on (and shutdown.return/stayoff)
    // silently when load.off.delay/load.on.delay are bound.
    // (A table row of the same name is logged like any other: Ever's shutdown.return.)
    let composite = ["load.off", "load.on", "shutdown.return", "shutdown.stayoff"];
    let in_table = |c: &str| sub.table().iter().any(|r| r.name() == c);
    let ours_logged: Vec<String> = our_cmds
        .into_iter()
        .filter(|c| !composite.contains(&c.as_str()) || in_table(c))
        .collect();
    let theirs_cmds = debian(name, "cmds");
    if ours_logged != theirs_cmds {
        diffs.push(format!(
            "commands: debian {theirs_cmds:?}, ours {ours_logged:?}"
        ));
    }
    assert!(
        diffs.is_empty(),
        "{name} (first update {}): {} differences:\n{}",
        if full { "full" } else { "quick" },
        diffs.len(),
        diffs.join("\n")
    );
}

/// openUPS d004: the product's factors (input 3.545, output 2.571, charge 0.08274, discharge
/// 1.6113), %.2f/%.3f formats, the thermistor table interpolated (3.5 → 350 → 8.30 °C),
/// status words on "non-zero" (2-bit fields holding 2 and 3 set CHRG/OL; Good = 2 is not
/// OFF), RB from NeedReplacement, the serial from the device (the table's row unused).
#[test]
fn openups_d004_publishes_as_debian() {
    check("synthetic_openups_d004", Subdriver::Openups);
}

/// openUPS d005: factors 0.1, a thermistor value on a table point (512 → 25, printed as an
/// integer), ups.mfr "openUPS" for a device without a manufacturer string, and ups.serial
/// from the table's iSerialNumber row when the device has no serial string.
#[test]
fn openups_d005_publishes_as_debian() {
    check("synthetic_openups_d005", Subdriver::Openups);
}

/// Arduino: delays (absent defaults 30/20, timers -1/60/-1) and the delay commands only;
/// RemainingCapacity and ACPresent are not in its table (status stays OB).
#[test]
fn arduino_publishes_as_debian() {
    check("synthetic_arduino", Subdriver::Arduino);
}

/// iDowell: every row; charge.low read-only, Flow.[4] nominal values, transfer limits from
/// PowerConverter.Output, load.off/on.delay and shutdown.stop.
#[test]
fn idowell_publishes_as_debian() {
    check("synthetic_idowell", Subdriver::Idowell);
}

/// Legrand Keor SP: the ×10/×10⁵/×10⁶/×10⁷ factors on the PowerConverter/BatterySystem paths,
/// Outlet delays and commands, battery test commands on BatterySystem.Battery.Test.
#[test]
fn legrand_sp_publishes_as_debian() {
    check("synthetic_legrand_sp", Subdriver::Legrand);
}

/// Legrand Keor PDU: the UPS.Input/UPS.Output rows win over the later alternatives;
/// divide-by-10 battery voltages from PowerSummary; Output.Overload → OVER.
#[test]
fn legrand_pdu_publishes_as_debian() {
    check("synthetic_legrand_pdu", Subdriver::Legrand);
}

/// Powervar: battery rows, status bits; the yes/no rows (Good, InternalFailure) change no
/// status.
#[test]
fn powervar_publishes_as_debian() {
    check("synthetic_powervar", Subdriver::Powervar);
}

/// Delta UPS: DeltaCustom.[1] rows (sensitivity lookup, UPS type 0x15 → 3-phase, auto start
/// yes/no), the model name from its string index (ups.model "RT-3K" instead of the USB
/// product), Kelvin battery temperature, output-source lookup, VoltageOutOfRange →
/// input.transfer.reason, Buck → TRIM, FullyCharged hiding CHRG.
#[test]
fn delta_ups_publishes_as_debian() {
    check("synthetic_delta_ups", Subdriver::DeltaUps);
}

/// Ever: version/hardware words, the report-reading conversions (work mode from report 74,
/// messages 75, alarms 76, MAC 210, the four IP addresses cycling 211/230/231/232 and packet
/// counters 215–218 in row order), the EVER18/EVER32 status bits, the on/off word, the rw
/// string/number flags, first-row-wins for output.voltage/ups.load/battery.capacity.
#[test]
fn ever_publishes_as_debian() {
    check("synthetic_ever", Subdriver::Ever);
}
