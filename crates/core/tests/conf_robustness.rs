//! Every config parser takes arbitrary bytes without panicking, and every diagnostic it
//! returns points into the file it was given.

use nut_core::conf::{self, ConfResult, Diagnostic};
use proptest::prelude::*;

/// Text made of config-file vocabulary and the tokenizer's special characters, so random
/// inputs reach deep into the parsers instead of stopping at the first word.
fn config_text() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just(" ".to_owned()),
        Just("=".to_owned()),
        Just("\"".to_owned()),
        Just("#".to_owned()),
        Just("\\".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("*".to_owned()),
        Just("@".to_owned()),
        Just(":".to_owned()),
        Just("'".to_owned()),
        prop::sample::select(vec![
            "MONITOR",
            "LISTEN",
            "AT",
            "START-TIMER",
            "CANCEL-TIMER",
            "EXECUTE",
            "ONBATT",
            "CMDSCRIPT",
            "PIPEFN",
            "LOCKFN",
            "NOTIFYMSG",
            "NOTIFYFLAG",
            "SYSLOG+EXEC",
            "driver",
            "port",
            "password",
            "upsmon",
            "primary",
            "actions",
            "instcmds",
            "MODE",
            "export",
            "VARDESC",
            "CMDDESC",
            "ups@host:3493",
            "[::1]",
            "%s",
            "-1",
            "0",
            "15",
            "99999999999",
            "override.x",
            "nolock",
            "DEBUG_MIN",
            "SHUTDOWNEXIT",
        ])
        .prop_map(str::to_owned),
        "[a-z0-9.]{1,8}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|p| p.concat().into_bytes())
}

/// Check what every parser must guarantee for any input.
fn check<T>(file: &str, text: &[u8], result: ConfResult<T>) -> Result<(), TestCaseError> {
    let physical_lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = match result {
        Ok(p) => (Vec::new(), p.warnings),
        Err(e) => {
            prop_assert!(!e.errors.is_empty());
            (e.errors, e.warnings)
        }
    };
    for (list, is_error) in [(&errors, true), (&warnings, false)] {
        let mut previous = 0;
        for d in list.iter() {
            prop_assert_eq!(&d.file, file);
            prop_assert_eq!(d.is_error(), is_error);
            prop_assert!(
                d.line <= physical_lines,
                "{d} beyond {physical_lines} lines"
            );
            prop_assert!(d.line >= previous, "diagnostics out of line order");
            prop_assert!(!d.message.is_empty());
            previous = d.line;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_input_is_handled(text in config_text()) {
        check("ups.conf", &text, conf::parse_ups_conf(&text, "ups.conf"))?;
        check("upsd.conf", &text, conf::parse_upsd_conf(&text, "upsd.conf"))?;
        check("upsd.users", &text, conf::parse_upsd_users(&text, "upsd.users"))?;
        check("upsmon.conf", &text, conf::parse_upsmon_conf(&text, "upsmon.conf"))?;
        check("upssched.conf", &text, conf::parse_upssched_conf(&text, "upssched.conf"))?;
        check("nut.conf", &text, conf::parse_nut_conf(&text, "nut.conf"))?;
        check("hosts.conf", &text, conf::parse_hosts_conf(&text, "hosts.conf"))?;
        check("cmdvartab", &text, conf::parse_cmdvartab(&text, "cmdvartab"))?;
    }

    #[test]
    fn raw_bytes_are_handled(text in prop::collection::vec(any::<u8>(), 0..300)) {
        check("ups.conf", &text, conf::parse_ups_conf(&text, "ups.conf"))?;
        check("upsmon.conf", &text, conf::parse_upsmon_conf(&text, "upsmon.conf"))?;
        check("nut.conf", &text, conf::parse_nut_conf(&text, "nut.conf"))?;
    }
}
