//! Entry points for fuzz targets (`fuzz/`): arbitrary bytes through the parser, the report
//! codec and the engine. None of them may panic.

use crate::descriptor::ReportDescriptor;
use crate::engine::{Engine, EngineOptions};
use crate::localtime::LocalTime;
use crate::report::{format_g, logical_for_set, physical_value, write_bits};
use crate::subdriver::Subdriver;
use crate::usage::path_to_string;

/// Splits fuzz input: two bytes (little-endian) give the descriptor length, the descriptor
/// follows, the rest are reports.
pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return (&[], &[]);
    };
    rest.split_at(usize::from(u16::from_le_bytes(*len)).min(rest.len()))
}

/// Fuzz the descriptor parser and path naming: the whole input is a descriptor.
pub fn descriptor(data: &[u8]) {
    if let Ok(d) = ReportDescriptor::parse(data) {
        for f in &d.fields {
            let _ = path_to_string(&f.path, Subdriver::Mge.usages());
        }
    }
}

/// Fuzz the report codec: the input is [`split`] into a descriptor and reports;
/// every field is decoded from, and re-encoded into, every report.
pub fn reports(data: &[u8]) {
    let (desc, reports) = split(data);
    let Ok(d) = ReportDescriptor::parse(desc) else {
        return;
    };
    for report in reports.chunks(64) {
        let mut buf = report.to_vec();
        for f in &d.fields {
            let v = physical_value(&buf, f);
            let _ = format_g(v);
            write_bits(&mut buf, f, logical_for_set(f, v));
        }
    }
}

/// Fuzz the engine with the APC, CyberPower, mge, Ever and Tripp Lite tables ([`split`]
/// input) and a time zone with daylight-saving changes: reports filed and interrupt reports,
/// then every command and SET.
pub fn engine(data: &[u8]) {
    let (desc, reports) = split(data);
    let subdrivers = [
        (Subdriver::Apc, 0x051d, 0x0002),
        (Subdriver::Cps, 0x0764, 0x0501),
        (Subdriver::Mge, 0x0463, 0xffff),
        (Subdriver::Ever, 0x2e51, 0xffff),
        (Subdriver::TrippLite, 0x09ae, 0x3016),
    ];
    for (sub, vendor_id, product_id) in subdrivers {
        let Ok(d) = ReportDescriptor::parse(desc) else {
            return;
        };
        let mut e = Engine::new(d, sub.table(), sub.usages(), EngineOptions::default());
        // Half of each 365-day cycle one hour further east.
        e.device_state_mut().local_time = LocalTime::from_fn(|t| {
            if t.rem_euclid(365 * 86_400) < 180 * 86_400 {
                3600
            } else {
                7200
            }
        });
        sub.prepare(vendor_id, product_id, &mut e);
        for r in reports.chunks(16) {
            e.file_report(r);
        }
        e.set_string(1, "650".into());
        let _ = sub.identity_with(&mut e, vendor_id, product_id, None, Some("Evolution"), None);
        e.init();
        for r in reports.chunks(9) {
            e.interrupt_report(r);
        }
        e.update(true);
        e.update(false);
        for row in sub.table() {
            let _ = e.instcmd(row.name(), None);
            let _ = e.setvar(row.name(), "1");
            let _ = e.setvar(row.name(), "2021/03/04");
            let _ = e.setvar(row.name(), "02:30:00");
        }
        let _ = e.shutdown_plans();
    }
}
