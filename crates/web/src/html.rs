//! The HTML pages: an overview table and one page per UPS with every variable.
//!
//! No JavaScript, no external assets, refreshes itself every 30 s. Links are relative, so the
//! pages work behind a reverse proxy under any base path. Every string that comes from a
//! server or a device goes through [`escape`].

use std::fmt::Write as _;

use crate::poll::Snapshot;
use crate::status;

/// How often the pages reload themselves, in seconds.
pub const REFRESH_SECONDS: u32 = 30;

const STYLE: &str = "body{font-family:sans-serif;margin:1em}\
table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left}\
th{background:#eee}.flag{display:inline-block;padding:0 .4em;margin:0 .1em;border-radius:.3em}\
.ok{background:#8d8}.warn{background:#fd6}.bad{background:#f88}.info{background:#bdf}\
.num{text-align:right}.err{color:#a00}";

/// `text` with `& < > " '` replaced by entities: safe in element content and quoted
/// attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path segment with everything but unreserved characters (and `@ :`) percent-encoded.
fn encode_segment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@:".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    );
}

fn status_cell(out: &mut String, s: &Snapshot) {
    for f in status::flags(s.var("ups.status").unwrap_or("")) {
        let _ = write!(
            out,
            "<span class=\"flag {}\" title=\"{}\">{}</span>",
            f.class,
            escape(&f.flag),
            escape(&f.human)
        );
    }
}

fn number_cell(out: &mut String, s: &Snapshot, var: &str, unit: &str) {
    match s.var(var) {
        Some(v) => {
            let _ = write!(out, "<td class=\"num\">{} {unit}</td>", escape(v));
        }
        None => out.push_str("<td></td>"),
    }
}

/// The overview: one row per UPS.
pub fn index(snapshots: &[Snapshot]) -> String {
    let mut out = String::new();
    head(&mut out, "UPS status");
    out.push_str(
        "<h1>UPS status</h1>\n<table>\n<thead><tr><th>UPS</th><th>Description</th>\
         <th>Status</th><th>Charge</th><th>Load</th><th>Runtime</th><th>Input</th>\
         <th>Output</th></tr></thead>\n<tbody>\n",
    );
    for s in snapshots {
        let _ = write!(
            out,
            "<tr><td><a href=\"ups/{}\">{}</a></td><td>{}</td>",
            escape(&encode_segment(&s.target.id())),
            escape(&s.target.system),
            escape(s.description.as_deref().unwrap_or(""))
        );
        if let Some(error) = &s.error {
            let _ = writeln!(
                out,
                "<td colspan=\"6\" class=\"err\">Unavailable: {}</td></tr>",
                escape(error)
            );
            continue;
        }
        out.push_str("<td>");
        status_cell(&mut out, s);
        out.push_str("</td>");
        number_cell(&mut out, s, "battery.charge", "%");
        number_cell(&mut out, s, "ups.load", "%");
        match s
            .var("battery.runtime")
            .and_then(|v| v.trim().parse::<f64>().ok())
        {
            Some(seconds) => {
                let _ = write!(out, "<td class=\"num\">{:.0} min</td>", seconds / 60.0);
            }
            None => out.push_str("<td></td>"),
        }
        number_cell(&mut out, s, "input.voltage", "V");
        number_cell(&mut out, s, "output.voltage", "V");
        out.push_str("</tr>\n");
    }
    out.push_str(
        "</tbody>\n</table>\n<p><a href=\"api/v1/upses\">JSON</a> · <a href=\"metrics\">metrics</a></p>\n\
         </body></html>\n",
    );
    out
}

/// One UPS: its status and every variable with its description.
pub fn detail(s: &Snapshot) -> String {
    let mut out = String::new();
    head(&mut out, &format!("{} — UPS status", s.target.system));
    let _ = write!(
        out,
        "<p><a href=\"../\">All UPSes</a></p>\n<h1>{}</h1>\n<p>{}</p>\n",
        escape(&s.target.id()),
        escape(s.description.as_deref().unwrap_or(""))
    );
    if let Some(error) = &s.error {
        let _ = write!(
            out,
            "<p class=\"err\">Unavailable: {}</p>\n</body></html>\n",
            escape(error)
        );
        return out;
    }
    out.push_str("<p>");
    status_cell(&mut out, s);
    out.push_str(
        "</p>\n<table>\n<thead><tr><th>Variable</th><th>Value</th><th>Description</th></tr></thead>\n<tbody>\n",
    );
    for (name, value) in &s.vars {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            escape(value),
            escape(s.descriptions.get(name).map_or("", String::as_str))
        );
    }
    out.push_str("</tbody>\n</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Target;

    #[test]
    fn device_strings_are_inert() {
        let s = Snapshot {
            target: Target {
                system: "u@h".into(),
                ups: "u".into(),
                host: "h".into(),
                port: 1,
                description: None,
            },
            description: Some("<script>alert('x')</script> & \"q\"".into()),
            vars: vec![
                ("ups.status".into(), "OL <b>".into()),
                ("device.model".into(), "<img src=x onerror=y>".into()),
            ],
            ..Snapshot::default()
        };
        for page in [index(std::slice::from_ref(&s)), detail(&s)] {
            assert!(
                !page.contains("<script>") && !page.contains("<img") && !page.contains("<b>"),
                "{page}"
            );
            assert!(
                page.contains(
                    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
                )
            );
        }
        assert!(index(&[s]).contains("href=\"ups/u@h:1\""));
        assert_eq!(encode_segment("a b/c@[::1]:1"), "a%20b%2Fc@%5B::1%5D:1");
    }
}
