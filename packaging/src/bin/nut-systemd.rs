//! `nut-systemd`: the small helper behind nut-rs's systemd units.
//!
//! ```text
//! nut-systemd mode-allows driver|server|monitor|logger   ExecCondition= of the units
//! nut-systemd list                                       the driver instances ups.conf asks for
//! nut-systemd unit <section>                             the unit name of one section's driver
//! nut-systemd generate <dir>                             run the generator into <dir>
//! nut-systemd nut-conf <KEY>                             print nut.conf's value of KEY
//! nut-driver-generator <normal> [<early> <late>]         (as a systemd generator, via symlink)
//! ```
//!
//! Configuration comes from `$NUT_CONFPATH` (default `/etc/nut`), as for every NUT program.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nut_rs_deb::escape::driver_unit;
use nut_rs_deb::generator;
use nut_rs_deb::mode::{self, Role, Verdict};

const GENERATOR_NAME: &str = "nut-driver-generator";

const USAGE: &str = "\
usage: nut-systemd mode-allows driver|server|monitor|logger
       nut-systemd list
       nut-systemd unit <section>
       nut-systemd generate <output-dir>
       nut-systemd nut-conf <KEY>
       nut-driver-generator <normal-dir> [<early-dir> <late-dir>]

Configuration is read from $NUT_CONFPATH (default /etc/nut).
";

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().map(PathBuf::from).unwrap_or_default();
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let invoked_as = argv0
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let code = if invoked_as == GENERATOR_NAME {
        match args.first() {
            Some(dir) => generate(Path::new(dir), GENERATOR_NAME),
            None => usage_error("a generator needs its output directory"),
        }
    } else {
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["mode-allows", role] => mode_allows(role),
            ["list"] => list(),
            ["unit", section] => unit(section),
            ["generate", dir] => generate(Path::new(dir), "nut-systemd generate"),
            ["nut-conf", key] => nut_conf(key),
            ["-h" | "--help"] => {
                print!("{USAGE}");
                0
            }
            ["-V" | "--version"] => {
                println!("nut-systemd (nut-rs) {}", env!("CARGO_PKG_VERSION"));
                0
            }
            _ => usage_error("unknown or missing command"),
        }
    };
    ExitCode::from(code)
}

fn usage_error(message: &str) -> u8 {
    eprintln!("nut-systemd: {message}\n{USAGE}");
    2
}

fn mode_allows(role: &str) -> u8 {
    let Some(role) = Role::parse(role) else {
        return usage_error(&format!("unknown role {role:?}"));
    };
    let verdict = mode::check(&nut_daemon::paths::confpath().join("nut.conf"), role);
    match &verdict {
        Verdict::Run => {}
        // systemd logs an ExecCondition's output; one line says why the unit did not start.
        Verdict::Skip(reason) => println!("{reason}"),
        Verdict::Fail(reason) => eprintln!("nut-systemd: {reason}"),
    }
    verdict.exit_code()
}

/// For the late-shutdown hook (`nutshutdown`), which reads nut.conf with nut-core's parser
/// instead of sourcing it: the value and a newline, nothing when unset, exit 1 with the reason
/// when nut.conf is unreadable or invalid.
fn nut_conf(key: &str) -> u8 {
    match mode::value(&nut_daemon::paths::confpath().join("nut.conf"), key) {
        Ok(Some(value)) => {
            println!("{value}");
            0
        }
        Ok(None) => 0,
        Err(e) => {
            eprintln!("nut-systemd: {e}");
            1
        }
    }
}

fn load_plan() -> Result<(PathBuf, generator::Plan), String> {
    let ups_conf = nut_daemon::paths::confpath().join("ups.conf");
    let plan = generator::plan_from_file(&ups_conf)?;
    Ok((ups_conf, plan))
}

fn list() -> u8 {
    match load_plan() {
        Ok((_, plan)) => {
            for i in &plan.instances {
                println!("{}\t{}\t{}", i.unit, i.section, i.driver_path.display());
            }
            for p in &plan.problems {
                eprintln!("nut-systemd: {p}");
            }
            u8::from(!plan.problems.is_empty())
        }
        Err(e) => {
            eprintln!("nut-systemd: {e}");
            1
        }
    }
}

fn unit(section: &str) -> u8 {
    match driver_unit(section) {
        Some(unit) => {
            println!("{unit}");
            0
        }
        None => {
            eprintln!("nut-systemd: {section:?} cannot be a systemd instance name");
            1
        }
    }
}

fn generate(out_dir: &Path, who: &str) -> u8 {
    let (ups_conf, plan) = match load_plan() {
        Ok(loaded) => loaded,
        Err(e) => {
            // Nothing is generated: drivers stay stopped rather than started from a
            // half-understood file.
            eprintln!("{who}: {e}");
            return 1;
        }
    };
    let mut problems = plan.problems.clone();
    match generator::write(out_dir, &plan, &ups_conf) {
        Ok(more) => problems.extend(more),
        Err(e) => problems.push(format!("can't write into {}: {e}", out_dir.display())),
    }
    for p in &problems {
        eprintln!("{who}: {p}");
    }
    u8::from(!problems.is_empty())
}
