use super::*;
use crate::conf::testutil::{clean, errors, warnings};

fn parse(text: &str) -> ConfResult<UpsmonConf> {
    parse_upsmon_conf(text, "upsmon.conf")
}

#[test]
fn defaults() {
    let c = clean(parse(""));
    assert_eq!(c, UpsmonConf::default());
    assert_eq!(
        (
            c.minsupplies,
            c.pollfreq,
            c.pollfreqalert,
            c.hostsync,
            c.deadtime
        ),
        (1, 5, 5, 15, 15)
    );
    assert_eq!(
        (c.rbwarntime, c.nocommwarntime, c.finaldelay),
        (43200, 300, 5)
    );
    assert_eq!((c.offduration, c.pollfail_log_throttle_max), (30, -1));
    assert_eq!((c.oblbduration, c.overduration), (0, -1));
    assert!(c.alarmcritical && !c.certverify && !c.forcessl);
    assert_eq!(c.shutdownexit, ShutdownExit::Exit);
    assert_eq!(c.notify_message(NotifyType::OnBatt), "UPS %s on battery");
    assert_eq!(c.notify_flags(NotifyType::OnBatt), NotifyFlags::DEFAULT);
}

#[test]
fn every_directive() {
    let c = clean(parse(
        "MONITOR ups1@localhost 1 monuser pass primary\n\
         MONITOR ups2@[::1]:3494 2 mon \"p w\" slave\n\
         MONITOR ups3 0 mon p master\n\
         MONITOR ups4@host 1 mon p secondary\n\
         MINSUPPLIES 2\nSHUTDOWNCMD \"/sbin/shutdown -h +0\"\nNOTIFYCMD /usr/sbin/upssched arg\n\
         POLLFREQ 10\nPOLLFREQALERT 2\nHOSTSYNC 30\nDEADTIME 25\nPOWERDOWNFLAG /etc/killpower\n\
         NOTIFYMSG onbatt \"%s lost power (100%%)\"\nNOTIFYMSG ALARM \"%s: %s\"\n\
         NOTIFYFLAG ONLINE SYSLOG+EXEC\nNOTIFYFLAG lowbatt IGNORE\nRBWARNTIME 600\n\
         NOCOMMWARNTIME 60\nFINALDELAY 0\nRUN_AS_USER nut\nCERTPATH /etc/nut/certs\n\
         CERTIDENT client secret\nCERTHOST [::1]:3493 server 1 0\nCERTHOST localhost srv yes no\n\
         CERTVERIFY 1\nFORCESSL 1\nCERTFILE /etc/nut/client.pem\ndebug_min 4\nOFFDURATION -1\n\
         SHUTDOWNEXIT 60\nPOLLFAIL_LOG_THROTTLE_MAX 0\nOBLBDURATION 10\nALARMCRITICAL 0\n\
         OVERDURATION 120\n",
    ));
    assert_eq!(c.monitors.len(), 4);
    let m = &c.monitors[1];
    assert_eq!(m.system, "ups2@[::1]:3494");
    assert_eq!(m.ups.name, "ups2");
    assert_eq!(m.ups.host.as_deref(), Some("::1"));
    assert_eq!(m.ups.port, Some(3494));
    assert_eq!(
        (m.power_value, m.user.as_str(), m.password.as_str()),
        (2, "mon", "p w")
    );
    assert_eq!(m.role, Role::Secondary);
    assert_eq!(m.line, 2);
    assert!(!format!("{m:?}").contains("p w"));
    assert_eq!(c.monitors[0].role, Role::Primary);
    assert_eq!(c.monitors[2].role, Role::Primary);
    assert_eq!(c.monitors[2].ups.host_or_default(), "localhost");
    assert_eq!(c.total_power_value(), 4);
    assert_eq!(c.minsupplies, 2);
    assert_eq!(c.shutdowncmd, Some(vec!["/sbin/shutdown -h +0".to_owned()]));
    assert_eq!(
        c.notifycmd,
        Some(vec!["/usr/sbin/upssched".to_owned(), "arg".to_owned()])
    );
    assert_eq!(
        (c.pollfreq, c.pollfreqalert, c.hostsync, c.deadtime),
        (10, 2, 30, 25)
    );
    assert_eq!(c.powerdownflag.as_deref(), Some("/etc/killpower"));
    assert_eq!(
        c.notify_message(NotifyType::OnBatt),
        "%s lost power (100%%)"
    );
    assert_eq!(c.notify_message(NotifyType::Alarm), "%s: %s");
    assert_eq!(c.notify_message(NotifyType::Online), "UPS %s on line power");
    assert_eq!(
        c.notify_flags(NotifyType::Online),
        NotifyFlags {
            syslog: true,
            wall: false,
            exec: true
        }
    );
    assert_eq!(c.notify_flags(NotifyType::LowBatt), NotifyFlags::IGNORE);
    assert_eq!((c.rbwarntime, c.nocommwarntime, c.finaldelay), (600, 60, 0));
    assert_eq!(c.run_as_user.as_deref(), Some("nut"));
    assert_eq!(c.certpath.as_deref(), Some("/etc/nut/certs"));
    assert_eq!(
        c.certident.as_ref().map(|i| i.name.as_str()),
        Some("client")
    );
    assert_eq!(c.certhosts.len(), 2);
    assert_eq!(c.certhosts[0].host.to_string(), "[::1]:3493");
    assert!(c.certhosts[0].verify && !c.certhosts[0].forcessl);
    assert!(c.certhosts[1].verify && !c.certhosts[1].forcessl);
    assert!(c.certverify && c.forcessl);
    assert_eq!(c.certfile.as_deref(), Some("/etc/nut/client.pem"));
    assert_eq!(c.debug_min, Some(4));
    assert_eq!(c.offduration, -1);
    assert_eq!(c.shutdownexit, ShutdownExit::Linger(60));
    assert_eq!(c.pollfail_log_throttle_max, 0);
    assert_eq!(c.oblbduration, 10);
    assert!(!c.alarmcritical);
    assert_eq!(c.overduration, 120);
}

#[test]
fn shutdownexit_forms() {
    for (word, want) in [
        ("yes", ShutdownExit::Exit),
        ("ON", ShutdownExit::Exit),
        ("0", ShutdownExit::Exit),
        ("no", ShutdownExit::Never),
        ("false", ShutdownExit::Never),
        ("-1", ShutdownExit::Never),
        ("1", ShutdownExit::Linger(1)),
    ] {
        assert_eq!(ShutdownExit::parse(word), Some(want), "{word}");
    }
    assert_eq!(ShutdownExit::parse("later"), None);
}

#[test]
fn ignored_lines_are_warned() {
    let (c, w) = warnings(parse(
        "MONITOR a@h 1 u p primary\nMONITOR a@h 1 u p secondary\nPOLLFREQ 5\nPOLLFREQ 6\n\
         NOTIFYFLAG ONBATT SYSLOG\nnotifyflag ONBATT WALL\nFOO bar\nSHUTDOWNCMD x\n\
         NOTIFYFLAG onbatt EXEC\nMINSUPPLIES 1 2\n",
    ));
    assert_eq!(
        w,
        [
            "upsmon.conf:2: MONITOR a@h already given at line 1 (ignored, as in NUT)",
            "upsmon.conf:4: POLLFREQ already set at line 3; this later value wins",
            "upsmon.conf:6: unknown directive notifyflag (ignored; keywords are case-sensitive, did you mean NOTIFYFLAG?)",
            "upsmon.conf:7: unknown directive FOO (ignored)",
            "upsmon.conf:9: NOTIFYFLAG ONBATT already set at line 5; this later value wins",
            "upsmon.conf:10: extra words ignored: 2 (usage: MINSUPPLIES <number>)",
        ]
    );
    assert_eq!(c.monitors.len(), 1);
    assert_eq!(c.monitors[0].role, Role::Primary);
    assert_eq!(c.pollfreq, 6);
    assert!(c.notify_flags(NotifyType::OnBatt).exec);
}

#[test]
fn monitor_errors() {
    assert_eq!(
        errors(parse(
            "MONITOR ups@h 1 pass primary\nMONITOR ups@h 1 u\nMONITOR ups@ 1 u p primary\n\
             MONITOR ups@h one u p primary\nMONITOR ups@h -1 u p primary\nMONITOR ups@h 1 u p boss\n\
             MONITOR @h 1 u p primary\nMONITOR ups@h:99999 1 u p primary\nMONITOR ups@h 1 \"\" p primary\n"
        )),
        [
            "upsmon.conf:1: old-style MONITOR line without a user name cannot work with upsd: add a user \
             from upsd.users: MONITOR <ups@host[:port]> <powervalue> <user> <password> <primary|secondary>",
            "upsmon.conf:2: MONITOR needs 6 words: MONITOR <ups@host[:port]> <powervalue> <user> \
             <password> <primary|secondary>",
            "upsmon.conf:3: MONITOR: 'ups@': missing host name after '@'",
            "upsmon.conf:4: MONITOR power value: expected a whole number >= 0, got 'one'",
            "upsmon.conf:5: MONITOR power value: expected a whole number >= 0, got '-1'",
            "upsmon.conf:6: MONITOR: expected primary or secondary (or master, slave) as the last word, got 'boss'",
            "upsmon.conf:7: MONITOR: '@h': missing UPS name (expected upsname[@host[:port]])",
            "upsmon.conf:8: MONITOR: 'ups@h:99999': port must be a number from 1 to 65535",
            "upsmon.conf:9: MONITOR: empty user name",
        ]
    );
}

#[test]
fn other_errors() {
    assert_eq!(
        errors(parse(
            "NOTIFYMSG NOSUCH \"x\"\nNOTIFYMSG ONBATT \"%s %s\"\nNOTIFYMSG ALARM \"%d\"\n\
             NOTIFYFLAG ONBATT SYSLOG+MAIL\nNOTIFYFLAG ONBATT syslog\nPOLLFREQ 0\nDEADTIME soon\n\
             SHUTDOWNEXIT maybe\nCERTHOST h:0 name 1 1\nCERTHOST h name 2 1\nSHUTDOWNCMD \"\"\n\
             DEBUG_MIN -3\nPOLLFAIL_LOG_THROTTLE_MAX -2\nALARMCRITICAL sometimes\nNOTIFYMSG ONBATT\n\
             CERTIDENT x\nNOTIFYMSG ONLINE \"100%\"\n"
        )),
        [
            "upsmon.conf:1: NOTIFYMSG: unknown notify type 'NOSUCH' (known: ONLINE, ONBATT, LOWBATT, FSD, ...; see upsmon.conf(5))",
            "upsmon.conf:2: NOTIFYMSG ONBATT: the message may hold at most 1 %s (and %% for a percent sign), no other % sequence: '%s %s'",
            "upsmon.conf:3: NOTIFYMSG ALARM: the message may hold at most 2 %s (and %% for a percent sign), no other % sequence: '%d'",
            "upsmon.conf:4: NOTIFYFLAG ONBATT: unknown flag 'MAIL': use SYSLOG, WALL, EXEC or IGNORE (upper case), joined with +",
            "upsmon.conf:5: NOTIFYFLAG ONBATT: unknown flag 'syslog': use SYSLOG, WALL, EXEC or IGNORE (upper case), joined with +",
            "upsmon.conf:6: POLLFREQ: expected a whole number >= 1, got '0'",
            "upsmon.conf:7: DEADTIME: expected a whole number >= 0, got 'soon'",
            "upsmon.conf:8: SHUTDOWNEXIT: expected yes, no or a number of seconds, got 'maybe'",
            "upsmon.conf:9: CERTHOST: 'h:0': port must be a number from 1 to 65535",
            "upsmon.conf:10: CERTHOST verify: expected yes|no (also true|false, on|off, 1|0), got '2'",
            "upsmon.conf:11: SHUTDOWNCMD: empty command",
            "upsmon.conf:12: DEBUG_MIN: expected a whole number >= 0, got '-3'",
            "upsmon.conf:13: POLLFAIL_LOG_THROTTLE_MAX: expected a whole number >= -1, got '-2'",
            "upsmon.conf:14: ALARMCRITICAL: expected yes|no (also true|false, on|off, 1|0), got 'sometimes'",
            "upsmon.conf:15: NOTIFYMSG needs 3 words: NOTIFYMSG <notify type> \"<message>\"",
            "upsmon.conf:16: CERTIDENT needs 3 words: CERTIDENT <certificate name> <password>",
            "upsmon.conf:17: NOTIFYMSG ONLINE: the message may hold at most 1 %s (and %% for a percent sign), no other % sequence: '100%'",
        ]
    );
}
