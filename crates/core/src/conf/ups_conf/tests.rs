use super::*;
use crate::conf::testutil::{clean, errors, warnings};

fn parse(text: &str) -> ConfResult<UpsConf> {
    parse_ups_conf(text, "ups.conf")
}

#[test]
fn reference_example() {
    let conf = clean(parse(
        "maxretry = 3\n[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n  desc = \"Test \\\"quoted\\\" UPS\"\n",
    ));
    assert_eq!(conf.global.maxretry, Some(3));
    assert_eq!(conf.sections.len(), 1);
    let ups = &conf.sections[0];
    assert_eq!(ups.name, "dummy");
    assert_eq!(ups.line, 2);
    assert_eq!(ups.driver, "dummy-ups");
    assert_eq!(ups.port, "dummy.dev");
    assert_eq!(ups.desc.as_deref(), Some("Test \"quoted\" UPS"));
    assert_eq!(conf.effective_maxretry(ups), 3);
    assert_eq!(conf.effective_pollinterval(ups), DEFAULT_POLLINTERVAL);
    assert_eq!(conf.effective_synchronous(ups), Synchronous::Auto);
}

#[test]
fn every_global_directive() {
    let conf = clean(parse(
        "chroot = /var/empty\ndriverpath = /lib/nut\nSTATEPATH = /run/nut\nmaxstartdelay = 45\n\
         maxretry = 2\nretrydelay = 10\nnowait\npollinterval = 7\nsynchronous = yes\nuser = nut\n\
         group = nut\nDEBUG_MIN = 3\nlibusb_debug = 1\nreconnect_max_tries = -1\n\
         reconnect_report_freq = 60\n",
    ));
    let g = &conf.global;
    assert_eq!(g.chroot.as_deref(), Some("/var/empty"));
    assert_eq!(g.driverpath.as_deref(), Some("/lib/nut"));
    assert_eq!(g.statepath.as_deref(), Some("/run/nut"));
    assert_eq!(
        (g.maxstartdelay, g.maxretry, g.retrydelay),
        (Some(45), Some(2), Some(10))
    );
    assert!(g.nowait);
    assert_eq!(g.pollinterval, Some(7));
    assert_eq!(g.synchronous, Some(Synchronous::Yes));
    assert_eq!(
        (g.user.as_deref(), g.group.as_deref()),
        (Some("nut"), Some("nut"))
    );
    assert_eq!((g.debug_min, g.libusb_debug), (Some(3), Some(1)));
    assert_eq!(g.reconnect_max_tries, Some(-1));
    assert_eq!(g.reconnect_report_freq, Some(60));
    assert_eq!(g.entries.len(), 15);
    assert_eq!(g.entries[6].key, "nowait");
    assert_eq!(g.entries[6].value, None);
}

#[test]
fn sections_keep_everything_in_order() {
    let conf = clean(parse(
        "[b]\ndriver=usbhid-ups\nport=auto\nvendorid = 051d\nnolock\nignorelb\nallow_killpower\n\
         override.battery.charge.low = 30\ndefault.input.transfer.low=90\nsdorder = -1\n\
         maxstartdelay = 5\nmaxretry = 0\nretrydelay = 1\npollinterval = 15\nuser = root\n\
         group = dialout\nsynchronous = auto\nexplore\n[a]\ndriver = dummy-ups\nport = a.dev\n",
    ));
    let names: Vec<&str> = conf.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    let b = conf.section("b").unwrap();
    assert_eq!(b.get("vendorid"), Some("051d"));
    assert!(b.nolock && b.ignorelb && b.allow_killpower);
    assert_eq!(
        b.overrides.get("battery.charge.low").map(String::as_str),
        Some("30")
    );
    assert_eq!(
        b.defaults.get("input.transfer.low").map(String::as_str),
        Some("90")
    );
    assert_eq!(b.sdorder, -1);
    assert_eq!(
        (b.maxstartdelay, b.maxretry, b.retrydelay, b.pollinterval),
        (Some(5), Some(0), Some(1), Some(15))
    );
    assert_eq!(
        (b.user.as_deref(), b.group.as_deref()),
        (Some("root"), Some("dialout"))
    );
    assert_eq!(b.synchronous, Some(Synchronous::Auto));
    assert!(b.has_flag("explore"));
    let keys: Vec<&str> = b.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys[..4], ["driver", "port", "vendorid", "nolock"]);
    let own: Vec<&str> = b.driver_options().map(|e| e.key.as_str()).collect();
    assert_eq!(own, ["vendorid", "explore"]);
    assert_eq!(conf.section("a").unwrap().sdorder, 0);
    assert!(conf.section("A").is_none());
}

#[test]
fn empty_file_and_comments() {
    let conf = clean(parse("# nothing\n\n   \n"));
    assert!(conf.sections.is_empty());
    assert!(conf.global.entries.is_empty());
}

#[test]
fn nut_ignores_these_we_warn() {
    let (conf, w) = warnings(parse(
        "[u]\ndriver = d\nport = p\nvendorid 051d\ndesc =\nfoo bar baz\nproduct = a b\n= x\n",
    ));
    assert_eq!(
        w,
        [
            "ups.conf:4: missing '=' after vendorid: write vendorid = 051d (line ignored, as NUT does)",
            "ups.conf:5: desc = has no value (line ignored); write desc = \"\" for an empty value",
            "ups.conf:6: missing '=' after foo: write foo = bar baz (line ignored, as NUT does)",
            "ups.conf:7: words after the value of product ignored: b (quote a value that contains spaces)",
            "ups.conf:8: line starts with '=' and has no key (line ignored)",
        ]
    );
    let u = &conf.sections[0];
    assert_eq!(u.get("product"), Some("a"));
    assert_eq!(u.get("vendorid"), None);
    assert_eq!(u.desc, None);
}

#[test]
fn other_warnings() {
    let (conf, w) = warnings(parse(
        "foo = 1\nMaxRetry = 2\nnowait = no\n[u] extra\ndriver = d\nport = p\nport = q\nnolock = no\nsddelay = 5\n\
         desc = \"caf\u{e9}\"\n",
    ));
    assert_eq!(
        w,
        [
            "ups.conf:1: unknown global directive foo (ignored; driver options belong in a [section])",
            "ups.conf:2: unknown global directive MaxRetry (ignored; keys are case-sensitive, did you mean maxretry?)",
            "ups.conf:3: nowait is a flag: the value 'no' is ignored and the flag is set; write nowait alone",
            "ups.conf:4: words after the section header ignored: extra",
            "ups.conf:7: port already set at line 6; this later value wins",
            "ups.conf:8: nolock is a flag: the value 'no' is ignored and the flag is set; write nolock alone",
            "ups.conf:9: sddelay is obsolete and ignored by drivers",
            "ups.conf:10: 2 byte(s) outside 0x20-0x7F dropped (NUT keeps only plain ASCII)",
        ]
    );
    let u = &conf.sections[0];
    assert_eq!(u.port, "q");
    assert!(u.nolock);
    assert_eq!(u.desc.as_deref(), Some("caf"));
}

#[test]
fn missing_driver_or_port() {
    assert_eq!(
        errors(parse("[a]\nport = p\n[b]\ndriver = d\n[c]\n")),
        [
            "ups.conf:1: section [a] has no driver: add driver = <driver name>",
            "ups.conf:3: section [b] has no port: add port = <device, file or ups@host>",
            "ups.conf:5: section [c] has no driver: add driver = <driver name>",
            "ups.conf:5: section [c] has no port: add port = <device, file or ups@host>",
        ]
    );
    // Keys are case-sensitive: `Driver` is a driver-specific option, not the driver.
    let e = parse("[a]\nDriver = d\nport = p\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "ups.conf:1: section [a] has no driver: add driver = <driver name>"
    );
    assert_eq!(
        e.warnings[0].to_string(),
        "ups.conf:2: keys are case-sensitive: Driver is not driver (kept as an option for the \
         driver, which will likely reject it)"
    );
}

#[test]
fn duplicate_and_bad_sections() {
    assert_eq!(
        errors(parse(
            "[a]\ndriver = d\nport = p\n[a]\ndriver = d\nport = q\n[]\n[x/y]\n[my ups]\ndriver = d\n"
        )),
        [
            "ups.conf:4: duplicate section [a] (first at line 1); NUT would merge the two, give each UPS its own name",
            "ups.conf:7: bad section name []: it must be non-empty and contain no '/'",
            "ups.conf:8: bad section name [x/y]: it must be non-empty and contain no '/'",
            "ups.conf:9: '[my ups]' looks like a section header but is not one: write [name] with no spaces",
        ]
    );
}

#[test]
fn bad_values() {
    assert_eq!(
        errors(parse(
            "pollinterval = 0\nmaxretry = three\nsynchronous = maybe\nchroot\n[u]\ndriver = d\nport\n\
             sdorder = -2\nmaxstartdelay = 15s\noverride. = 1\ndefault.x\ndebug_min = -1\n\
             reconnect_max_tries = -5\nport = p\n"
        )),
        [
            "ups.conf:1: pollinterval: expected a whole number >= 1, got '0'",
            "ups.conf:2: maxretry: expected a whole number >= 0, got 'three'",
            "ups.conf:3: synchronous: expected yes, no or auto, got 'maybe'",
            "ups.conf:4: chroot needs a value: chroot = <directory>",
            "ups.conf:7: port needs a value: port = <device, file or ups@host>",
            "ups.conf:8: sdorder: expected a whole number >= -1, got '-2'",
            "ups.conf:9: maxstartdelay: expected a whole number >= 0, got '15s'",
            "ups.conf:10: override. names no variable: write override.<variable> = <value>",
            "ups.conf:11: default.x needs a value: default.x = <value>",
            "ups.conf:12: debug_min: expected a whole number >= 0, got '-1'",
            "ups.conf:13: reconnect_max_tries: expected a whole number >= -1, got '-5'",
        ]
    );
}

#[test]
fn tokenizer_problems_are_located() {
    let e = parse_ups_conf(
        "[u]\ndriver = d\nport = p\ndesc = \"a # b\"\ndesc = \"open\n",
        "/etc/nut/ups.conf",
    )
    .unwrap_err();
    let shown: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "/etc/nut/ups.conf:4: '#' inside quotes must be escaped as \\# (line rejected)",
            "/etc/nut/ups.conf:5: missing closing quote (line rejected)",
        ]
    );
    assert_eq!(e.to_string(), shown.join("\n"));
}

#[test]
fn nut_limits_are_reported() {
    let many: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let long = "x".repeat(600);
    let text = format!(
        "[u]\ndriver = d\nport = p\nlist = {}\ndesc = {long}\n",
        many.join(" ")
    );
    let (conf, w) = warnings(parse(&text));
    assert_eq!(
        w,
        [
            "ups.conf:4: more than 32 words; the rest of the line is ignored",
            "ups.conf:4: words after the value of list ignored: w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 \
             w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 (quote a value that \
             contains spaces)",
            "ups.conf:5: word longer than 512 characters cut to its first 512",
        ]
    );
    assert_eq!(conf.sections[0].desc.as_deref().map(str::len), Some(512));
}

#[test]
fn crlf_and_continuations() {
    let conf = clean(parse(
        "[u]\r\n  driver = d\r\n  port = \\\n   p\r\n  desc = \"a\\\nb\"\r\n",
    ));
    let u = &conf.sections[0];
    assert_eq!(u.port, "p");
    assert_eq!(u.desc.as_deref(), Some("ab"));
    assert_eq!(u.entries[2].line, 5);
}

#[test]
fn lines_after_a_malformed_header_are_skipped() {
    // Without the skip, `port = q` would land in [a] and quietly replace its port.
    let e = parse("[a]\ndriver = d\nport = p\n[my ups]\ndriver = e\nport = q\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "ups.conf:4: '[my ups]' looks like a section header but is not one: write [name] with no spaces"
    );
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
}
