//! `hosts.conf` (docs/nut-behaviour.md §5.7): the systems the CGI programs may show.
//!
//! `MONITOR <ups@host[:port]> "<description>"`, plus `CUSTOM_TEMPLATE_LIST <file>` and
//! `CUSTOM_TEMPLATE_SINGLE <file>` (template names must contain `.htm`). Keywords are
//! case-sensitive. Differences from NUT: a malformed identifier is an error up front instead
//! of a failing query later; a repeated MONITOR is dropped with a warning instead of being
//! listed twice.

use super::diag::{ConfLine, ConfResult, Seen, Sink};
use super::ups_id::UpsId;

const KEYWORDS: &[&str] = &["MONITOR", "CUSTOM_TEMPLATE_LIST", "CUSTOM_TEMPLATE_SINGLE"];

/// A parsed hosts.conf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostsConf {
    /// `MONITOR` lines in file order.
    pub monitors: Vec<HostEntry>,
    /// `CUSTOM_TEMPLATE_LIST`: template for the list page.
    pub custom_template_list: Option<String>,
    /// `CUSTOM_TEMPLATE_SINGLE`: template for the single-UPS page.
    pub custom_template_single: Option<String>,
}

/// One `MONITOR <ups-id> "<description>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEntry {
    /// The identifier as written (the CGIs pass it back in `host=` URLs).
    pub system: String,
    /// The identifier, parsed.
    pub ups: UpsId,
    /// Description shown in the table.
    pub description: String,
    /// Line number.
    pub line: usize,
}

/// Parse hosts.conf. `file_name` is only used in diagnostics.
pub fn parse_hosts_conf(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<HostsConf> {
    let (mut sink, lines) = Sink::read(text.as_ref(), file_name);
    let mut conf = HostsConf::default();
    let mut seen = Seen::default();
    for l in &lines {
        match l.keyword() {
            "MONITOR" => monitor(&mut conf, l, &mut sink),
            kw @ ("CUSTOM_TEMPLATE_LIST" | "CUSTOM_TEMPLATE_SINGLE") => {
                let usage = format!("{kw} <template file name containing .htm>");
                if !sink.arity(l, 2, 2, &usage) {
                    continue;
                }
                let file = &l.words[1];
                if !file.contains(".htm") {
                    sink.error(
                        l.line,
                        format!("{kw}: '{file}' is not a template: the name must contain .htm"),
                    );
                    continue;
                }
                seen.note(&mut sink, kw, l.line);
                let slot = if kw == "CUSTOM_TEMPLATE_LIST" {
                    &mut conf.custom_template_list
                } else {
                    &mut conf.custom_template_single
                };
                *slot = Some(file.clone());
            }
            _ => sink.unknown_directive(l, KEYWORDS),
        }
    }
    sink.finish(conf)
}

fn monitor(conf: &mut HostsConf, l: &ConfLine, sink: &mut Sink) {
    if !sink.arity(l, 3, 3, "MONITOR <ups@host[:port]> \"<description>\"") {
        return;
    }
    let system = &l.words[1];
    let ups = match UpsId::parse(system) {
        Ok(ups) => ups,
        Err(e) => return sink.error(l.line, format!("MONITOR: {e}")),
    };
    if let Some(first) = conf.monitors.iter().find(|m| &m.system == system) {
        sink.warn(
            l.line,
            format!(
                "MONITOR {system} already listed at line {} (ignored)",
                first.line
            ),
        );
        return;
    }
    conf.monitors.push(HostEntry {
        system: system.clone(),
        ups,
        description: l.words[2].clone(),
        line: l.line,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::testutil::{clean, errors, warnings};

    fn parse(text: &str) -> ConfResult<HostsConf> {
        parse_hosts_conf(text, "hosts.conf")
    }

    #[test]
    fn entries() {
        let c = clean(parse(
            "MONITOR myups@localhost \"Local UPS\"\nMONITOR ups2@[::1]:3494 \"Lab\"\n\
             CUSTOM_TEMPLATE_LIST upsstats-list.htm\nCUSTOM_TEMPLATE_SINGLE single.html\n",
        ));
        assert_eq!(c.monitors.len(), 2);
        assert_eq!(c.monitors[0].description, "Local UPS");
        assert_eq!(c.monitors[1].ups.port, Some(3494));
        assert_eq!(c.monitors[1].system, "ups2@[::1]:3494");
        assert_eq!(c.custom_template_list.as_deref(), Some("upsstats-list.htm"));
        assert_eq!(c.custom_template_single.as_deref(), Some("single.html"));
    }

    #[test]
    fn ignored_lines_warn() {
        let (c, w) = warnings(parse(
            "MONITOR a@h \"A\"\nMONITOR a@h \"again\"\nmonitor b@h \"B\"\nMONITOR c@h \"C\" x\n\
             CUSTOM_TEMPLATE_LIST a.htm\nCUSTOM_TEMPLATE_LIST b.htm\n",
        ));
        assert_eq!(
            w,
            [
                "hosts.conf:2: MONITOR a@h already listed at line 1 (ignored)",
                "hosts.conf:3: unknown directive monitor (ignored; keywords are case-sensitive, did you mean MONITOR?)",
                "hosts.conf:4: extra words ignored: x (usage: MONITOR <ups@host[:port]> \"<description>\")",
                "hosts.conf:6: CUSTOM_TEMPLATE_LIST already set at line 5; this later value wins",
            ]
        );
        assert_eq!(c.monitors.len(), 2);
        assert_eq!(c.custom_template_list.as_deref(), Some("b.htm"));
    }

    #[test]
    fn bad_lines() {
        assert_eq!(
            errors(parse(
                "MONITOR a@h\nMONITOR @h \"x\"\nMONITOR a:1 \"x\"\nCUSTOM_TEMPLATE_LIST list.txt\n\
                 CUSTOM_TEMPLATE_SINGLE\nMONITOR a@h \"50# off\"\n"
            )),
            [
                "hosts.conf:1: MONITOR needs 3 words: MONITOR <ups@host[:port]> \"<description>\"",
                "hosts.conf:2: MONITOR: '@h': missing UPS name (expected upsname[@host[:port]])",
                "hosts.conf:3: MONITOR: 'a:1': a port needs a host: write upsname@host:port",
                "hosts.conf:4: CUSTOM_TEMPLATE_LIST: 'list.txt' is not a template: the name must contain .htm",
                "hosts.conf:5: CUSTOM_TEMPLATE_SINGLE needs 2 words: CUSTOM_TEMPLATE_SINGLE <template file name containing .htm>",
                "hosts.conf:6: '#' inside quotes must be escaped as \\# (line rejected)",
            ]
        );
    }
}
