//! Running CMDSCRIPT: for `EXECUTE` rules in the invocation and for expired timers in the
//! daemon.

use nut_upsmon::upssched::RunCmd;

/// Run a command and wait for it.
pub fn run(cmd: &RunCmd) {
    let Some((program, rest)) = cmd.argv.split_first() else {
        return;
    };
    let status = std::process::Command::new(program)
        .args(rest)
        .envs(cmd.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => tracing::warn!("{program} {} exited with {s}", rest.join(" ")),
        Err(e) => tracing::error!("Can't run {program}: {e}"),
    }
}
