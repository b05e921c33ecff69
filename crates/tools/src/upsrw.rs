//! `upsrw`: list a UPS's writable variables with their types and allowed values, or set one.
//! NUT 2.8.0's options, output, messages and exit codes, plus `-j` for the listing.

use std::process::ExitCode;

use nut_client::blocking::Client;
use nut_client::{Range, ValueKind, VarType};

use crate::admin::{self, AdminOptions, DEFAULT_TRACKING_TIMEOUT, Fatal, OnEof};
use crate::common::{
    Io, VERSION, answer_with_usage, atoi, prog_name, read_stdin_line, run_process,
};
use crate::getopt::{Opt, getopt_argv};
use crate::json::Json;

fn usage(io: &mut Io<'_>, prog: &str) {
    io.out(&format!(
        "Network UPS Tools {prog} {VERSION}\n\
         \n\
         usage: {prog} [-h]\n\
         \x20      {prog} [-s <variable>] [-u <username>] [-p <password>] [-w] [-t <timeout>] <ups>\n\
         \n\
         Shows and changes the writable variables of UPS hardware through upsd.\n\
         \n\
         \x20 -h            print this help\n\
         \x20 -s <variable>\tvariable to change\n\
         \t\t-s VAR=VALUE gives the value too (else it is asked for)\n\
         \x20 -l            list the writable variables (the default without -s)\n\
         \x20 -j            print the list as JSON\n\
         \x20 -u <username> user name for upsd (asked for when missing)\n\
         \x20 -p <password> password for upsd (asked for when missing)\n\
         \x20 -w            wait until the driver has applied the value\n\
         \x20               and print the result it reported\n\
         \x20 -t <timeout>\thow long -w waits, in seconds (default: {DEFAULT_TRACKING_TIMEOUT})\n\
         \n\
         \x20 <ups>         UPS identifier, <upsname>[@<hostname>[:<port>]]\n\
         \n\
         Without -s, the writable variables are listed (as with -l).\n"
    ));
}

#[derive(Debug, Default)]
struct Options {
    setvar: Option<String>,
    json: bool,
    admin: AdminOptions,
}

/// Run upsrw with `argv` (program name first); returns the exit code.
pub fn run(argv: &[String], io: &mut Io<'_>) -> u8 {
    let prog = prog_name(argv.first().map(String::as_str), "upsrw");
    let (opts, rest) = getopt_argv(argv, &prog, "hls:p:t:u:wVj");
    let mut options = Options::default();
    for opt in opts {
        match opt {
            Opt::Flag('s', value) => options.setvar = value,
            Opt::Flag('l', _) => {
                if options.setvar.take().is_some() {
                    io.errln("Listing mode requested, overriding setvar specified earlier!");
                }
            }
            Opt::Flag('j', _) => options.json = true,
            Opt::Flag(flag, value) if AdminOptions::takes(flag) => {
                if let Err(message) = options.admin.set(flag, value) {
                    io.errln(&message);
                    return 1;
                }
            }
            Opt::Flag('V', _) => {
                io.out(&format!("Network UPS Tools {prog} {VERSION}\n"));
                return 0;
            }
            other => return answer_with_usage(io, &other, |io| usage(io, &prog)),
        }
    }
    if rest.is_empty() {
        usage(io, &prog);
        return 0;
    }
    let json_errors = options.json && options.setvar.is_none();
    let fatal = |io: &mut Io<'_>, message: &str| admin::fail(io, json_errors, message);
    let (id, mut client) = match admin::open_ups(io, &rest[0], json_errors) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let result = match &options.setvar {
        Some(setvar) => set_variable(&mut client, io, &id.name, setvar, &options),
        None => list_rw(&mut client, io, &id.name, options.json),
    };
    client.close();
    match result {
        Ok(()) => 0,
        Err(message) => fatal(io, &message),
    }
}

fn set_variable(
    client: &mut Client,
    io: &mut Io<'_>,
    ups: &str,
    setvar: &str,
    options: &Options,
) -> Result<(), Fatal> {
    let (username, password) = options.admin.credentials(io, OnEof::UseDefault)?;
    let (var, value) = match setvar.split_once('=') {
        Some((var, value)) => (var.to_owned(), value.to_owned()),
        None => {
            io.out(&format!("Enter new value for {setvar}: "));
            let value = read_stdin_line().ok_or_else(|| "Error reading from stdin!".to_owned())?;
            (setvar.to_owned(), value)
        }
    };
    admin::send_credentials(client, io, &username, &password)?;
    if !var.contains('.') {
        return Err("Error: old variable names are not supported".into());
    }
    if options.admin.tracking {
        admin::enable_tracking(client, "set variable")?;
    }
    let result = client.set_var(ups, &var, &value);
    admin::report(client, io, result, &options.admin, "Set variable failed")
}

/// What upsrw shows for one writable variable, in upsrw's own classification.
#[derive(Debug)]
enum Shown {
    /// `GET TYPE` failed.
    UnknownType,
    /// A plain string with its maximum length.
    String { max_len: i64, value: String },
    /// A plain number.
    Number { value: String },
    /// An enumeration; `kind` is None for servers that do not say STRING/NUMBER.
    Enum {
        kind: Option<ValueKind>,
        options: Vec<String>,
        value: String,
    },
    /// Ranges (always numbers).
    Range { ranges: Vec<Range>, value: String },
    /// A TYPE reply without any type word upsrw knows (and no ENUM).
    Untyped,
}

fn current_value(client: &mut Client, ups: &str, var: &str, what: &str) -> Result<String, Fatal> {
    client
        .get_var(ups, var)
        .map_err(|_| format!("{what}: can't get current value of {var}"))
}

/// Classify like upsrw: RANGE wins, then STRING/NUMBER (as ENUM when flagged), then a bare
/// ENUM.
fn describe(client: &mut Client, ups: &str, var: &str) -> Result<Shown, Fatal> {
    let Ok(ty): Result<VarType, _> = client.get_type(ups, var) else {
        return Ok(Shown::UnknownType);
    };
    if ty.range {
        let value = current_value(client, ups, var, "do_range")?;
        let ranges = client
            .list_range(ups, var)
            .map_err(|e| format!("Error: {}", e.client_message()))?;
        return Ok(Shown::Range { ranges, value });
    }
    match (ty.kind, ty.enumerated) {
        (kind, true) => {
            let value = current_value(client, ups, var, "do_enum")?;
            let options = client
                .list_enum(ups, var)
                .map_err(|e| format!("Error: {}", e.client_message()))?;
            Ok(Shown::Enum {
                kind,
                options,
                value,
            })
        }
        (Some(ValueKind::String { max_len }), false) => Ok(Shown::String {
            max_len,
            value: current_value(client, ups, var, "do_string")?,
        }),
        (Some(ValueKind::Number), false) => Ok(Shown::Number {
            value: current_value(client, ups, var, "do_number")?,
        }),
        (None, false) => Ok(Shown::Untyped),
    }
}

fn render_text(name: &str, desc: &str, shown: &Shown) -> String {
    let mut text = format!("[{name}]\n{desc}\n");
    match shown {
        Shown::UnknownType => text.push_str("Unknown type\n"),
        Shown::Untyped => {}
        Shown::String { max_len, value } => {
            text.push_str(&format!(
                "Type: STRING\nMaximum length: {max_len}\nValue: {value}\n"
            ));
        }
        Shown::Number { value } => text.push_str(&format!("Type: NUMBER\nValue: {value}\n")),
        Shown::Enum {
            kind,
            options,
            value,
        } => {
            match kind {
                Some(ValueKind::String { max_len }) => {
                    text.push_str(&format!("Type: ENUM STRING\nMaximum length: {max_len}\n"));
                }
                Some(ValueKind::Number) => text.push_str("Type: ENUM NUMBER\n"),
                None => text.push_str("Type: ENUM\n"),
            }
            for option in options {
                let selected = if option == value { " SELECTED" } else { "" };
                text.push_str(&format!("Option: \"{option}\"{selected}\n"));
            }
        }
        Shown::Range { ranges, value } => {
            text.push_str("Type: RANGE NUMBER\n");
            let current = i64::from(atoi(value));
            for range in ranges {
                let selected = if (range.min..=range.max).contains(&current) {
                    " SELECTED"
                } else {
                    ""
                };
                text.push_str(&format!(
                    "Option: \"{}-{}\"{selected}\n",
                    range.min, range.max
                ));
            }
        }
    }
    text.push('\n');
    text
}

fn render_json(name: String, desc: String, shown: Shown) -> Json {
    let mut members = vec![("name", Json::Str(name)), ("description", Json::Str(desc))];
    match shown {
        Shown::UnknownType | Shown::Untyped => members.push(("type", Json::str("UNKNOWN"))),
        Shown::String { max_len, value } => {
            members.push(("type", Json::str("STRING")));
            members.push(("maximum_length", Json::Int(max_len)));
            members.push(("value", Json::Str(value)));
        }
        Shown::Number { value } => {
            members.push(("type", Json::str("NUMBER")));
            members.push(("value", Json::Str(value)));
        }
        Shown::Enum {
            kind,
            options,
            value,
        } => {
            let ty = match kind {
                Some(ValueKind::String { .. }) => "ENUM STRING",
                Some(ValueKind::Number) => "ENUM NUMBER",
                None => "ENUM",
            };
            members.push(("type", Json::str(ty)));
            if let Some(ValueKind::String { max_len }) = kind {
                members.push(("maximum_length", Json::Int(max_len)));
            }
            members.push((
                "options",
                Json::Array(options.into_iter().map(Json::Str).collect()),
            ));
            members.push(("value", Json::Str(value)));
        }
        Shown::Range { ranges, value } => {
            members.push(("type", Json::str("RANGE NUMBER")));
            let ranges = ranges
                .into_iter()
                .map(|r| Json::object([("min", Json::Int(r.min)), ("max", Json::Int(r.max))]));
            members.push(("ranges", Json::Array(ranges.collect())));
            members.push(("value", Json::Str(value)));
        }
    }
    Json::object(members)
}

fn list_rw(client: &mut Client, io: &mut Io<'_>, ups: &str, json: bool) -> Result<(), Fatal> {
    let vars = client
        .list_rw(ups)
        .map_err(|e| format!("Error: {}", e.client_message()))?;
    let mut items = Vec::new();
    for var in vars {
        let desc = client
            .get_desc(ups, &var.name)
            .unwrap_or_else(|_| nut_core::net::reply::DESC_UNAVAILABLE.to_owned());
        let shown = describe(client, ups, &var.name);
        if json {
            items.push(render_json(var.name, desc, shown?));
        } else {
            // Text is printed as it goes, like upsrw, so a fatal error mid-list keeps what
            // was shown before it.
            match shown {
                Ok(shown) => io.out(&render_text(&var.name, &desc, &shown)),
                Err(message) => {
                    io.out(&format!("[{}]\n{desc}\n", var.name));
                    return Err(message);
                }
            }
        }
    }
    if json {
        io.out(&Json::Array(items).to_pretty());
    }
    Ok(())
}

/// The `upsrw` binary.
pub fn main() -> ExitCode {
    run_process(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ENUM and RANGE layouts of upsrw 2.8.0 (no `Value:` line; `SELECTED` on the
    /// current option; a range is selected by the integer part of the value).
    #[test]
    fn enum_and_range_layouts() {
        let shown = Shown::Enum {
            kind: Some(ValueKind::Number),
            options: vec!["100".into(), "95".into()],
            value: "95".into(),
        };
        assert_eq!(
            render_text(
                "input.transfer.low",
                "Low voltage transfer point (V)",
                &shown
            ),
            "[input.transfer.low]\nLow voltage transfer point (V)\nType: ENUM NUMBER\n\
             Option: \"100\"\nOption: \"95\" SELECTED\n\n"
        );
        let shown = Shown::Enum {
            kind: Some(ValueKind::String { max_len: 8 }),
            options: vec!["on".into()],
            value: "off".into(),
        };
        assert_eq!(
            render_text("x.y", "d", &shown),
            "[x.y]\nd\nType: ENUM STRING\nMaximum length: 8\nOption: \"on\"\n\n"
        );
        let shown = Shown::Range {
            ranges: vec![Range { min: 120, max: 130 }, Range { min: 135, max: 140 }],
            value: "125.9".into(),
        };
        assert_eq!(
            render_text("input.transfer.high", "High", &shown),
            "[input.transfer.high]\nHigh\nType: RANGE NUMBER\n\
             Option: \"120-130\" SELECTED\nOption: \"135-140\"\n\n"
        );
        assert_eq!(
            render_text("a.b", "d", &Shown::UnknownType),
            "[a.b]\nd\nUnknown type\n\n"
        );
        let json = render_json("a.b".into(), "d".into(), shown).to_pretty();
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(parsed["ranges"][1]["max"], 140);
        assert_eq!(parsed["type"], "RANGE NUMBER");
    }
}
