//! The APC Smart simulator against Debian's /lib/nut/apcsmart under Debian's upsd.
//!
//! The recording (reconstructed from a NUT DDL dump, see tests/fixtures/serial/
//! PROVENANCE.md) names the NUT variable of every reply in a trailing comment; apcsmart
//! stores those replies verbatim, so upsd must serve exactly them. The recording has no
//! `a` (capabilities) and no `Q` (status) reply: the simulator synthesises `a` from the
//! recorded command set and answers `Q` from its power state.

use nut_harness::Impl;
use nut_rig::bench::{POLL_TIMEOUT, POWER_CUT};
use nut_rig::{Bench, Fault, Power, Protocol, SimConfig, fixture_path};

const FIXTURE: &str = "apcsmart_smart-ups-3000-rm.txt";

fn bench() -> Bench {
    let config = SimConfig::from_fixture(Protocol::ApcSmart, fixture_path(FIXTURE))
        .unwrap_or_else(|e| panic!("{e}"))
        .apc_caps()
        .at_status_query(1, Power::Online);
    Bench::builder(Impl::Debian, "apcsmart", config)
        .key("pollinterval", "1")
        .start()
}

/// `(variable, verbatim reply)` for every recorded line that is not tagged `[derived]`.
fn verbatim_replies() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture_path(FIXTURE)).expect("fixture");
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(" -> ") && !l.contains("[derived"))
        .map(|l| {
            let (_, rest) = l.split_once(" -> ").expect("exchange");
            let (reply, var) = rest.split_once('#').expect("a `# variable` comment");
            (var.trim().to_owned(), reply.trim().to_owned())
        })
        .collect()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn apcsmart_publishes_the_recorded_replies() {
    let want = verbatim_replies();
    assert!(want.len() >= 25, "{want:?}");
    let bench = bench();
    let got = bench.snapshot();
    let wrong: Vec<String> = want
        .iter()
        .filter(|(var, value)| got.vars.get(var) != Some(value))
        .map(|(var, value)| {
            format!(
                "  {var}: want {value:?}, upsd serves {:?}",
                got.vars.get(var)
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(got.vars.get("ups.status").map(String::as_str), Some("OL"));
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn apcsmart_follows_power_changes() {
    let bench = bench();
    bench.wait_status("OL", POLL_TIMEOUT);
    assert_eq!(bench.power_steps(&POWER_CUT), ["OL", "OB", "OB LB"]);
    let status_replies: Vec<Vec<u8>> = bench
        .sim()
        .exchanges()
        .into_iter()
        .filter(|e| e.status_query)
        .filter_map(|e| e.reply)
        .collect();
    for byte in [&b"10\r\n"[..], b"50\r\n"] {
        assert!(
            status_replies.iter().any(|r| r == byte),
            "{status_replies:?}"
        );
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn apcsmart_silence_goes_stale_and_recovers() {
    let bench = bench();
    bench.wait_status("OL", POLL_TIMEOUT);
    bench.sim().set_fault(Some(Fault::Silent));
    bench.wait_stale(POLL_TIMEOUT);
    bench.sim().set_fault(None);
    bench.wait_status("OL", POLL_TIMEOUT);
}
