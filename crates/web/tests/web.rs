//! nut-web against real servers: our upsd and Debian's NUT 2.8.0 upsd (each with dummy-ups),
//! the real `nut-web` binary on a free port, and Debian's `upsc` as the reference for values.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nut_harness::{Daemon, Impl, Stack, StackBuilder, bin, free_port, poll_until, wait_until};

use nut_harness::http::{get, try_get};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Device values include a quote, `<`, `&` and a backslash to exercise label escaping.
const MAIN_DEV: &str = "\
device.location: \"Rack \\\"A\\\" <1> & back\\\\slash\"
device.type: ups
ups.status: OL CHRG
ups.load: 23
battery.charge: 87
battery.runtime: 1234
battery.voltage: 13.7
input.voltage: 229.5
output.voltage: 230
ups.beeper.status: enabled
ups.test.result: No test initiated
";

const SECOND_DEV: &str = "\
ups.status: OB LB RB
battery.charge: 5
";

const HOSTILE_DESC: &str = "<script>alert(\"x\")</script> & co";

fn stack(which: Impl) -> Stack {
    StackBuilder::new()
        .upsd(which)
        .upsd_conf("MAXAGE 6")
        .driver(which)
        .dummy("main", "main.dev", MAIN_DEV)
        .ups_section(
            "main",
            &format!("desc = \"{}\"", HOSTILE_DESC.replace('"', "\\\"")),
        )
        .dummy("second", "second.dev", SECOND_DEV)
        .ups_section("nodrv", "driver = dummy-ups\nport = nodrv.dev")
        .start()
}

/// Starts nut-web with `args` and the stack's environment; waits until /healthz answers.
fn start_web(stack: &mut Stack, args: &[String]) -> (Daemon, u16) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nut-web"));
    cmd.envs(stack.env_vars())
        .current_dir(stack.dir())
        .arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .args(args);
    let web = stack.spawn_as("nut-web", cmd);
    wait_until("nut-web to answer /healthz", TIMEOUT, || {
        assert!(web.is_running(), "nut-web exited:\n{}", web.output_so_far());
        let r = try_get(port, "/healthz").ok()?;
        (r.status == 200 && r.body == "ok\n").then_some(())
    });
    (web, port)
}

/// Debian's `upsc <ups>` as a map.
fn upsc(stack: &Stack, ups: &str) -> BTreeMap<String, String> {
    let out = Command::new(bin(Impl::Debian, "upsc"))
        .arg(stack.ups_id(ups))
        .output()
        .expect("run Debian's upsc");
    assert!(out.status.success(), "upsc failed: {out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// One parsed sample line.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text exposition strictly: HELP and TYPE once per family, before its samples;
/// samples `name{k="v",…} value` with valid names and escapes; one family in one block.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut helped = HashSet::new();
    let mut typed = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current = String::new();
    let mut samples = Vec::new();
    let mut seen_series = HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(helped.insert(name.to_owned()), "second HELP for {name}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert_eq!(kind, "gauge", "{line}");
            assert!(typed.insert(name.to_owned()), "second TYPE for {name}");
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let brace = line.find('{').expect("labels");
        let name = &line[..brace];
        assert!(valid_name(name), "bad metric name {name:?}");
        assert!(
            helped.contains(name) && typed.contains(name),
            "{name}: sample before HELP/TYPE"
        );
        if name != current {
            assert!(!finished.contains(name), "{name} is split into two blocks");
            finished.insert(std::mem::replace(&mut current, name.to_owned()));
        }
        let mut labels = BTreeMap::new();
        let mut rest = &line[brace + 1..];
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            rest = rest.strip_prefix(',').unwrap_or(rest);
            let (key, after) = rest.split_once("=\"").expect("label=\"");
            assert!(valid_name(key), "bad label name {key:?}");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                let (i, c) = chars.next().expect("unterminated label value");
                match c {
                    '"' => break i,
                    '\\' => match chars.next().expect("escape").1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        other => panic!("bad escape \\{other} in {line}"),
                    },
                    c => value.push(c),
                }
            };
            labels.insert(key.to_owned(), value);
            rest = &after[end + 1..];
        }
        let value_text = rest.strip_prefix(' ').expect("space before value");
        let value: f64 = value_text
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        assert!(
            seen_series.insert((name.to_owned(), labels.clone())),
            "duplicate series {line}"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|s| {
        s.name == name
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

fn metric_name(var: &str) -> String {
    format!("network_ups_tools_{}", var.replace(['.', '-'], "_"))
}

/// A loopback port that nothing listens on: an unreachable server.
fn dead_server() -> String {
    format!("ghost@127.0.0.1:{}", free_port())
}

fn check_against(which: Impl) {
    let mut stack = stack(which);
    let server = format!("127.0.0.1:{}", stack.port());
    let ghost = dead_server();
    stack.write_file(
        "hosts.conf",
        format!(
            "MONITOR {} \"Main\"\nMONITOR {} \"Second & <b>bold</b>\"\nMONITOR {} \"No driver\"\nMONITOR {ghost} \"Ghost\"\n",
            stack.ups_id("main"),
            stack.ups_id("second"),
            stack.ups_id("nodrv"),
        ),
    );
    let (_web, port) = start_web(&mut stack, &[]);

    // /metrics: every numeric upsc value, flags, device info, up.
    let reply = get(port, "/metrics");
    assert_eq!(reply.status, 200);
    assert!(
        reply.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        reply.content_type
    );
    let samples = parse_exposition(&reply.body);
    let main = [("ups", "main"), ("server", server.as_str())];
    let reference = upsc(&stack, "main");
    let mut compared = 0;
    for (var, value) in &reference {
        let Ok(number) = value.trim().parse::<f64>() else {
            continue;
        };
        let s = find(&samples, &metric_name(var), &main)
            .unwrap_or_else(|| panic!("no metric for {var} = {value}:\n{}", reply.body));
        assert_eq!(s.value, number, "{var}");
        compared += 1;
    }
    assert!(compared >= 7, "only {compared} numeric variables compared");
    assert_eq!(
        find(&samples, "network_ups_tools_ups_beeper_status", &main).map(|s| s.value),
        Some(1.0)
    );
    for flag in reference["ups.status"].split_whitespace() {
        let s = find(
            &samples,
            "network_ups_tools_ups_status",
            &[main[0], main[1], ("flag", flag)],
        );
        assert_eq!(s.map(|s| s.value), Some(1.0), "flag {flag}");
    }
    let ob = find(
        &samples,
        "network_ups_tools_ups_status",
        &[main[0], ("flag", "OB")],
    );
    assert_eq!(ob.map(|s| s.value), Some(0.0));
    for flag in ["OB", "LB", "RB"] {
        let s = find(
            &samples,
            "network_ups_tools_ups_status",
            &[("ups", "second"), ("flag", flag)],
        );
        assert_eq!(s.map(|s| s.value), Some(1.0), "second {flag}");
    }
    let info = find(&samples, "network_ups_tools_device_info", &main).expect("device_info");
    assert_eq!(info.labels["model"], reference["device.model"]);
    assert_eq!(info.labels["location"], reference["device.location"]);
    assert_eq!(info.labels["mfr"], reference["device.mfr"]);
    assert_eq!(reference["device.location"], "Rack \"A\" <1> & back\\slash");
    let help = format!("# HELP {} ", metric_name("battery.charge"));
    assert!(
        reply
            .body
            .lines()
            .any(|l| l.starts_with(&help) && l.ends_with("(battery.charge)")),
        "{}",
        reply.body
    );
    assert!(
        !reply.body.contains("Description unavailable"),
        "placeholder used as HELP"
    );
    let up = |ups: &str| find(&samples, "network_ups_tools_up", &[("ups", ups)]).map(|s| s.value);
    assert_eq!(up("main"), Some(1.0));
    assert_eq!(up("second"), Some(1.0));
    assert_eq!(up("nodrv"), Some(0.0), "a UPS without driver is down");
    assert_eq!(up("ghost"), Some(0.0), "an unreachable server is down");

    // ?ups= keeps one UPS; an unknown one is a 404.
    let only = parse_exposition(&get(port, "/metrics?ups=second").body);
    assert!(!only.is_empty() && only.iter().all(|s| s.labels["ups"] == "second"));
    assert_eq!(get(port, "/metrics?ups=nosuch").status, 404);

    // JSON: the vars are upsc's; errors are per UPS.
    for path in ["/api/v1/upses", "/json"] {
        let reply = get(port, path);
        assert_eq!(reply.status, 200);
        assert!(reply.content_type.starts_with("application/json"));
        let doc: serde_json::Value = serde_json::from_str(&reply.body).expect("valid JSON");
        let upses = doc["upses"].as_array().expect("upses array");
        assert_eq!(upses.len(), 4);
        let by_ups: HashMap<&str, &serde_json::Value> = upses
            .iter()
            .map(|u| (u["ups"].as_str().unwrap(), u))
            .collect();
        let vars: BTreeMap<String, String> =
            serde_json::from_value(by_ups["main"]["vars"].clone()).expect("vars map");
        assert_eq!(vars, reference);
        assert_eq!(by_ups["main"]["status_raw"], "OL CHRG");
        assert_eq!(
            by_ups["main"]["status_parsed"],
            serde_json::json!(["ONLINE", "CHARGING"])
        );
        assert_eq!(by_ups["main"]["host"], stack.ups_id("main"));
        assert!(by_ups["main"].get("error").is_none());
        assert_eq!(by_ups["second"]["desc"], "Second & <b>bold</b>");
        assert_eq!(by_ups["nodrv"]["error"], "Driver not connected");
        assert!(
            by_ups["ghost"]["error"]
                .as_str()
                .unwrap()
                .contains("Connection refused")
        );
    }

    // HTML overview.
    let page = get(port, "/");
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    let body = &page.body;
    assert!(body.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    for needle in [
        "Online",
        "Charging",
        "On Battery",
        "Low Battery",
        "Replace Battery",
        "87 %",
        "21 min",
    ] {
        assert!(body.contains(needle), "{needle} missing:\n{body}");
    }
    assert!(body.contains("Second &amp; &lt;b&gt;bold&lt;/b&gt;") && !body.contains("<b>bold"));
    assert!(body.contains("Driver not connected"));
    let link = format!("href=\"ups/{}\"", stack.ups_id("main"));
    assert!(body.contains(&link), "{link} missing:\n{body}");

    // Detail page (relative link as the overview gives it), and 404s.
    let detail = get(port, &format!("/ups/{}", stack.ups_id("main")));
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("battery.runtime") && detail.body.contains("1234"));
    assert!(
        detail
            .body
            .contains("Rack &quot;A&quot; &lt;1&gt; &amp; back"),
        "{}",
        detail.body
    );
    assert_eq!(get(port, "/ups/nosuch@127.0.0.1:1").status, 404);
    assert_eq!(get(port, "/nowhere").status, 404);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn serves_our_upsd() {
    check_against(Impl::Ours);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn serves_debian_upsd() {
    check_against(Impl::Debian);
}

/// A frozen driver makes its UPS stale: that UPS turns into an error, the other keeps serving.
fn stale_ups_is_reported(which: Impl) {
    let mut stack = stack(which);
    let args: Vec<String> = ["main", "second"]
        .iter()
        .flat_map(|u| ["-m".to_owned(), stack.ups_id(u)])
        .collect();
    let (_web, port) = start_web(&mut stack, &args);
    let up = |samples: &[Sample], ups: &str| {
        find(samples, "network_ups_tools_up", &[("ups", ups)]).map(|s| s.value)
    };
    let before = parse_exposition(&get(port, "/metrics").body);
    assert_eq!(up(&before, "second"), Some(1.0));
    stack
        .driver_daemon("second")
        .expect("driver of second")
        .signal(nut_harness::Signal::SIGSTOP);
    let doc = wait_until("upsd to call second stale", TIMEOUT * 2, || {
        let doc: serde_json::Value = serde_json::from_str(&get(port, "/json").body).ok()?;
        (doc["upses"][1]["error"] == "Data stale").then_some(doc)
    });
    assert!(doc["upses"][0].get("error").is_none(), "{doc}");
    let after = parse_exposition(&get(port, "/metrics").body);
    assert_eq!(up(&after, "second"), Some(0.0));
    assert_eq!(up(&after, "main"), Some(1.0));
    assert!(
        find(
            &after,
            "network_ups_tools_battery_charge",
            &[("ups", "second")]
        )
        .is_none()
    );
}

#[test]
fn stale_ups_on_our_upsd() {
    stale_ups_is_reported(Impl::Ours);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn stale_ups_on_debian_upsd() {
    stale_ups_is_reported(Impl::Debian);
}

/// With `-m` only, the description comes from the server (ups.conf `desc`): a hostile one is
/// escaped on the page and in the JSON stays verbatim.
#[test]
fn hostile_server_description_is_inert() {
    let mut stack = stack(Impl::Ours);
    let id = stack.ups_id("main");
    let (_web, port) = start_web(&mut stack, &["-m".into(), id]);
    let body = get(port, "/").body;
    assert!(!body.contains("<script>"), "{body}");
    assert!(
        body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"),
        "{body}"
    );
    let detail = get(port, &format!("/ups/{}", stack.ups_id("main"))).body;
    assert!(!detail.contains("<script>") && detail.contains("&lt;script&gt;"));
    let doc: serde_json::Value = serde_json::from_str(&get(port, "/json").body).unwrap();
    assert_eq!(doc["upses"][0]["desc"], HOSTILE_DESC);
}

/// Runs nut-web to completion (it must fail) with NUT_CONFPATH = `confdir`.
fn run_failing(confdir: &Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nut-web"))
        .env("NUT_CONFPATH", confdir)
        .args(["-l", &format!("127.0.0.1:{}", free_port())])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start nut-web");
    let status = poll_until(TIMEOUT, || child.try_wait().ok().flatten());
    let Some(status) = status else {
        let _ = child.kill();
        panic!("nut-web kept running with a bad configuration");
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status.code().unwrap_or(-1), err)
}

#[test]
fn configuration_errors_exit_78_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = run_failing(dir.path(), &[]);
    let default = dir.path().join("hosts.conf");
    assert_eq!(code, 78, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "{}: cannot open: No such file or directory",
            default.display()
        )),
        "{err}"
    );

    std::fs::write(&default, "MONITOR ups@localhost \"fine\"\nMONITOR ups@\n").unwrap();
    let (code, err) = run_failing(dir.path(), &[]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains(&format!("{}:2:", default.display())), "{err}");

    let (code, err) = run_failing(dir.path(), &["--bogus"]);
    assert_eq!(code, 64, "{err}");

    // Used to panic in Duration::from_secs_f64 (exit 101).
    let (code, err) = run_failing(dir.path(), &["-m", "ups@localhost", "-t", "1e20"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("-t: timeout \"1e20\" is too large"), "{err}");
    let (code, err) = run_failing(dir.path(), &["-m", "ups@localhost", "--certverify"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("CERTVERIFY needs CERTPATH"), "{err}");
    let missing = dir.path().join("no-ca.pem");
    let (code, err) = run_failing(
        dir.path(),
        &[
            "-m",
            "ups@localhost",
            "--certverify",
            "--certpath",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 78, "{err}");
    assert!(
        err.contains(&format!(
            "cannot read certificates from {}",
            missing.display()
        )),
        "{err}"
    );
}

#[test]
fn address_in_use_exits_69() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = run_failing(dir.path(), &["-m", "ups@localhost", "-l", &addr]);
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("Address already in use"), "{err}");
}
