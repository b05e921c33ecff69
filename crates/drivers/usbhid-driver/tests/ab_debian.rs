//! usbhid-ups A/B through upsd, on every recorded HID UPS of tests/fixtures/hid: Debian's
//! NUT 2.8.0 `/lib/nut/usbhid-ups` through the libusb stand-in (LD_PRELOAD
//! tests/rig/usb/fakeusb.c) × Debian's upsd, against ours through the replay transport
//! (`port = "replay:<spec>"`) × our upsd, each with its own transfer log (`FAKEUSB_LOG`) and
//! events file (`FAKEUSB_EVENTS`, read by both readers before every transfer).
//!
//! * `*_lists`: LIST VAR / CMD / RW (types, ENUM and RANGE values) identical once both drivers
//!   have settled — apart from `driver.version*`, the port and `driver.state` (ours only).
//!   The specs without recorded reports (every GET_REPORT stalls) must still give the same
//!   variable set.
//! * `*_power_events`: the device changes its status as a real one does — the status
//!   reports' feature and input values change and the same reports arrive on the interrupt
//!   pipe (`feature`, `input` and `intr` events lines at once) — for OL → OB → OB LB → OL:
//!   the same ups.status sequence on both.
//! * `*_commands`: every instant command (the `*.delay` ones also with a value) and SET VAR
//!   of every writable variable (its ENUM values, RANGE bounds and a few numbers) give the
//!   same client output and send the same SET_REPORT transfers (the `set_report` lines of
//!   both logs), and the variable reads back the same afterwards.
//!
//! A poll is seen in the transfer log as the GET_REPORT of the spec's status report (NUT's
//! quick update re-reads it every poll; with a stalling device the STALL is logged).
//!
//! Needs `cc` and our `usbhid-ups` and `upsd` built (`cargo build -p usbhid-driver -p
//! nut-upsd --bins`).

use std::path::Path;

use nut_harness::{Impl, Stack, StackBuilder, poll_until};
use nut_rig::bench::{POLL_TIMEOUT, UPS};
use nut_rig::usb::{UsbFiles, both_of, get_var, open_dir, settled, snapshot_of};
use nut_rig::{
    Exemptions, Snapshot, build_fakeusb, compare, hid_spec_path, instcmd_client, run_client,
    setvar_client,
};

/// The reports (hex, report ID first) that carry a device's status, for each power state.
struct PowerReports {
    ol: &'static [&'static str],
    ob: &'static [&'static str],
    ob_lb: &'static [&'static str],
}

/// A recorded HID UPS.
struct Device {
    spec: &'static str,
    /// Extra ups.conf lines (both sides).
    section: &'static str,
    /// The feature report whose GET marks a poll (`None`: the driver reads nothing after
    /// start-up, as in explore mode).
    poll_report: Option<u8>,
    /// Status reports for the power-event test, where the recording has them.
    power: Option<PowerReports>,
}

macro_rules! device {
    ($name:ident, $spec:literal, $section:literal, $poll:expr, $power:expr) => {
        const $name: Device = Device {
            spec: $spec,
            section: $section,
            poll_report: $poll,
            power: $power,
        };
    };
}

device!(
    APC_RS_1000G,
    "apc_back-ups-rs-1000g.spec",
    "",
    Some(0x16),
    None
);
// APC: Charging/Discharging/APCStatusFlag (06), ACPresent (13), BelowRemainingCapacityLimit
// and ShutdownImminent (14), PresentStatus bits (16: Charging, Discharging, ACPresent,
// BatteryPresent, BelowRemainingCapacityLimit, …).
device!(
    APC_XS_1400U,
    "apc_back-ups-xs-1400u.spec",
    "",
    Some(0x16),
    Some(PowerReports {
        ol: &["06 00 00 08", "13 01", "14 00 00", "16 0c 00 00 00"],
        ob: &["06 00 01 08", "13 00", "14 00 00", "16 0a 00 00 00"],
        ob_lb: &["06 00 01 08", "13 00", "14 01 00", "16 1a 00 00 00"],
    })
);
device!(
    APC_SMART_X_750,
    "apc_smart-ups-x-750.spec",
    "",
    Some(0x07),
    None
);
// CyberPower: PresentStatus (0b: ACPresent, Charging, Discharging,
// BelowRemainingCapacityLimit, FullyCharged, RemainingTimeLimitExpired).
device!(
    CYBERPOWER_CP1500,
    "cyberpower_cp1500pfclcd.spec",
    "",
    Some(0x0b),
    Some(PowerReports {
        ol: &["0b 11"],
        ob: &["0b 04"],
        ob_lb: &["0b 0c"],
    })
);
// Eaton: PresentStatus (01: ACPresent, BelowRemainingCapacityLimit, Charging,
// CommunicationLost, Discharging, Good, InternalFailure, NeedReplacement; Overload;
// ShutdownImminent).
device!(
    EATON_3S_700,
    "eaton_3s-700.spec",
    "",
    Some(0x01),
    Some(PowerReports {
        ol: &["01 25 00 00"],
        ob: &["01 30 00 00"],
        ob_lb: &["01 32 00 00"],
    })
);
device!(EATON_5E, "eaton_5e.spec", "", Some(0x01), None);
// NUT 2.8.0 does not match 10af:0000 without a productid (PROVENANCE.md).
device!(
    LIEBERT_GXT4,
    "liebert_gxt4.spec",
    "productid = \"0000\"\n",
    Some(0x06),
    None
);
device!(
    POWERWALKER_VI_1200,
    "powerwalker_vi-1200-shl.spec",
    "",
    Some(0x01),
    None
);
device!(
    SALICRU_SLC_3KVA,
    "salicru_slc-twin-pro2-3kva.spec",
    "",
    Some(0x01),
    None
);
device!(
    SANTAK_TG_850,
    "santak_tg-box-850.spec",
    "",
    Some(0x01),
    None
);
device!(
    TRIPPLITE_3016,
    "tripplite_09ae-3016.spec",
    "",
    Some(0x32),
    None
);
// An unknown vendor: only explore mode takes it (PROVENANCE.md).
device!(
    UNKNOWN_5131,
    "unknown-5131_2007.spec",
    "explore\nvendorid = \"5131\"\n",
    None,
    None
);

/// usbhid-ups under upsd, both of one implementation, on one spec.
struct HidBench {
    // The stack (driver) goes before the directory with its log and events file.
    stack: Stack,
    files: UsbFiles,
    which: Impl,
    spec: &'static str,
    poll_report: Option<u8>,
}

impl Drop for HidBench {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.files.log_text();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!(
                "----- last transfers of {} -----\n{}\n----- end -----",
                self.label(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// What a `upscmd` / `upsrw` produced: the client's output and the SET_REPORTs it caused.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    client: String,
    sent: Vec<String>,
}

impl HidBench {
    fn start(which: Impl, device: &Device, so: &Path) -> HidBench {
        let files = UsbFiles::new("hid-ab-");
        let spec = hid_spec_path(device.spec);
        let port = match which {
            Impl::Debian => "auto".to_owned(),
            Impl::Ours => format!("replay:{}", spec.display()),
        };
        let mut builder = files.env(
            StackBuilder::new()
                .upsd(which)
                .device(UPS, which, "usbhid-ups", &port)
                .ups_section(UPS, &format!("pollinterval = 1\n{}", device.section)),
            &spec,
        );
        if which == Impl::Debian {
            // (upsd and the clients get it too; they make no libusb call.)
            builder = builder.env("LD_PRELOAD", &so.to_string_lossy());
        }
        HidBench {
            stack: builder.start(),
            files,
            which,
            spec: device.spec,
            poll_report: device.poll_report,
        }
    }

    fn label(&self) -> String {
        format!("usbhid-ups ({}) on {}", self.which, self.spec)
    }

    fn log_lines(&self) -> Vec<String> {
        self.files.log_lines()
    }

    /// Polls so far: GETs of the status report (answered or stalled).
    fn polls(&self) -> usize {
        let Some(id) = self.poll_report else {
            return 0;
        };
        let mark = format!(" 3 {id}:");
        self.log_lines()
            .iter()
            .filter(|l| l.starts_with("get_report") && l.contains(&mark))
            .count()
    }

    /// Waits until the driver has polled `n` times in all (nothing to wait for when the
    /// driver reads nothing after its start-up).
    fn wait_polls(&self, n: usize) {
        if let Err(e) = self.try_wait_polls(n) {
            panic!("{e}");
        }
    }

    fn try_wait_polls(&self, n: usize) -> Result<(), String> {
        if self.poll_report.is_none() {
            return Ok(());
        }
        let mut seen = 0;
        let ok = poll_until(POLL_TIMEOUT, || {
            seen = self.polls();
            (seen >= n).then_some(())
        });
        ok.ok_or_else(|| {
            format!(
                "{}: only {seen} GETs of the status report in {POLL_TIMEOUT:?} (wanted {n})",
                self.label()
            )
        })
    }

    fn get(&self, var: &str) -> Result<String, String> {
        get_var(&self.stack, var)
    }

    fn snapshot(&self) -> Snapshot {
        snapshot_of(&self.stack, &self.label())
    }

    /// The snapshot once it stays the same over a poll.
    fn settled_snapshot(&self) -> Snapshot {
        settled(
            &self.label(),
            || self.wait_polls(self.polls() + 1),
            || self.snapshot(),
        )
    }

    /// Runs a Debian client through this bench's upsd as the administrator, lets the driver
    /// poll twice and returns the client's output with the SET_REPORTs it caused.
    fn client(&self, program: &str, args: &[String]) -> Outcome {
        let mark = self.log_lines().len();
        let client = run_client(&self.stack, program, args);
        self.wait_polls(self.polls() + 2);
        let lines = self.log_lines();
        Outcome {
            client,
            sent: lines[mark.min(lines.len())..]
                .iter()
                .filter(|l| l.starts_with("set_report"))
                .cloned()
                .collect(),
        }
    }

    fn instcmd(&self, command: &str, extra: Option<&str>) -> Outcome {
        let (program, args) = instcmd_client(&self.stack, command, extra);
        self.client(program, &args)
    }

    fn setvar(&self, var: &str, value: &str) -> Outcome {
        let (program, args) = setvar_client(&self.stack, var, value);
        self.client(program, &args)
    }
}

fn both<T: Send>(l: &HidBench, r: &HidBench, f: impl Fn(&HidBench) -> T + Sync) -> (T, T) {
    both_of(l, r, f)
}

/// Debian's and our bench on `device`, started.
fn start_pair(device: &Device) -> (tempfile::TempDir, HidBench, HidBench) {
    let so_dir = open_dir("hid-ab-so-");
    let so = build_fakeusb(so_dir.path());
    let debian = HidBench::start(Impl::Debian, device, &so);
    let ours = HidBench::start(Impl::Ours, device, &so);
    (so_dir, debian, ours)
}

/// Debian's and our bench on `device`, both past their start-up.
fn pair(device: &Device) -> (tempfile::TempDir, HidBench, HidBench) {
    let (so_dir, debian, ours) = start_pair(device);
    both(&debian, &ours, |b| b.wait_polls(2));
    (so_dir, debian, ours)
}

fn exemptions() -> Exemptions {
    Exemptions::standard().var(
        "driver.state",
        "NUT >= 2.8.1 reconnection state, published by our drivers only (docs/compatibility.md)",
    )
}

fn lists_identical(device: &Device) {
    let (_so, debian, ours) = start_pair(device);
    // A driver that does not poll as Debian's does is compared on what it published at
    // all, and fails after the comparison.
    let ((d, d_polls), (o, o_polls)) = both(&debian, &ours, |b| match b.try_wait_polls(2) {
        Ok(()) => (b.settled_snapshot(), Ok(())),
        Err(e) => (b.snapshot(), Err(e)),
    });
    d_polls.unwrap_or_else(|e| panic!("{e}"));
    // Each side is what it claims: only Debian's port is libusb's `auto`, and Debian's
    // driver recognised the device (its identity is published).
    assert_eq!(
        d.vars.get("driver.parameter.port").map(String::as_str),
        Some("auto")
    );
    assert!(
        d.vars.contains_key("ups.vendorid") && d.vars.len() > 15,
        "{}: {d:?}",
        debian.label()
    );
    if let Err(diff) = compare(&d, &o, &exemptions(), &debian.label(), &ours.label()) {
        let polls = o_polls.err().unwrap_or_default();
        panic!("{}:\n{diff}{polls}", device.spec);
    }
    o_polls.unwrap_or_else(|e| panic!("{e}"));
}

/// The events lines of a device's status change: each report's feature and input values,
/// and the same report queued on the interrupt pipe.
fn status_change(reports: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    for report in reports {
        let id = report.split(' ').next().expect("report id");
        lines.push(format!("feature {id} {report}"));
        lines.push(format!("input {id} {report}"));
    }
    lines.extend(reports.iter().map(|r| format!("intr {r}")));
    lines
}

/// The flags of a ups.status value.
fn flags(status: &str) -> Vec<&str> {
    status.split_whitespace().collect()
}

/// ups.status after each power step (OL as recorded, OB, OB LB, OL), each taken once the
/// step shows and the driver has polled twice more.
fn power_sequence(bench: &HidBench, power: &PowerReports) -> Vec<String> {
    let mut seen = vec![bench.get("ups.status").unwrap_or_else(|e| e)];
    let steps: [(&[&str], &str, bool, bool); 3] = [
        (power.ob, "OB", true, false),
        (power.ob_lb, "OB LB", true, true),
        (power.ol, "OL", false, false),
    ];
    for (reports, name, on_battery, low) in steps {
        bench.files.append_events(&status_change(reports));
        let mut last = String::new();
        let ok = poll_until(POLL_TIMEOUT, || {
            last = bench.get("ups.status").unwrap_or_else(|e| e);
            let f = flags(&last);
            (f.contains(&"OB") == on_battery
                && f.contains(&"OL") != on_battery
                && f.contains(&"LB") == low)
                .then_some(())
        });
        assert!(
            ok.is_some(),
            "{}: ups.status never showed {name} (last {last:?})",
            bench.label()
        );
        bench.wait_polls(bench.polls() + 2);
        seen.push(bench.get("ups.status").unwrap_or_else(|e| e));
    }
    seen
}

fn power_events(device: &Device) {
    let power = device.power.as_ref().expect("a device with status reports");
    let (_so, debian, ours) = pair(device);
    let (d, o) = both(&debian, &ours, |b| power_sequence(b, power));
    eprintln!("{}: Debian {d:?}, ours {o:?}", device.spec);
    assert!(flags(&d[0]).contains(&"OL"), "{}: {d:?}", debian.label());
    assert_eq!(d, o, "{}: Debian | ours", device.spec);
}

/// The values SET VAR is tried with: the ENUM values, the RANGE bounds, else a few numbers
/// (in and out of the usual limits).
fn trial_values(info: &nut_rig::RwInfo) -> Vec<String> {
    if !info.enums.is_empty() {
        return info.enums.clone();
    }
    if !info.ranges.is_empty() {
        return info
            .ranges
            .iter()
            .flat_map(|(min, max)| [min.clone(), max.clone()])
            .collect();
    }
    ["15", "120", "600", "99999"].map(str::to_owned).to_vec()
}

/// NUT 2.8.0 keeps a report's bytes only from a GET_REPORT that succeeded, and SETs a field
/// by patching those bytes: for a report it could never read (the stalling specs) it sends
/// 0 where the report ID belongs. Ours sends the report ID, as HID requires
/// (docs/compatibility.md). Accepted only as exactly that: the same report, Debian's first
/// data byte 00 where ours has the ID, the rest the same.
fn accept_unread_report_id(debian: &mut Outcome, ours: &Outcome) {
    if debian.sent.len() != ours.sent.len() {
        return;
    }
    for (d, o) in debian.sent.iter_mut().zip(&ours.sent) {
        let (Some((dh, dd)), Some((oh, od))) = (d.split_once(": "), o.split_once(": ")) else {
            continue;
        };
        let Some(id) = oh.rsplit(' ').next().and_then(|i| i.parse::<u8>().ok()) else {
            continue;
        };
        if dh == oh
            && id != 0
            && dd.strip_prefix("00") == od.strip_prefix(format!("{id:02x}").as_str())
        {
            *d = o.clone();
        }
    }
}

/// NUT 2.8.0 sets a variable whose value is not in the variable's lookup table by writing
/// -1 into the field (all bits set); ours refuses the value and sends nothing
/// (docs/compatibility.md). Accepted only as exactly that: ours sent nothing, Debian one
/// report whose data after the ID are all `ff`.
fn unknown_value_refused(debian: &Outcome, ours: &Outcome) -> bool {
    ours.sent.is_empty()
        && debian.client == ours.client
        && matches!(&debian.sent[..], [one] if one
            .split_once(": ")
            .is_some_and(|(_, data)| data.split(' ').skip(1).all(|b| b == "ff")))
}

/// Every device command (the `*.delay` ones also with a value) and SET VAR of every
/// writable variable send the same SET_REPORTs; every difference is collected and listed.
fn commands_send_the_same_reports(device: &Device) {
    let (_so, debian, ours) = pair(device);
    let (ds, os) = both(&debian, &ours, HidBench::settled_snapshot);
    assert_eq!(ds.cmds, os.cmds, "{}: LIST CMD", device.spec);
    let mut diffs = Vec::new();
    let mut readback = Vec::new();
    let mut sent_any = false;
    let mut check = |what: String, mut d: Outcome, o: Outcome| {
        sent_any |= !d.sent.is_empty();
        accept_unread_report_id(&mut d, &o);
        if d != o {
            diffs.push(format!("{what}:\n    Debian {d:?}\n    ours   {o:?}"));
        }
    };
    for cmd in ds.device_commands() {
        let mut runs = vec![None];
        if cmd.ends_with(".delay") {
            runs.push(Some("30"));
        }
        for extra in runs {
            let (d, o) = both(&debian, &ours, |b| b.instcmd(cmd, extra));
            check(format!("{cmd} {extra:?}"), d, o);
        }
    }
    let rw: Vec<String> = ds.rw.keys().cloned().collect();
    assert_eq!(
        rw,
        os.rw.keys().cloned().collect::<Vec<_>>(),
        "{}: LIST RW",
        device.spec
    );
    for (var, info) in &ds.rw {
        for value in trial_values(info) {
            let (d, o) = both(&debian, &ours, |b| b.setvar(var, &value));
            if unknown_value_refused(&d, &o) {
                // (Debian's device now holds -1; its value no longer compares.)
                continue;
            }
            check(format!("SET {var} {value}"), d, o);
            let (d, o) = (debian.get(var), ours.get(var));
            if d != o {
                readback.push(format!("{var} after SET {value}: Debian {d:?}, ours {o:?}"));
            }
        }
    }
    diffs.append(&mut readback);
    assert!(
        diffs.is_empty(),
        "{}: {} difference(s):\n{}",
        device.spec,
        diffs.len(),
        diffs.join("\n")
    );
    // The comparison saw the device's side (a device with commands or writable variables
    // got at least one SET_REPORT from Debian's driver).
    if !ds.device_commands().is_empty() || !ds.rw.is_empty() {
        assert!(sent_any, "{}: no SET_REPORT logged at all", device.spec);
    }
}

macro_rules! hid_ab {
    ($($name:ident: $kind:ident, $device:ident;)*) => {$(
        #[test]
        #[ignore = "A/B: needs Debian's NUT 2.8.0 (usbhid-ups, upsd); scripts/test runs it"]
        fn $name() {
            $kind(&$device);
        }
    )*};
}

hid_ab! {
    apc_back_ups_rs_1000g_lists: lists_identical, APC_RS_1000G;
    apc_back_ups_xs_1400u_lists: lists_identical, APC_XS_1400U;
    apc_smart_ups_x_750_lists: lists_identical, APC_SMART_X_750;
    cyberpower_cp1500pfclcd_lists: lists_identical, CYBERPOWER_CP1500;
    eaton_3s_700_lists: lists_identical, EATON_3S_700;
    eaton_5e_lists: lists_identical, EATON_5E;
    liebert_gxt4_lists: lists_identical, LIEBERT_GXT4;
    powerwalker_vi_1200_shl_lists: lists_identical, POWERWALKER_VI_1200;
    salicru_slc_twin_pro2_3kva_lists: lists_identical, SALICRU_SLC_3KVA;
    santak_tg_box_850_lists: lists_identical, SANTAK_TG_850;
    tripplite_09ae_3016_lists: lists_identical, TRIPPLITE_3016;
    unknown_5131_2007_lists: lists_identical, UNKNOWN_5131;
    apc_back_ups_xs_1400u_power_events: power_events, APC_XS_1400U;
    cyberpower_cp1500pfclcd_power_events: power_events, CYBERPOWER_CP1500;
    eaton_3s_700_power_events: power_events, EATON_3S_700;
    apc_back_ups_rs_1000g_commands: commands_send_the_same_reports, APC_RS_1000G;
    apc_back_ups_xs_1400u_commands: commands_send_the_same_reports, APC_XS_1400U;
    apc_smart_ups_x_750_commands: commands_send_the_same_reports, APC_SMART_X_750;
    cyberpower_cp1500pfclcd_commands: commands_send_the_same_reports, CYBERPOWER_CP1500;
    eaton_3s_700_commands: commands_send_the_same_reports, EATON_3S_700;
    eaton_5e_commands: commands_send_the_same_reports, EATON_5E;
    liebert_gxt4_commands: commands_send_the_same_reports, LIEBERT_GXT4;
    powerwalker_vi_1200_shl_commands: commands_send_the_same_reports, POWERWALKER_VI_1200;
    salicru_slc_twin_pro2_3kva_commands: commands_send_the_same_reports, SALICRU_SLC_3KVA;
    santak_tg_box_850_commands: commands_send_the_same_reports, SANTAK_TG_850;
    tripplite_09ae_3016_commands: commands_send_the_same_reports, TRIPPLITE_3016;
}
