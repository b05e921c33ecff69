//! The real transport (nusb over usbfs) on real kernel USB devices: the rig's QEMU guest presents
//! two recorded specs through USB/IP (tests/rig/vm), and `nut-usb-probe` (this crate's
//! example) opens each with `port=auto` and a matching option, claims it and reads identity,
//! LANGIDs, HID and report descriptors, every feature report, a SET_REPORT read back, strings and
//! an interrupt report. The output must equal the same probe through the replay of the
//! same spec. Then the device is detached and attached again (re-enumerated under a new device
//! number) while `nut-usb-probe --reattach` runs: it sees the UPS go and finds the same one again.
//!
//! Needs qemu-system-x86, busybox-static, cpio, kmod and, on the first run, apt access to fetch
//! Debian's kernel package (cached in ~/.cache/hwrig-vm). 45–90 s on 2 shared cores with TCG.

use crate::support;

use std::path::PathBuf;
use std::process::Command;

use support::*;

fn probe_binary() -> PathBuf {
    // target/<profile>/deps/vm-<hash> -> target/<profile>/examples/nut-usb-probe
    let exe = std::env::current_exe().unwrap();
    let p = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/nut-usb-probe");
    assert!(
        p.exists(),
        "{} is missing: `cargo test` builds it; alone: cargo build -p nut-usb --example nut-usb-probe",
        p.display()
    );
    p
}

fn vmrun() -> PathBuf {
    let p = repo_root().join("tests/rig/vm/vmrun.sh");
    assert!(
        p.exists(),
        "{} is missing (tests/rig/vm, the VM recipe, belongs to the repository)",
        p.display()
    );
    for tool in ["qemu-system-x86_64", "cpio", "depmod"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap()
            .status
            .success();
        assert!(
            found,
            "{tool} is missing: install qemu-system-x86 busybox-static cpio kmod"
        );
    }
    p
}

#[test]
#[ignore = "needs QEMU (qemu-system-x86, busybox-static, cpio, kmod; .ci/run installs them); scripts/test runs it"]
fn nusb_on_real_kernel_usb_reads_what_the_replay_serves_and_finds_the_ups_again() {
    let probe = probe_binary();
    let vmrun = vmrun();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("vm");
    // the recorded specs plus one queued interrupt report each (the interrupt IN data path)
    let specs = [
        (
            "eaton",
            "hid/eaton_3s-700.spec",
            "intr 21 64",
            "vendorid=0463",
        ),
        (
            "apc",
            "hid/apc_back-ups-xs-1400u.spec",
            "intr 06 00 01 10",
            "product=.*back-ups.xs.*",
        ),
    ]
    .map(|(name, fixture_spec, intr, criterion)| {
        let spec = tmp.path().join(format!("{name}.spec"));
        let text = std::fs::read_to_string(fixture(fixture_spec)).unwrap();
        std::fs::write(&spec, format!("{text}{intr}\n")).unwrap();
        (name, spec, criterion)
    });
    // one boot, the devices one after the other (guest.sh attaches, runs, detaches)
    let guest = repo_root().join("tests/rig/vm/guest.sh");
    let mut script = String::new();
    for (name, spec, criterion) in &specs {
        script.push_str(&format!(
            "RIG_PREFIX={name}. {} {} {} auto '{criterion}' || exit $?\n",
            guest.display(),
            spec.display(),
            probe.display()
        ));
    }
    // then self-healing on a real bus: the probe waits for the UPS, the device is detached and
    // attached again (re-enumerated), the probe finds the same UPS again by its identity
    let wait_line = |prefix: &str| {
        format!(
            "sh -c 'for i in $(seq 600); do grep -q \"^{prefix} \" re.out && exit 0; sleep 0.1; done; exit 1'"
        )
    };
    let eaton = &specs[0].1;
    script.push_str(&format!(
        "{probe} --reattach auto vendorid=0463 > re.out 2> re.err &\nPID=$!\n\
         RIG_PREFIX=re1. {guest} {spec} {first} || exit $?\n\
         RIG_PREFIX=re2. {guest} {spec} {second} || exit $?\n\
         wait $PID || exit $?\n",
        probe = probe.display(),
        guest = guest.display(),
        spec = eaton.display(),
        first = wait_line("first"),
        second = wait_line("second"),
    ));
    let st = Command::new(&vmrun)
        .arg("-o")
        .arg(&out)
        .args(["-", "sh", "-c", &script])
        .status()
        .unwrap();
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    assert!(
        st.success(),
        "the VM run failed ({st}):\n{}\neaton: {}\napc: {}\nreattach: {}{}",
        read("console.log"),
        read("eaton.cmd.err"),
        read("apc.cmd.err"),
        read("re.out"),
        read("re.err")
    );
    for (name, spec, criterion) in &specs {
        let real = read(&format!("{name}.cmd.out"));
        let replayed = Command::new(&probe)
            .arg(format!("replay:{}", spec.display()))
            .arg(criterion)
            .output()
            .unwrap();
        assert!(replayed.status.success());
        let replayed = String::from_utf8(replayed.stdout).unwrap();
        assert!(
            real.lines().count() > 20,
            "{name}: short probe output from the VM:\n{real}\n{}",
            read(&format!("{name}.cmd.err"))
        );
        assert_same_log(name, &replayed, &real);
        assert!(
            !real.contains("interrupt: Operation timed out"),
            "{name}: {real}"
        );
        // it really went through usbfs: the kernel numbered it
        let location = read(&format!("{name}.cmd.err"));
        assert!(location.contains("location bus="), "{name}: {location}");
    }
    // the same UPS came back under a new device number and was found again
    let re = read("re.out");
    let lines: Vec<&str> = re.lines().collect();
    assert_eq!(lines.len(), 3, "{re}");
    let field = |line: &str, key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {line:?}"))
            .to_string()
    };
    assert!(lines[0].starts_with("first device="), "{re}");
    assert_eq!(
        lines[1], "gone: No such device (it may have been disconnected)",
        "{re}"
    );
    assert!(lines[2].starts_with("second device="), "{re}");
    assert_ne!(
        field(lines[0], "device="),
        field(lines[2], "device="),
        "{re}"
    );
    assert_eq!(
        field(lines[0], "serial="),
        field(lines[2], "serial="),
        "{re}"
    );
    assert_eq!(
        lines[0].split(" report ").nth(1),
        lines[2].split(" report ").nth(1),
        "{re}"
    );
}
