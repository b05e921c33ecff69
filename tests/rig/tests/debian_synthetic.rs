//! Dialects without a recording against Debian's nutdrv_qx: the Voltronic "P" dialect
//! (QPI/QGS/QRI/QMD/QBV/QFLAG/…) and Best Power's (Q1 + ID). Their tables are synthetic
//! (tests/fixtures/serial/synthetic/): values made up, layouts as NUT 2.8.0's subdrivers
//! parse them. The tests show that the simulator serves them well enough for those
//! subdrivers to claim the unit (auto-detection), publish values and writable enums, and
//! follow the power script on the status bits.

use nut_harness::Impl;
use nut_rig::bench::{POLL_TIMEOUT, POWER_CUT};
use nut_rig::{Bench, Protocol, RwInfo, SimConfig, Snapshot, fixture_path};

fn synthetic(name: &str) -> Bench {
    let path = fixture_path(&format!("synthetic/{name}"));
    let config = SimConfig::from_fixture(Protocol::Megatec, path)
        .unwrap_or_else(|e| panic!("{e}"))
        .fixed();
    Bench::builder(Impl::Debian, "nutdrv_qx", config)
        .key("pollinterval", "1")
        .start()
}

/// Every `(name, value)` must be served as given.
fn assert_vars(got: &Snapshot, want: &[(&str, &str)]) {
    for (name, value) in want {
        assert_eq!(
            got.vars.get(*name).map(String::as_str),
            Some(*value),
            "{name} in {:#?}",
            got.vars
        );
    }
}

fn voltronic() -> Bench {
    synthetic("voltronic-p_synthetic.txt")
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nutdrv_qx_claims_the_voltronic_table_and_publishes_it() {
    let bench = voltronic();
    let got = bench.snapshot_after_polls(2);
    let vars = |name: &str| got.vars.get(name).map(String::as_str);
    // Auto-detection (no `protocol` key) picks the Voltronic subdriver.
    assert_eq!(vars("driver.version.data"), Some("Voltronic 0.06"));
    assert_vars(
        &got,
        &[
            ("input.voltage", "231.4"),
            ("input.frequency", "50.0"),
            ("output.voltage", "230.9"),
            ("output.current", "1.2"),
            ("ups.load", "12"),
            ("battery.voltage", "27.30"),
            ("ups.temperature", "24.0"),
            ("ups.type", "online"),
            ("ups.beeper.status", "enabled"),
            ("ups.status", "OL"),
            ("ups.firmware.aux", "P03"),
            ("output.voltage.nominal", "230.0"),
            ("device.model", "RIG-ONLINE1"),
            ("ups.power.nominal", "1500"),
            ("device.serial", "112233445566"),
            ("ups.firmware", "00123.45"),
            ("battery.charge", "100"),
            ("battery.runtime", "2700"),
        ],
    );
    // QFLAG capabilities become writable enums (2.8.0's upsd also says NUMBER: the
    // variable has no STRING flag).
    let enum_yes_no = RwInfo {
        types: vec!["RW".into(), "ENUM".into(), "NUMBER".into()],
        enums: vec!["no".into(), "yes".into()],
        ranges: Vec::new(),
    };
    assert_eq!(
        got.rw.get("ups.start.auto"),
        Some(&enum_yes_no),
        "{:#?}",
        got.rw
    );
    assert_eq!(vars("ups.start.auto"), Some("no"));
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nutdrv_qx_follows_power_events_in_qgs_bits() {
    let bench = voltronic();
    bench.wait_status("OL", POLL_TIMEOUT);
    assert_eq!(bench.power_steps(&POWER_CUT), ["OL", "OB", "OB LB"]);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nutdrv_qx_claims_the_bestups_table_and_publishes_it() {
    let bench = synthetic("bestups_synthetic.txt");
    let got = bench.snapshot_after_polls(2);
    assert_vars(
        &got,
        &[
            ("driver.version.data", "BestUPS 0.06"),
            // From ID: model code PRO, VA, nominal V, battery low/high.
            ("device.mfr", "Best Power"),
            ("device.model", "Patriot Pro"),
            ("ups.power.nominal", "1000"),
            ("input.voltage.nominal", "230"),
            ("output.voltage.nominal", "230"),
            ("battery.voltage.low", "20.0"),
            ("battery.voltage.high", "27.2"),
            // From Q1.
            ("input.voltage", "229.0"),
            ("output.voltage", "228.0"),
            ("ups.load", "17"),
            ("battery.voltage", "27.00"),
            ("ups.temperature", "26.0"),
            // The Patriot Pro reports the bypass/boost/buck bit inverted: 0 = active.
            ("ups.status", "OL BYPASS"),
        ],
    );
}

/// The recorded Voltronic-QS "H" unit with its `M` reply changed to `V` (the variant NUT
/// 2.8.0 knows): auto-detection then picks Voltronic-QS instead of Mustek, and the
/// recorded QS/F replies read as that subdriver's layout says.
#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nutdrv_qx_claims_voltronic_qs_when_m_says_v() {
    let config = SimConfig::from_fixture(
        Protocol::Megatec,
        fixture_path("voltronic-qs-h_0665-5161_saper2.txt"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .set("M", "V")
    .fixed();
    let bench = Bench::builder(Impl::Debian, "nutdrv_qx", config)
        .key("pollinterval", "1")
        .start();
    let got = bench.snapshot_after_polls(2);
    assert_vars(
        &got,
        &[
            ("driver.version.data", "Voltronic-QS 0.07"),
            ("ups.firmware.aux", "PM-V"),
            // QS: (228.6 228.7 228.6 000 50.0 13.5 --.- 00001000
            ("input.voltage", "228.6"),
            ("input.voltage.fault", "228.7"),
            ("output.voltage", "228.6"),
            ("ups.load", "0"),
            ("output.frequency", "50.0"),
            ("battery.voltage", "13.50"),
            ("ups.status", "OL"),
            ("ups.type", "offline / line interactive"),
            ("ups.beeper.status", "disabled"),
            // F: #230.0 003 12.00 50.0
            ("output.voltage.nominal", "230"),
            ("output.current.nominal", "3.0"),
            ("battery.voltage.nominal", "12.0"),
            ("output.frequency.nominal", "50"),
        ],
    );
    // The recorded "--.-" temperature is not published.
    assert_eq!(got.vars.get("ups.temperature"), None);
}
