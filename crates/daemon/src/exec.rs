//! The environment of the programs the daemons run (NOTIFYCMD, upssched's CMDSCRIPT,
//! SHUTDOWNCMD, the drivers upsdrvctl starts, a driver's companion program), built as a
//! value and handed to the child — `Command::env_clear().envs(…)` or `execve` — never by
//! changing the daemon's own environment before a spawn (`set_var` is unsound once a thread
//! runs, and would leak into every later child).
//!
//! As NUT does it: the child gets the daemon's environment, with the variables of the event
//! (`NOTIFYTYPE`, `UPSNAME`, …) added or replacing inherited ones of the same name.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt as _;

/// This process's environment with `set` added (replacing inherited variables of the same
/// name), in the inherited order followed by `set`'s.
pub fn environment<K, V>(set: &[(K, V)]) -> Vec<(OsString, OsString)>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    environment_from(std::env::vars_os(), set)
}

/// [`environment`] over a given inherited environment.
pub fn environment_from<K, V>(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    set: &[(K, V)],
) -> Vec<(OsString, OsString)>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let replaced = |key: &OsStr| set.iter().any(|(k, _)| k.as_ref() == key);
    inherited
        .into_iter()
        .filter(|(key, _)| !replaced(key))
        .chain(
            set.iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
        )
        .collect()
}

/// `KEY=value` strings for `execve`. A variable that cannot be passed (a NUL byte, a `=` or
/// an empty name) is left out.
pub fn envp(env: &[(OsString, OsString)]) -> Vec<CString> {
    env.iter()
        .filter(|(key, _)| !key.is_empty() && !key.as_bytes().contains(&b'='))
        .filter_map(|(key, value)| {
            let mut pair = key.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            CString::new(pair).ok()
        })
        .collect()
}

/// For tests of the programs a daemon runs: an `env -0` dump the child wrote, as sorted
/// `KEY=value` lines, without the variables `/bin/sh` sets itself (`PWD`, `SHLVL`, `_`,
/// `OLDPWD`); compare it with [`expected_dump`].
#[doc(hidden)]
pub fn env_dump(bytes: &[u8]) -> Vec<String> {
    let mut vars: Vec<String> = bytes
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .filter(|v| !SHELL_VARS.iter().any(|s| v.split('=').next() == Some(*s)))
        .collect();
    vars.sort();
    vars
}

/// [`environment`]`(set)` in the form of [`env_dump`].
#[doc(hidden)]
pub fn expected_dump(set: &[(&str, &str)]) -> Vec<String> {
    let env = environment(set);
    env_dump(
        &envp(&env)
            .iter()
            .flat_map(|c| c.as_bytes_with_nul().to_vec())
            .collect::<Vec<u8>>(),
    )
}

const SHELL_VARS: [&str; 4] = ["PWD", "SHLVL", "_", "OLDPWD"];

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(env: &[(OsString, OsString)]) -> Vec<String> {
        env.iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect()
    }

    #[test]
    fn the_event_variables_come_on_top_of_the_inherited_ones() {
        let inherited = [("PATH", "/bin"), ("UPSNAME", "stale@h"), ("HOME", "/root")]
            .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let env = environment_from(inherited, &[("NOTIFYTYPE", "ONBATT"), ("UPSNAME", "ups@h")]);
        assert_eq!(
            strings(&env),
            [
                "PATH=/bin",
                "HOME=/root",
                "NOTIFYTYPE=ONBATT",
                "UPSNAME=ups@h"
            ]
        );
        let nothing: [(&str, &str); 0] = [];
        assert_eq!(environment_from(env.clone(), &nothing), env);
    }

    #[test]
    fn this_process_environment_is_inherited() {
        let env = environment(&[("NUT_RS_EXEC_TEST", "1")]);
        for (key, value) in std::env::vars_os() {
            if key != "NUT_RS_EXEC_TEST" {
                assert!(env.contains(&(key.clone(), value)), "{key:?} missing");
            }
        }
        assert_eq!(
            env.last().unwrap(),
            &("NUT_RS_EXEC_TEST".into(), "1".into())
        );
    }

    #[test]
    fn envp_is_key_equals_value_and_skips_what_cannot_be_passed() {
        let env = [
            ("A", "1 2"),
            ("EMPTY", ""),
            ("", "x"),
            ("B=C", "y"),
            ("D", "a\0b"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let got: Vec<_> = envp(&env)
            .into_iter()
            .map(|c| c.into_string().unwrap())
            .collect();
        assert_eq!(got, ["A=1 2", "EMPTY="]);
    }

    #[test]
    fn an_env_dump_is_read_without_the_shell_variables() {
        let dump = b"PWD=/\0B=2\0A=x=y\0SHLVL=1\0_=/usr/bin/env\0PWDX=k\0";
        assert_eq!(env_dump(dump), ["A=x=y", "B=2", "PWDX=k"]);
    }
}
