//! nut-web's renderers (`html`, `json`, `metrics`) on arbitrary server data: UPS names,
//! hosts, descriptions, variable names and values, descriptions and error texts.
//!
//! * HTML: nothing a server sends can add markup. The pages rendered from the data and from
//!   the same data with every `< > " ' &` replaced by `~` have exactly the same `<`, `>`,
//!   `"` and `'` characters: all of them come from the templates.
//! * JSON: a document that serializes and parses back to itself, one entry per UPS, every
//!   variable present.
//! * Metrics: valid Prometheus text exposition (format 0.0.4): `# HELP`/`# TYPE` once per
//!   family before its samples, valid metric and label names, well-escaped label values,
//!   finite values, no series twice.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nut_web::config::Target;
use nut_web::poll::Snapshot;
use nut_web::{html, json, metrics};

#[derive(Arbitrary, Debug, Clone)]
struct Ups {
    system: String,
    ups: String,
    host: String,
    port: u16,
    target_description: Option<String>,
    description: Option<String>,
    vars: Vec<(String, String)>,
    /// Variables from a fixed list (so that status, numbers and device info are exercised).
    known: Vec<(u8, String)>,
    descriptions: Vec<(String, String)>,
    error: Option<String>,
}

const KNOWN: &[&str] = &[
    "ups.status",
    "battery.charge",
    "battery.runtime",
    "ups.load",
    "input.voltage",
    "output.voltage",
    "device.model",
    "device.mfr",
    "device.serial",
    "ups.beeper.status",
];

fn snapshot(u: &Ups, map: &dyn Fn(&str) -> String) -> Snapshot {
    let mut vars: Vec<(String, String)> = u
        .known
        .iter()
        .map(|(i, v)| (KNOWN[usize::from(*i) % KNOWN.len()].to_owned(), map(v)))
        .collect();
    vars.extend(u.vars.iter().map(|(n, v)| (map(n), map(v))));
    Snapshot {
        target: Target {
            system: map(&u.system),
            ups: map(&u.ups),
            host: map(&u.host),
            port: u.port,
            description: u.target_description.as_deref().map(map),
        },
        description: u.description.as_deref().map(map),
        vars,
        descriptions: u
            .descriptions
            .iter()
            .map(|(n, d)| (map(n), map(d)))
            .collect(),
        error: u.error.as_deref().map(map),
    }
}

fn markup(page: &str) -> [usize; 4] {
    ['<', '>', '"', '\''].map(|c| page.matches(c).count())
}

fn check_html(upses: &[Ups]) {
    let same = |s: &str| s.to_owned();
    let inert = |s: &str| s.replace(['<', '>', '"', '\'', '&'], "~");
    let real: Vec<Snapshot> = upses.iter().map(|u| snapshot(u, &same)).collect();
    let safe: Vec<Snapshot> = upses.iter().map(|u| snapshot(u, &inert)).collect();
    assert_eq!(
        markup(&html::index(&real)),
        markup(&html::index(&safe)),
        "index"
    );
    for (r, s) in real.iter().zip(&safe) {
        assert_eq!(markup(&html::detail(r)), markup(&html::detail(s)), "detail");
    }
}

fn check_json(snapshots: &[Snapshot]) {
    let doc = json::render(snapshots);
    let text = serde_json::to_string(&doc).expect("serializes");
    let back: serde_json::Value = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, doc);
    let upses = doc["upses"].as_array().expect("upses array");
    assert_eq!(upses.len(), snapshots.len());
    for (u, s) in upses.iter().zip(snapshots) {
        let vars = u["vars"].as_object().expect("vars object");
        for (name, _) in &s.vars {
            assert!(vars.contains_key(name), "{name:?} missing");
        }
        assert_eq!(
            u["status_raw"].as_str(),
            Some(s.var("ups.status").unwrap_or(""))
        );
    }
}

fn metric_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `{k="v",…}` → the labels; panics on anything the exposition format does not allow.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("label = \"value\"");
        assert!(
            metric_name_ok(key) && !key.contains(':'),
            "label name {key:?}"
        );
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("closing quote");
            match c {
                '\\' => match chars.next().expect("escape").1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => panic!("bad escape \\{other}"),
                },
                '"' => break i,
                '\n' => panic!("raw newline in a label value"),
                c => value.push(c),
            }
        };
        out.push((key.to_owned(), value));
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or_else(|| {
            assert!(rest.is_empty(), "junk after a label: {rest:?}");
            rest
        });
    }
    out
}

fn check_metrics(snapshots: &[Snapshot]) {
    let text = metrics::render(snapshots);
    assert!(text.is_empty() || text.ends_with('\n'));
    let mut helped: HashSet<String> = HashSet::new();
    let mut typed: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut series: HashSet<String> = HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _help) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(metric_name_ok(name), "{name:?}");
            assert!(helped.insert(name.to_owned()), "HELP twice for {name}");
            current = Some(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert_eq!(Some(name), current.as_deref(), "TYPE after its HELP");
            assert_eq!(kind, "gauge");
            assert!(typed.insert(name.to_owned()));
        } else {
            assert!(!line.starts_with('#'), "{line:?}");
            let (name, rest) = line.split_once('{').expect("samples carry labels");
            assert!(metric_name_ok(name), "{name:?}");
            assert_eq!(Some(name), current.as_deref(), "sample outside its family");
            assert!(typed.contains(name));
            let (labels, value) = rest.rsplit_once("} ").expect("} value");
            let labels = parse_labels(labels);
            let keys: HashSet<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys.len(), labels.len(), "label twice in {line:?}");
            let v: f64 = value.parse().expect("numeric sample");
            assert!(v.is_finite(), "{line:?}");
            assert!(
                series.insert(format!("{name}{labels:?}")),
                "series twice: {line:?}"
            );
        }
    }
}

fuzz_target!(|upses: Vec<Ups>| {
    let upses: Vec<Ups> = upses.into_iter().take(8).collect();
    check_html(&upses);
    let same = |s: &str| s.to_owned();
    let snapshots: Vec<Snapshot> = upses.iter().map(|u| snapshot(u, &same)).collect();
    check_json(&snapshots);
    check_metrics(&snapshots);
});
