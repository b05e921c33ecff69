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
        .env_clear()
        .envs(nut_daemon::exec::environment(&cmd.env))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => tracing::warn!("{program} {} exited with {s}", rest.join(" ")),
        Err(e) => tracing::error!("Can't run {program}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdscript_gets_the_inherited_environment_and_the_events() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("env");
        let cmd = RunCmd {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("exec /usr/bin/env -0 > '{}'", out.display()),
            ],
            env: vec![
                ("NOTIFYTYPE".into(), "ONBATT".into()),
                ("UPSNAME".into(), "ups@h".into()),
            ],
        };
        run(&cmd);
        let expected =
            nut_daemon::exec::expected_dump(&[("NOTIFYTYPE", "ONBATT"), ("UPSNAME", "ups@h")]);
        let dumped = nut_daemon::exec::env_dump(&std::fs::read(&out).unwrap());
        let path = format!("PATH={}", std::env::var("PATH").unwrap());
        for var in ["NOTIFYTYPE=ONBATT", "UPSNAME=ups@h", path.as_str()] {
            assert!(dumped.iter().any(|v| v == var), "{var} missing: {dumped:?}");
        }
        assert_eq!(dumped, expected);
    }
}
