use super::*;
use crate::conf::testutil::{clean, errors, warnings};

fn parse(text: &str) -> ConfResult<UpsschedConf> {
    parse_upssched_conf(text, "upssched.conf")
}

const HEAD: &str = "CMDSCRIPT /usr/local/bin/upssched-cmd --verbose\n\
                    PIPEFN /run/nut/upssched/upssched.pipe\nLOCKFN /run/nut/upssched/upssched.lock\n";

#[test]
fn prerequisites_alone_are_fine() {
    let c = clean(parse("CMDSCRIPT /bin/upssched-cmd\n"));
    assert_eq!(c.cmdscript, Some(vec!["/bin/upssched-cmd".to_owned()]));
    assert!(c.rules.is_empty());
}

#[test]
fn every_rule_kind() {
    let c = clean(parse(&format!(
        "{HEAD}debug_min 2\nAT ONBATT * START-TIMER onbatt 30\n\
         AT onbatt ups@host START-TIMER-SHARED shared 60\nAT ONLINE * CANCEL-TIMER onbatt\n\
         AT ONLINE * CANCEL-TIMER onbatt online-again\nAT ONLINE ups@host CANCEL-TIMER-MATCHED shared x\n\
         AT COMMBAD * EXECUTE commbad\n"
    )));
    assert_eq!(
        c.cmdscript,
        Some(vec![
            "/usr/local/bin/upssched-cmd".to_owned(),
            "--verbose".to_owned()
        ])
    );
    assert_eq!(c.pipefn.as_deref(), Some("/run/nut/upssched/upssched.pipe"));
    assert_eq!(c.lockfn.as_deref(), Some("/run/nut/upssched/upssched.lock"));
    assert_eq!(c.debug_min, Some(2));
    let actions: Vec<&AtAction> = c.rules.iter().map(|r| &r.action).collect();
    assert_eq!(
        actions,
        [
            &AtAction::StartTimer {
                name: "onbatt".into(),
                seconds: 30
            },
            &AtAction::StartTimerShared {
                name: "shared".into(),
                seconds: 60
            },
            &AtAction::CancelTimer {
                name: "onbatt".into(),
                fallback: None
            },
            &AtAction::CancelTimer {
                name: "onbatt".into(),
                fallback: Some("online-again".into())
            },
            &AtAction::CancelTimerMatched {
                name: "shared".into(),
                fallback: Some("x".into())
            },
            &AtAction::Execute {
                command: "commbad".into()
            },
        ]
    );
    assert_eq!(c.rules[1].notify_type, NotifyType::OnBatt);
    assert_eq!(c.rules[1].ups, UpsMatch::Name("ups@host".into()));
    assert_eq!(c.rules[0].line, 5);

    let on_line: Vec<usize> = c
        .matching(NotifyType::Online, "ups@host")
        .map(|r| r.line)
        .collect();
    assert_eq!(on_line, [7, 8, 9]);
    let other_ups: Vec<usize> = c
        .matching(NotifyType::Online, "other@host")
        .map(|r| r.line)
        .collect();
    assert_eq!(other_ups, [7, 8]);
    assert_eq!(
        c.matching(NotifyType::OnBatt, "UPS@host").count(),
        1,
        "UPS names compare exactly"
    );
}

#[test]
fn warnings_for_ignored_words() {
    let (c, w) = warnings(parse(&format!(
        "{HEAD}PIPEFN /tmp/p\nWHATEVER x\nat ONBATT * EXECUTE x\nAT ONBATT * EXECUTE a b\n\
         AT ONBATT * START-TIMER t 5 extra\n"
    )));
    assert_eq!(
        w,
        [
            "upssched.conf:4: PIPEFN already set at line 2; this later value wins",
            "upssched.conf:5: unknown directive WHATEVER (ignored)",
            "upssched.conf:6: unknown directive at (ignored; keywords are case-sensitive, did you mean AT?)",
            "upssched.conf:7: extra words ignored: b (EXECUTE takes one word; quote a command with spaces)",
            "upssched.conf:8: extra words ignored: extra (usage: AT <notify type> <upsname|*> \
             <START-TIMER|START-TIMER-SHARED|CANCEL-TIMER|CANCEL-TIMER-MATCHED|EXECUTE> <argument>...)",
        ]
    );
    assert_eq!(c.pipefn.as_deref(), Some("/tmp/p"));
    assert_eq!(c.rules.len(), 2);
}

#[test]
fn at_before_prerequisites() {
    assert_eq!(
        errors(parse(
            "PIPEFN /p\nAT ONBATT * EXECUTE x\nAT ONLINE * EXECUTE y\nCMDSCRIPT /s\nLOCKFN /l\n"
        )),
        [
            "upssched.conf:2: CMDSCRIPT must be set before the first AT line",
            "upssched.conf:2: LOCKFN must be set before the first AT line",
        ]
    );
}

#[test]
fn bad_rules() {
    assert_eq!(
        errors(parse(&format!(
            "{HEAD}AT ONBATT *\nAT NOSUCH * EXECUTE x\nAT ONBATT * START-TIMER t\n\
             AT ONBATT * START-TIMER t soon\nAT ONBATT * START-TIMER t -5\nAT ONBATT * STOP-TIMER t\n\
             AT ONBATT * start-timer t 5\nAT ONBATT * EXECUTE \"\"\nAT ONBATT \"\" EXECUTE x\n\
             AT ONLINE * CANCEL-TIMER \"\"\nCMDSCRIPT \"\"\nDEBUG_MIN lots\nPIPEFN\n"
        ))),
        [
            "upssched.conf:4: AT needs at least 5 words: AT <notify type> <upsname|*> \
             <START-TIMER|START-TIMER-SHARED|CANCEL-TIMER|CANCEL-TIMER-MATCHED|EXECUTE> <argument>...",
            "upssched.conf:5: AT: unknown notify type 'NOSUCH' (known: ONLINE, ONBATT, LOWBATT, COMMBAD, ...; see upsmon.conf(5))",
            "upssched.conf:6: START-TIMER needs a timer name and a number of seconds: AT <type> <ups> START-TIMER <name> <seconds>",
            "upssched.conf:7: START-TIMER seconds: expected a whole number >= 0, got 'soon'",
            "upssched.conf:8: START-TIMER seconds: expected a whole number >= 0, got '-5'",
            "upssched.conf:9: AT: unknown command 'STOP-TIMER': expected START-TIMER, START-TIMER-SHARED, CANCEL-TIMER, CANCEL-TIMER-MATCHED or EXECUTE",
            "upssched.conf:10: AT: unknown command 'start-timer': expected START-TIMER, START-TIMER-SHARED, CANCEL-TIMER, CANCEL-TIMER-MATCHED or EXECUTE",
            "upssched.conf:11: EXECUTE: empty command",
            "upssched.conf:12: AT: empty UPS name (use * for any UPS)",
            "upssched.conf:13: CANCEL-TIMER: empty timer name",
            "upssched.conf:14: CMDSCRIPT: empty script name",
            "upssched.conf:15: DEBUG_MIN: expected a whole number >= 0, got 'lots'",
            "upssched.conf:16: PIPEFN needs 2 words: PIPEFN <socket file>",
        ]
    );
}

#[test]
fn lenient_parse_keeps_every_good_rule() {
    let text = format!(
        "{HEAD}AT ONBATT * START-TIMER onbatt 30\nAT ONBAT * EXECUTE x\n\
         AT ONBATT * START-TIMER t 30s\nAT ONLINE * CANCEL-TIMER onbatt\n"
    );
    assert!(
        parse(&text).is_err(),
        "the strict parse still refuses the file"
    );
    let (conf, diagnostics) = parse_upssched_conf_lenient(&text, "upssched.conf");
    let names: Vec<_> = conf.rules.iter().map(|r| r.line).collect();
    assert_eq!(names, [4, 7], "both good rules are kept");
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "upssched.conf:5: AT: unknown notify type 'ONBAT' (known: ONLINE, ONBATT, LOWBATT, COMMBAD, ...; see upsmon.conf(5))",
            "upssched.conf:6: START-TIMER seconds: expected a whole number >= 0, got '30s'",
        ]
    );
    assert!(conf.cmdscript.is_some() && conf.pipefn.is_some() && conf.lockfn.is_some());
}

#[test]
fn quoted_cmdscript_with_spaces_is_warned_about() {
    let (_, w) = warnings(parse(
        "CMDSCRIPT \"/usr/bin/logger -t ups\"\nPIPEFN /p\nLOCKFN /l\n",
    ));
    assert_eq!(
        w,
        [
            "upssched.conf:1: CMDSCRIPT \"/usr/bin/logger -t ups\" is one quoted word with spaces: \
             it is run as a program of that name, not through a shell; write the program and its \
             arguments as separate words"
        ]
    );
    let (_, w) = warnings(parse(
        "CMDSCRIPT /usr/bin/logger -t ups\nPIPEFN /p\nLOCKFN /l\n",
    ));
    assert!(w.is_empty(), "{w:?}");
}
