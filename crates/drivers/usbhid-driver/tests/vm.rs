//! Our usbhid-ups on the real kernel USB path: the rig's QEMU guest (tests/rig/vm) presents
//! two recorded HID UPSes (APC Back-UPS XS 1400U, CyberPower CP1500PFCLCD) and the synthetic
//! Arduino and Powervar devices (HID on interface 2 and 1, as NUT 2.8.0's arduino and powervar
//! subdrivers expect) one after the other as real USB devices through USB/IP, and our driver — nusb over usbfs, `port=auto` and a matching
//! option — dumps what it publishes (`-d 1`). Each dump must equal the dump of the same driver
//! through its replay transport (`port=replay:<spec>`) on the same spec, the transport the
//! A/B tests against Debian's usbhid-ups use (tests/ab_debian.rs): the variables published on
//! real hardware are the ones the A/B tests check.
//!
//! Needs qemu-system-x86, busybox-static, cpio, kmod and, on the first run, apt access to
//! fetch Debian's kernel package (cached in ~/.cache/hwrig-vm); our usbhid-ups built
//! (`cargo build -p usbhid-driver --bins`). About 45 s on 2 shared cores with TCG.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use nut_harness::{Impl, bin};
use nut_rig::hid_spec_path;

/// The rig's VM entry point, after checking the host tools it needs.
fn vmrun() -> PathBuf {
    let p = nut_harness::workspace_root().join("tests/rig/vm/vmrun.sh");
    assert!(p.exists(), "{} is missing", p.display());
    for tool in ["qemu-system-x86_64", "cpio", "depmod"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .expect("sh")
            .status
            .success();
        assert!(
            found,
            "{tool} is missing: install qemu-system-x86 busybox-static cpio kmod"
        );
    }
    p
}

/// Our driver, built.
fn driver() -> PathBuf {
    let p = bin(Impl::Ours, "usbhid-ups");
    assert!(
        p.exists(),
        "{} is missing: cargo build -p usbhid-driver --bins",
        p.display()
    );
    p
}

/// The driver's arguments: a dump after the first updates, one-second polls.
fn args(port: &str, criterion: &str) -> Vec<String> {
    [
        "-s",
        "u",
        "-x",
        &format!("port={port}"),
        "-x",
        criterion,
        "-u",
        "root",
        "-i",
        "1",
        "-d",
        "1",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The `name: value` lines of a `-d` dump, without the ones that name the port or the
/// implementation's version (the same binary on both sides: only the port differs).
fn dump_vars(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| *k != "driver.parameter.port")
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A shell word for the guest script.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Our driver through the replay transport, with the config dirs the guest gives it
/// (guest.sh: an empty ups.conf in NUT_CONFPATH).
fn replay_dump(driver: &Path, spec: &Path, criterion: &str, dir: &Path) -> String {
    std::fs::write(dir.join("ups.conf"), "").expect("ups.conf");
    let out = Command::new(driver)
        .args(args(&format!("replay:{}", spec.display()), criterion))
        .env("NUT_CONFPATH", dir)
        .env("NUT_STATEPATH", dir)
        .env("NUT_ALTPIDPATH", dir)
        .output()
        .expect("run our usbhid-ups");
    assert!(
        out.status.success(),
        "replay dump failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs QEMU (qemu-system-x86, busybox-static, cpio, kmod; .ci/run installs them); scripts/test runs it"]
fn our_usbhid_ups_on_real_kernel_usb_publishes_what_the_replay_publishes() {
    let vmrun = vmrun();
    let driver = driver();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("vm");
    let guest = nut_harness::workspace_root().join("tests/rig/vm/guest.sh");
    // (name, spec, match option, the HID interface's interrupt-IN endpoint). The synthetic
    // Arduino and Powervar devices have their HID interface where NUT's subdrivers look for
    // it (2 and 1: the spec's `iface`; the device STALLs HID requests to any other
    // interface, usbip_hid.py), the Arduino its interrupt IN on endpoint 4.
    let devices = [
        (
            "apc",
            "apc_back-ups-xs-1400u.spec",
            "product=.*back-ups.xs.*",
            1,
        ),
        (
            "cyberpower",
            "cyberpower_cp1500pfclcd.spec",
            "vendorid=0764",
            1,
        ),
        (
            "arduino",
            "synthetic/synthetic_arduino.spec",
            "vendorid=2341",
            4,
        ),
        (
            "powervar",
            "synthetic/synthetic_powervar.spec",
            "vendorid=4234",
            1,
        ),
    ];
    // one boot, the devices one after the other (guest.sh attaches, runs, detaches)
    let mut script = String::new();
    for (name, spec, criterion, ep_in) in &devices {
        let words: Vec<String> = args("auto", criterion).iter().map(|a| quote(a)).collect();
        script.push_str(&format!(
            "RIG_PREFIX={name}. RIG_EP_IN={ep_in} {} {} {} {} || exit $?\n",
            guest.display(),
            hid_spec_path(spec).display(),
            driver.display(),
            words.join(" ")
        ));
    }
    let st = Command::new(&vmrun)
        .arg("-o")
        .arg(&out)
        .args(["-", "sh", "-c", &script])
        .status()
        .expect("run vmrun.sh");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    let errors: Vec<String> = devices
        .iter()
        .map(|(name, ..)| format!("{name}: {}", read(&format!("{name}.cmd.err"))))
        .collect();
    assert!(
        st.success(),
        "the VM run failed ({st}):\n{}\n{}",
        read("console.log"),
        errors.join("\n"),
    );
    for (name, spec, criterion, _) in &devices {
        let real = read(&format!("{name}.cmd.out"));
        let real_vars = dump_vars(&real);
        assert!(
            real_vars.len() > 15 && real_vars.contains_key("ups.status"),
            "{name}: short dump from the VM:\n{real}\n{}",
            read(&format!("{name}.cmd.err"))
        );
        // it went through the kernel: the device enumerated on the guest's bus
        assert!(
            read(&format!("{name}.usb-devices.txt")).contains(
                &std::fs::read_to_string(hid_spec_path(spec))
                    .expect("spec")
                    .lines()
                    .find_map(|l| l.strip_prefix("vid "))
                    .expect("vid line")
                    .to_lowercase()
            ),
            "{name}: not enumerated"
        );
        let dir = tmp.path().join(format!("{name}-replay"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let replayed = dump_vars(&replay_dump(&driver, &hid_spec_path(spec), criterion, &dir));
        assert_eq!(
            real_vars, replayed,
            "{name}: real kernel USB (left) vs replay (right)"
        );
    }
}
