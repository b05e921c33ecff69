//! Engine behaviour not tied to one protocol: instant-command fallbacks (load.on/off and
//! shutdown.return/stayoff through load.*.delay and ups.start.auto, as nutdrv_qx.c does for
//! protocols that only have delayed commands), SET checks, faults, option validation.

use crate::support;
use support::*;

use nutdrv_qx::engine::{Qx, sb};
use nutdrv_qx::item::{Item, Refused, RwValue, qxf, stf};
use nutdrv_qx::protocol::{ClaimStep, Protocol, ProtocolId};
use nutdrv_qx::{CmdStatus, Outcome, PollResult, QxOptions, SetStatus, Variant};

fn delay_cmd(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    // "L<seconds>" / "O<seconds>"; -1 = never.
    let it = qx.item(idx);
    if value.is_empty() {
        return Err(Refused);
    }
    Ok(format!(
        "{}{}\r",
        if it.var == "load.on.delay" { "L" } else { "O" },
        value
    ))
}

fn start_auto(_qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    Ok(format!("A{}\r", if value == "yes" { 1 } else { 0 }))
}

static E_START_AUTO: &[RwValue] = &[RwValue::new("yes"), RwValue::new("no")];
static R_DELAY: &[RwValue] = &[RwValue::new("0"), RwValue::new("600")];

static TABLE: &[Item] = &[
    Item::query(
        "input.voltage",
        "Q1\r",
        47,
        Some(b'('),
        1,
        5,
        Some("%.1f"),
        0,
        None,
    ),
    Item::query(
        "ups.status",
        "Q1\r",
        47,
        Some(b'('),
        38,
        38,
        None,
        qxf::QUICK_POLL,
        Some(nutdrv_qx::protocol::blazer_common::status_bits),
    ),
    // As in NUT's tables: RW flags and the enum sit on the query row (published at init), the
    // SETVAR row says how to set it.
    Item {
        st_flags: stf::RW,
        rw: E_START_AUTO,
        flags: qxf::SEMI_STATIC | qxf::ENUM,
        ..Item::query(
            "ups.start.auto",
            "A?\r",
            3,
            Some(b'('),
            1,
            1,
            Some("%s"),
            0,
            Some(|_, _, v| Ok(if v == "1" { "yes" } else { "no" }.into())),
        )
    },
    Item {
        var: "ups.start.auto",
        rw: E_START_AUTO,
        command: Some("A%s\r"),
        flags: qxf::SETVAR | qxf::ENUM,
        pre: Some(start_auto),
        ..Item::BLANK
    },
    Item {
        var: "load.on.delay",
        command: Some("L\r"),
        flags: qxf::CMD,
        pre: Some(delay_cmd),
        ..Item::BLANK
    },
    Item {
        var: "load.off.delay",
        command: Some("O\r"),
        flags: qxf::CMD,
        pre: Some(delay_cmd),
        ..Item::BLANK
    },
    Item {
        var: "ups.delay.start",
        st_flags: stf::RW,
        rw: R_DELAY,
        dfl: Some("20"),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        pre: Some(|_, _, v| Ok(v.to_string())),
        ..Item::BLANK
    },
    Item {
        var: "ups.delay.shutdown",
        st_flags: stf::RW,
        rw: R_DELAY,
        dfl: Some("30"),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        pre: Some(|_, _, v| Ok(v.to_string())),
        ..Item::BLANK
    },
    Item {
        var: "device.model",
        st_flags: stf::RW | stf::STRING,
        rw: &[RwValue::new("8")],
        dfl: Some("X"),
        flags: qxf::ABSENT | qxf::SETVAR,
        ..Item::BLANK
    },
];

static TEST_PROTO: Protocol = Protocol {
    id: ProtocolId::Q1,
    version: "Test 0.00",
    table: TABLE,
    claim: &[ClaimStep::Query("input.voltage", 0, 0)],
    initups: |_| {},
    initinfo: None,
    accepted: Some("ACK"),
    rejected: None,
};

fn test_qx(dev: &mut Device) -> Qx {
    let mut qx = Qx::new(&TEST_PROTO, opts(&[]));
    let s = qx.init(0.0);
    assert_eq!(drive(&mut qx, s, dev), Outcome::Init(Ok(())));
    qx
}

fn dev() -> Device {
    let mut d =
        Device::from_text("Q1 -> (230.0 230.0 230.0 010 50.0 13.5 25.0 00001000\nA? -> (1\n");
    for c in ["A0", "A1", "L20", "L-1", "L0", "O30", "O0"] {
        d.mute(c);
    }
    d
}

#[test]
fn fallback_commands_use_delayed_ones() {
    let mut dev = dev();
    let mut qx = test_qx(&mut dev);
    // load.on/off are published because only the delayed versions exist.
    assert!(qx.dstate().commands().contains("load.on"));
    assert!(qx.dstate().commands().contains("load.off"));
    for (cmd, sent) in [
        ("load.on", vec!["L0"]),
        ("load.off", vec!["O0"]),
        // ups.start.auto is "yes" already: nothing to set; then load.on.delay ups.delay.start,
        // load.off.delay ups.delay.shutdown.
        ("shutdown.return", vec!["L20", "O30"]),
        // stayoff: ups.start.auto=no first, on-delay -1.
        ("shutdown.stayoff", vec!["A0", "L-1", "O30"]),
    ] {
        dev.log.clear();
        let s = qx.instcmd(cmd, None);
        assert_eq!(
            drive(&mut qx, s, &mut dev),
            Outcome::InstCmd(CmdStatus::Handled),
            "{cmd}"
        );
        assert_eq!(dev.log, sent, "{cmd}");
    }
    // A refused step ends the sequence with FAILED. (ups.start.auto still reads "yes": a SET
    // sent to the device shows only when the variable is read again, so nothing is set.)
    dev.replies.remove("L20");
    dev.log.clear();
    let s = qx.instcmd("shutdown.return", None);
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        Outcome::InstCmd(CmdStatus::Failed)
    );
    assert_eq!(dev.log, ["L20"]);
    let s = qx.instcmd("test.panel.start", None);
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        Outcome::InstCmd(CmdStatus::Invalid)
    );
}

#[test]
fn setvar_checks_like_nutdrv_qx() {
    let mut dev = dev();
    let mut qx = test_qx(&mut dev);
    let mut set = |qx: &mut Qx, v: &str, val: &str| {
        let s = qx.setvar(v, val);
        drive(qx, s, &mut dev)
    };
    assert_eq!(
        set(&mut qx, "ups.delay.start", "700"),
        Outcome::SetVar(SetStatus::Unknown)
    );
    assert_eq!(
        set(&mut qx, "ups.delay.start", "-5"),
        Outcome::SetVar(SetStatus::Unknown)
    );
    assert_eq!(
        set(&mut qx, "ups.delay.start", ""),
        Outcome::SetVar(SetStatus::Unknown)
    );
    assert_eq!(
        set(&mut qx, "ups.delay.start", "600"),
        Outcome::SetVar(SetStatus::Handled)
    );
    assert_eq!(qx.getinfo("ups.delay.start"), Some("600"));
    assert_eq!(
        set(&mut qx, "ups.start.auto", "maybe"),
        Outcome::SetVar(SetStatus::Unknown)
    );
    assert_eq!(
        set(&mut qx, "ups.start.auto", "NO"),
        Outcome::SetVar(SetStatus::Handled)
    );
    assert_eq!(
        set(&mut qx, "device.model", "123456789"),
        Outcome::SetVar(SetStatus::Unknown)
    );
    assert_eq!(
        set(&mut qx, "device.model", "12345678"),
        Outcome::SetVar(SetStatus::Handled)
    );
    assert_eq!(
        set(&mut qx, "nope", "1"),
        Outcome::SetVar(SetStatus::Unknown)
    );
    let v = qx.dstate().var("ups.start.auto").unwrap();
    assert_eq!(
        (v.flags, v.enums.clone()),
        (stf::RW, vec!["yes".to_string(), "no".to_string()])
    );
    assert_eq!(qx.dstate().var("device.model").unwrap().aux, Some(8));
}

#[test]
fn semi_static_items_are_reread_after_a_command() {
    let mut dev = dev();
    let mut qx = test_qx(&mut dev);
    // The next full poll (after pollfreq) does not read A? ...
    dev.log.clear();
    let s = qx.poll(100.0);
    drive(&mut qx, s, &mut dev);
    assert_eq!(dev.log, ["Q1"]);
    // ... but after a successful command it does, even before pollfreq.
    let s = qx.instcmd("load.on", None);
    drive(&mut qx, s, &mut dev);
    dev.log.clear();
    let s = qx.poll(101.0);
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        Outcome::Poll(PollResult::Ok {
            full: true,
            reestablished: false
        })
    );
    assert_eq!(dev.log, ["Q1", "A?"]);
}

#[test]
fn truncated_and_garbage_answers() {
    let mut dev = Device::from_text(
        "Q1 -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00001000\nF -> #230.0 000 xyz.0 50.0\nI -> #SHORT\n",
    );
    let mut qx = start(
        &mut dev,
        opts(&[("protocol", Some("megatec")), ("novendor", None)]),
    );
    // The non-numerical rating is left out, the rest published; I is never asked (novendor).
    assert_eq!(qx.getinfo("battery.voltage.nominal"), None);
    assert_eq!(qx.getinfo("input.voltage.nominal"), Some("230"));
    // Truncated status: the poll fails, data is kept; garbage: same; recovery.
    for bad in [
        "(215.0 195.0 230.0 014",
        "\u{1}\u{2}garbage\u{ff}",
        "(215.0 195.0 230.0 014 49.0 22.7 30.0 0X001000",
    ] {
        dev.set("Q1", bad);
        let s = qx.poll(2000.0);
        assert!(
            matches!(
                drive(&mut qx, s, &mut dev),
                Outcome::Poll(PollResult::Failed { .. })
            ),
            "{bad:?}"
        );
        assert_eq!(qx.getinfo("input.voltage"), Some("215.0"));
    }
    dev.set("Q1", "(215.0 195.0 230.0 014 49.0 22.7 30.0 10001000");
    let s = qx.poll(2001.0);
    assert!(matches!(
        drive(&mut qx, s, &mut dev),
        Outcome::Poll(PollResult::Ok { .. })
    ));
    assert_eq!(qx.status_bits() & sb::OL, 0);
    assert_eq!(qx.status_string(), "OB");
}

#[test]
fn option_validation() {
    let bad = |v: Variant, k: &str, val: Option<&str>| {
        QxOptions::parse(v, [(k, val)]).unwrap_err().to_string()
    };
    let q = Variant::NutdrvQx;
    assert!(bad(q, "runtimecal", Some("240,100")).contains("insufficient parameters"));
    assert!(bad(q, "runtimecal", Some("720,100,240,50")).contains("runtime"));
    assert!(bad(q, "runtimecal", Some("240,100,720,150")).contains("load"));
    assert!(bad(q, "chargetime", Some("0")).contains("charge time"));
    assert!(bad(q, "idleload", Some("150")).contains("idle load"));
    assert!(bad(q, "cablepower", Some("sideways")).contains("cablepower"));
    assert!(bad(q, "protocol", Some("nope")).contains("megatec"));
    assert!(bad(q, "pollfreq", Some("soon")).contains("pollfreq"));
    assert!(bad(q, "langid_fix", Some("0xzz")).contains("langid_fix"));
    assert!(bad(q, "subdriver", Some("krauler")).contains("vendorid"));
    assert!(bad(q, "subdriver", Some("nonesuch")).contains("cypress"));
    assert!(bad(q, "pins_shutdown_mode", Some("7")).contains("0-6"));
    assert!(bad(q, "bogus", None).contains("not a valid flag"));
    assert!(bad(q, "ondelay", None).contains("needs a value"));
    let o = QxOptions::parse(
        q,
        [
            ("runtimecal", Some("240,100,720,50")),
            ("chargetime", Some("3600")),
            ("idleload", Some("5")),
            ("langid_fix", Some("0x4095")),
            ("subdriver", Some("KRAULER")),
            ("vendorid", Some("0001")),
            ("productid", Some("0000")),
            ("cablepower", Some("Reverse")),
            ("protocol", Some("Megatec/Old")),
        ],
    )
    .unwrap();
    assert_eq!(
        (o.chargetime, o.idleload, o.langid_fix),
        (3600, 0.05, Some(0x4095))
    );
    assert_eq!(o.protocol, Some(ProtocolId::MegatecOld));
    assert_eq!(o.cablepower.lines(), (false, true));
    // blazer_usb accepts only its four subdrivers; blazer_ser has no USB options at all.
    assert!(
        QxOptions::parse(
            Variant::BlazerUsb,
            [
                ("subdriver", Some("fuji")),
                ("vendorid", Some("1")),
                ("productid", Some("2"))
            ]
        )
        .is_err()
    );
    assert!(QxOptions::parse(Variant::BlazerSer, [("vendorid", Some("0001"))]).is_err());
    // Existing blazer_ser sections: protocol given a value although it is declared a flag.
    assert!(
        QxOptions::parse(
            Variant::BlazerSer,
            [
                ("protocol", Some("zinto")),
                ("cablepower", Some("none")),
                ("norating", None)
            ]
        )
        .is_ok()
    );
}

#[test]
fn stray_replies_are_ignored() {
    let mut dev = dev();
    let mut qx = test_qx(&mut dev);
    assert!(!qx.busy());
    assert_eq!(
        qx.feed(nutdrv_qx::Reply::Data(b"(ACK\r")),
        nutdrv_qx::Step::Done(Outcome::NoOperation)
    );
    let mut b = nutdrv_qx::Blazer::new(QxOptions::defaults(Variant::BlazerSer)).unwrap();
    assert_eq!(
        b.feed(nutdrv_qx::Reply::Error),
        nutdrv_qx::Step::Done(Outcome::NoOperation)
    );
    // An operation abandoned mid-way (device gone) leaves the engine usable.
    let s = qx.poll(500.0);
    assert!(matches!(s, nutdrv_qx::Step::Send(_)));
    qx.abort();
    let s = qx.poll(501.0);
    assert!(matches!(
        drive(&mut qx, s, &mut dev),
        Outcome::Poll(PollResult::Ok { .. })
    ));
}
