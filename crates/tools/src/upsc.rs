//! `upsc`: list UPSes, their variables or their clients (NUT's read-only client).
//!
//! Same options, output, messages and exit codes as NUT 2.8.0's upsc, plus `-j` for JSON
//! (the document shapes are in docs/json-output.md).

use std::process::ExitCode;

use nut_client::blocking::Client;
use nut_core::conf::ups_id::DEFAULT_PORT;

use crate::common::{
    Io, VERSION, answer_with_usage, open_connection, parse_host, parse_ups, prog_name, run_process,
};
use crate::getopt::{Opt, getopt_argv};
use crate::json::Json;

fn usage(io: &mut Io<'_>, prog: &str) {
    io.out(&format!(
        "Network UPS Tools upsc {VERSION}\n\
         \n\
         usage: {prog} -l | -L [<hostname>[:port]]\n\
         \x20      {prog} <ups> [<variable>]\n\
         \x20      {prog} -c <ups>\n\
         \n\
         Read-only client: shows UPS names, variables and clients.\n\
         \n\
         First form (UPS names):\n\
         \x20 -l         - print the name of every UPS on <hostname>, one per line.\n\
         \x20 -L         - the same, each name followed by its description.\n\
         \x20              Default hostname: localhost\n\
         \n\
         Second form (variables):\n\
         \x20 <ups>      - UPS identifier, <upsname>[@<hostname>[:<port>]]\n\
         \x20 <variable> - print only the value of this variable.\n\
         \x20              Default: every variable of <ups>\n\
         \n\
         Third form (clients of a UPS):\n\
         \x20 -c         - print the address of each client logged in to <ups>, one per line.\n\
         \x20 <ups>      - UPS identifier, <upsname>[@<hostname>[:<port>]]\n\
         \n\
         Common options:\n\
         \x20 -j         - print JSON instead of text\n\
         \x20 -V         - print the version\n\
         \x20 -h         - print this help\n"
    ));
}

/// What the command line asks for.
#[derive(Debug, Default)]
struct Mode {
    list: bool,
    verbose: bool,
    clients: bool,
    json: bool,
}

/// Print a failure: `Error: <msg>` on stderr (every line of `msg`), and with `-j` also
/// `{"error": …}` on stdout. Exit code 1.
fn fail(io: &mut Io<'_>, json: bool, message: &str) -> u8 {
    if json {
        io.out(&Json::error(&message.replace('\n', " ")).to_pretty());
    }
    io.errln(&format!("Error: {message}"));
    1
}

/// Run upsc with `argv` (program name first); returns the exit code.
pub fn run(argv: &[String], io: &mut Io<'_>) -> u8 {
    let prog = prog_name(argv.first().map(String::as_str), "upsc");
    let (opts, rest) = getopt_argv(argv, &prog, "hlLcVj");
    let mut mode = Mode::default();
    for opt in opts {
        match opt {
            Opt::Flag('L', _) => {
                mode.list = true;
                mode.verbose = true;
            }
            Opt::Flag('l', _) => mode.list = true,
            Opt::Flag('c', _) => mode.clients = true,
            Opt::Flag('j', _) => mode.json = true,
            Opt::Flag('V', _) => {
                io.errln(&format!("Network UPS Tools upsc {VERSION}"));
                return 0;
            }
            other => return answer_with_usage(io, &other, |io| usage(io, &prog)),
        }
    }
    let json = mode.json;
    if mode.list {
        let host = match parse_host(rest.first().map(String::as_str)) {
            Ok(host) => host,
            Err(line) => {
                io.errln(&line);
                return fail(
                    io,
                    json,
                    "invalid hostname.\nRequired format: [hostname[:port]]",
                );
            }
        };
        let mut client = match open_connection(io, &host.host, host.port.unwrap_or(DEFAULT_PORT)) {
            Ok(client) => client,
            Err(message) => return fail(io, json, &message),
        };
        let code = list_upses(&mut client, io, &mode);
        client.close();
        return code;
    }
    let id = match parse_ups(rest.first().map(String::as_str)) {
        Ok(id) => id,
        Err(line) => {
            if let Some(line) = line {
                io.errln(&line);
            }
            return fail(
                io,
                json,
                "invalid UPS definition.\nRequired format: upsname[@hostname[:port]]",
            );
        }
    };
    let mut client = match open_connection(io, id.host_or_default(), id.port_or_default()) {
        Ok(client) => client,
        Err(message) => return fail(io, json, &message),
    };
    let code = if mode.clients {
        list_clients(&mut client, io, &id.name, json)
    } else if let Some(var) = rest.get(1) {
        print_var(&mut client, io, &id.name, var, json)
    } else {
        list_vars(&mut client, io, &id.name, json)
    };
    client.close();
    code
}

fn list_upses(client: &mut Client, io: &mut Io<'_>, mode: &Mode) -> u8 {
    let upses = match client.list_ups() {
        Ok(upses) => upses,
        Err(e) => return fail(io, mode.json, &e.client_message()),
    };
    if mode.json {
        let doc = if mode.verbose {
            Json::object(
                upses
                    .into_iter()
                    .map(|u| (u.name, Json::Str(u.description))),
            )
        } else {
            Json::Array(upses.into_iter().map(|u| Json::Str(u.name)).collect())
        };
        io.out(&doc.to_pretty());
        return 0;
    }
    let mut text = String::new();
    for ups in upses {
        if mode.verbose {
            text.push_str(&format!("{}: {}\n", ups.name, ups.description));
        } else {
            text.push_str(&format!("{}\n", ups.name));
        }
    }
    io.out(&text);
    0
}

fn list_clients(client: &mut Client, io: &mut Io<'_>, ups: &str, json: bool) -> u8 {
    match client.list_clients(ups) {
        Err(e) => fail(io, json, &e.client_message()),
        Ok(addresses) if json => {
            io.out(&Json::Array(addresses.into_iter().map(Json::Str).collect()).to_pretty());
            0
        }
        Ok(addresses) => {
            io.out(
                &addresses
                    .iter()
                    .map(|a| format!("{a}\n"))
                    .collect::<String>(),
            );
            0
        }
    }
}

fn print_var(client: &mut Client, io: &mut Io<'_>, ups: &str, var: &str, json: bool) -> u8 {
    if !var.contains('.') {
        return fail(io, json, "old-style variable names are not supported");
    }
    match client.get_var(ups, var) {
        Err(e) => fail(io, json, &e.client_message()),
        Ok(value) if json => {
            io.out(&Json::Str(value).to_pretty());
            0
        }
        Ok(value) => {
            io.out(&format!("{value}\n"));
            0
        }
    }
}

fn list_vars(client: &mut Client, io: &mut Io<'_>, ups: &str, json: bool) -> u8 {
    match client.list_vars(ups) {
        Err(e) => fail(io, json, &e.client_message()),
        Ok(vars) if json => {
            let doc = Json::object(vars.into_iter().map(|v| (v.name, Json::Str(v.value))));
            io.out(&doc.to_pretty());
            0
        }
        Ok(vars) => {
            let text: String = vars
                .iter()
                .map(|v| format!("{}: {}\n", v.name, v.value))
                .collect();
            io.out(&text);
            0
        }
    }
}

/// The `upsc` binary.
pub fn main() -> ExitCode {
    run_process(run)
}
