//! `upscmd`: list a UPS's instant commands, or run one (optionally waiting for the driver's
//! result with status tracking). NUT 2.8.0's options, messages and exit codes, plus `-j`
//! for the list.

use std::process::ExitCode;

use nut_client::blocking::Client;

use crate::admin::{self, AdminOptions, DEFAULT_TRACKING_TIMEOUT, Fatal, OnEof};
use crate::common::{Io, VERSION, answer_with_usage, prog_name, run_process};
use crate::getopt::{Opt, getopt_argv};
use crate::json::Json;

fn usage(io: &mut Io<'_>, prog: &str) {
    io.out(&format!(
        "Network UPS Tools upscmd {VERSION}\n\
         \n\
         usage: {prog} [-h]\n\
         \x20      {prog} [-l <ups>]\n\
         \x20      {prog} [-u <username>] [-p <password>] [-w] [-t <timeout>] <ups> <command> [<value>]\n\
         \n\
         Sends instant commands to UPS hardware through upsd.\n\
         \n\
         \x20 -h\t\tprint this help\n\
         \x20 -l <ups>\tlist the instant commands of UPS <ups>\n\
         \x20 -j\t\twith -l: print the list as JSON\n\
         \x20 -u <username>\tuser name for upsd (asked for when missing)\n\
         \x20 -p <password>\tpassword for upsd (asked for when missing)\n\
         \x20 -w            wait until the driver has carried out the command\n\
         \x20               and print the result it reported\n\
         \x20 -t <timeout>\thow long -w waits, in seconds (default: {DEFAULT_TRACKING_TIMEOUT})\n\
         \n\
         \x20 <ups>\t\tUPS identifier, <upsname>[@<hostname>[:<port>]]\n\
         \x20 <command>\tinstant command, e.g. test.panel.start\n\
         \x20 [<value>]\toptional argument of the command, e.g. a number of seconds\n"
    ));
}

#[derive(Debug, Default)]
struct Options {
    list: bool,
    json: bool,
    admin: AdminOptions,
}

enum Parsed {
    Run(Options, Vec<String>),
    Exit(u8),
}

fn parse(argv: &[String], io: &mut Io<'_>, prog: &str) -> Parsed {
    let (opts, rest) = getopt_argv(argv, prog, "lhu:p:t:wVj");
    let mut options = Options::default();
    for opt in opts {
        match opt {
            Opt::Flag('l', _) => options.list = true,
            Opt::Flag('j', _) => options.json = true,
            Opt::Flag(flag, value) if AdminOptions::takes(flag) => {
                if let Err(message) = options.admin.set(flag, value) {
                    io.errln(&message);
                    return Parsed::Exit(1);
                }
            }
            Opt::Flag('V', _) => {
                io.errln(&format!("Network UPS Tools upscmd {VERSION}"));
                return Parsed::Exit(0);
            }
            other => {
                return Parsed::Exit(answer_with_usage(io, &other, |io| usage(io, prog)));
            }
        }
    }
    Parsed::Run(options, rest)
}

/// Run upscmd with `argv` (program name first); returns the exit code.
pub fn run(argv: &[String], io: &mut Io<'_>) -> u8 {
    let prog = prog_name(argv.first().map(String::as_str), "upscmd");
    let (options, rest) = match parse(argv, io, &prog) {
        Parsed::Run(options, rest) => (options, rest),
        Parsed::Exit(code) => return code,
    };
    if rest.is_empty() {
        usage(io, &prog);
        return 0;
    }
    let json_errors = options.json && options.list;
    let fatal = |io: &mut Io<'_>, message: &str| admin::fail(io, json_errors, message);
    let (id, mut client) = match admin::open_ups(io, &rest[0], json_errors) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let result = if options.list {
        list_commands(&mut client, io, &id.name, options.json)
    } else if rest.len() < 2 {
        usage(io, &prog);
        Ok(())
    } else {
        run_command(&mut client, io, &id.name, &rest[1..], &options)
    };
    client.close();
    match result {
        Ok(()) => 0,
        Err(message) => fatal(io, &message),
    }
}

fn list_commands(client: &mut Client, io: &mut Io<'_>, ups: &str, json: bool) -> Result<(), Fatal> {
    let commands = client
        .list_commands(ups)
        .map_err(|e| format!("Error: {}", e.client_message()))?;
    // All names first, then the descriptions, as upscmd does (one LIST, then GETs).
    let described: Vec<(String, Option<String>)> = commands
        .into_iter()
        .map(|cmd| {
            let desc = client.get_cmd_desc(ups, &cmd).ok();
            (cmd, desc)
        })
        .collect();
    if json {
        let items = described.into_iter().map(|(name, desc)| {
            let mut members = vec![("name", Json::Str(name))];
            if let Some(desc) = desc {
                members.push(("description", Json::Str(desc)));
            }
            Json::object(members)
        });
        io.out(&Json::Array(items.collect()).to_pretty());
        return Ok(());
    }
    let mut text = format!("Instant commands supported on UPS [{ups}]:\n\n");
    for (name, desc) in described {
        match desc {
            Some(desc) => text.push_str(&format!("{name} - {desc}\n")),
            None => text.push_str(&format!("{name}\n")),
        }
    }
    io.out(&text);
    Ok(())
}

fn run_command(
    client: &mut Client,
    io: &mut Io<'_>,
    ups: &str,
    args: &[String],
    options: &Options,
) -> Result<(), Fatal> {
    let command = &args[0];
    if !command.contains('.') {
        return Err("Error: old command names are not supported".into());
    }
    let (username, password) = options.admin.credentials(io, OnEof::Fail)?;
    admin::send_credentials(client, io, &username, &password)?;
    if options.admin.tracking {
        admin::enable_tracking(client, "command")?;
    }
    let result = client.instcmd(ups, command, args.get(1).map(String::as_str));
    admin::report(client, io, result, &options.admin, "Instant command failed")
}

/// The `upscmd` binary.
pub fn main() -> ExitCode {
    run_process(run)
}
