use super::*;
use crate::conf::testutil::{clean, errors, warnings};

fn parse(text: &str) -> ConfResult<NutConf> {
    parse_nut_conf(text, "nut.conf")
}

#[test]
fn modes() {
    for (word, mode) in [
        ("none", Mode::None),
        ("standalone", Mode::Standalone),
        ("netserver", Mode::NetServer),
        ("netclient", Mode::NetClient),
    ] {
        let c = clean(parse(&format!("MODE={word}\n")));
        assert_eq!(c.mode(), mode);
        assert_eq!(mode.as_str(), word);
    }
}

#[test]
fn quoting_and_known_keys() {
    let c = clean(parse(
        "# comment\nMODE=\"netserver\"   # trailing comment\nUPSD_OPTIONS='-D -D  # not a comment'\n\
         UPSMON_OPTIONS=\"-p\"\nPOWEROFF_WAIT=15m\nALLOW_NO_DEVICE=true\nexport ALLOW_NO_DEVICE\n\
         NUT_DEBUG_LEVEL=\nPOWEROFF_QUIET=true\n",
    ));
    assert_eq!(c.mode(), Mode::NetServer);
    assert_eq!(c.get("UPSD_OPTIONS"), Some("-D -D  # not a comment"));
    assert_eq!(c.get("UPSMON_OPTIONS"), Some("-p"));
    assert_eq!(c.get("POWEROFF_WAIT"), Some("15m"));
    assert_eq!(c.get("ALLOW_NO_DEVICE"), Some("true"));
    assert_eq!(c.get("NUT_DEBUG_LEVEL"), Some(""));
    assert_eq!(c.get("nope"), None);
    let keys: Vec<&str> = c.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "MODE",
            "UPSD_OPTIONS",
            "UPSMON_OPTIONS",
            "POWEROFF_WAIT",
            "ALLOW_NO_DEVICE",
            "NUT_DEBUG_LEVEL",
            "POWEROFF_QUIET"
        ]
    );
}

#[test]
fn shell_pitfalls_are_warned() {
    let (c, w) = warnings(parse(
        "MODE=none\nMODE=standalone\nFOO=bar\nexport UPSD_OPTIONS=-D\nUPSMON_OPTIONS=-p -q\n\
         POWEROFF_WAIT='1m' x\nNUT_DEBUG_SYSLOG=caf\u{e9}\n",
    ));
    assert_eq!(
        w,
        [
            "nut.conf:2: MODE already set at line 1; this later value wins",
            "nut.conf:3: unknown setting FOO (kept; NUT does not use it)",
            "nut.conf:4: 'export KEY=value' is not portable (nut.conf is read by POSIX sh and systemd); write KEY=value",
            "nut.conf:5: words after the value of UPSMON_OPTIONS ignored: -q (the shell would run them as a command; quote the value)",
            "nut.conf:6: text after the quoted value of POWEROFF_WAIT ignored: x",
            "nut.conf:7: 2 byte(s) outside 0x20-0x7F dropped (NUT keeps only plain ASCII)",
        ]
    );
    assert_eq!(c.mode(), Mode::Standalone);
    assert_eq!(c.get("FOO"), Some("bar"));
    assert_eq!(c.get("UPSD_OPTIONS"), Some("-D"));
}

#[test]
fn missing_mode_is_a_file_level_warning() {
    let (c, w) = warnings(parse("ALLOW_NO_DEVICE=1\n"));
    assert_eq!(
        w,
        [
            "nut.conf: MODE is not set, so NUT starts nothing (as with MODE=none); set MODE=standalone, netserver or netclient"
        ]
    );
    assert_eq!(c.mode(), Mode::None);
}

#[test]
fn broken_lines_are_errors() {
    assert_eq!(
        errors(parse(
            "MODE = standalone\nMODE=Standalone\nMODE=server\nMODE\n1MODE=x\nUPSD_OPTIONS='-D\n\
             MODE= none\nMODE=\"a#b\"\nexport\n"
        )),
        [
            "nut.conf:1: no spaces allowed around '=': write MODE=<value> (the shell would run MODE as a command)",
            "nut.conf:2: MODE: expected none, standalone, netserver or netclient (lower case), got 'Standalone'",
            "nut.conf:3: MODE: expected none, standalone, netserver or netclient (lower case), got 'server'",
            "nut.conf:4: expected KEY=value (nut.conf is read by the shell), got 'MODE'",
            "nut.conf:5: '1MODE' is not a valid variable name (letters, digits and _ only)",
            "nut.conf:6: UPSD_OPTIONS: missing closing single quote",
            "nut.conf:7: no spaces allowed around '=': write MODE=<value> (the shell would run MODE as a command)",
            "nut.conf:8: '#' inside quotes must be escaped as \\# (line rejected)",
            "nut.conf:9: expected KEY=value (nut.conf is read by the shell), got 'export'",
        ]
    );
}
