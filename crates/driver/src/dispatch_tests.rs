use super::*;

fn settings() -> Settings {
    Settings {
        cli_debug: 2,
        debug_min: Some(4),
        allow_killpower: false,
        pid: 4242,
    }
}

fn parse(line: &str) -> ServerMsg {
    let words = nut_core::token::split_line(line).expect("tokenizes");
    ServerMsg::parse(&words).expect("parses")
}

fn sent(out: &[Output]) -> Vec<String> {
    out.iter()
        .map(|o| match o {
            Output::Send(c, t) => format!("{c}> {t}"),
            Output::Broadcast(t) => format!("*> {t}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn state() -> State {
    let mut s = State::new();
    s.set_info("ups.status", "OL");
    s.add_cmd("load.off");
    s.tree_mut().take_changes();
    s
}

#[test]
fn dumps_ping_getpid() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(1, parse("DUMPALL"), &mut s);
    d.request(1, parse("DUMPSTATUS"), &mut s);
    d.request(2, parse("PING"), &mut s);
    d.request(2, parse("GETPID"), &mut s);
    assert_eq!(
        sent(&d.take_outputs()),
        vec![
            "1> SETINFO ups.status \"OL\"\nADDCMD load.off\nDATAOK\nDUMPDONE\n",
            "1> SETINFO ups.status \"OL\"\nDUMPDONE\n",
            "2> PONG\n",
            "2> PID 4242\n",
        ]
    );
}

#[test]
fn driver_calls_are_tracked_and_answered_after_their_broadcast() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(7, parse("INSTCMD load.off TRACKING abc"), &mut s);
    let out = d.take_outputs();
    let [Output::Call(id, call)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(
        call,
        &Call::InstCmd {
            cmd: "load.off".into(),
            param: None
        }
    );
    // The driver changed the state while running the command.
    s.set_info("ups.status", "OFF");
    d.call_done(*id, CmdStatus::Handled, &mut s);
    assert_eq!(
        sent(&d.take_outputs()),
        vec!["*> SETINFO ups.status \"OFF\"\n", "7> TRACKING abc 0\n",]
    );
    assert_eq!(d.pending_calls(), 0);
}

#[test]
fn a_slow_call_does_not_hold_other_clients_and_answers_in_completion_order() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(
        1,
        parse("SET ups.delay.shutdown \"30\" TRACKING one"),
        &mut s,
    );
    d.request(2, parse("INSTCMD beeper.off TRACKING two"), &mut s);
    let calls: Vec<CallId> = d
        .take_outputs()
        .into_iter()
        .filter_map(|o| match o {
            Output::Call(id, _) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 2);
    d.request(3, parse("PING"), &mut s);
    d.call_done(calls[1], CmdStatus::Failed, &mut s);
    d.call_done(calls[0], CmdStatus::Invalid, &mut s);
    assert_eq!(
        sent(&d.take_outputs()),
        vec!["3> PONG\n", "2> TRACKING two 3\n", "1> TRACKING one 2\n"]
    );
}

#[test]
fn results_for_a_client_that_left_are_dropped_but_changes_still_broadcast() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(1, parse("INSTCMD load.off TRACKING x"), &mut s);
    let Some(Output::Call(id, _)) = d.take_outputs().pop() else {
        panic!()
    };
    d.closed(1);
    s.set_info("ups.status", "OFF");
    d.call_done(id, CmdStatus::Handled, &mut s);
    assert_eq!(
        sent(&d.take_outputs()),
        vec!["*> SETINFO ups.status \"OFF\"\n"]
    );
}

#[test]
fn killpower_is_refused_until_allowed() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(1, parse("INSTCMD driver.killpower TRACKING k1"), &mut s);
    let out = d.take_outputs();
    assert!(matches!(&out[0], Output::Log(Level::Error, m) if m.contains("allow_killpower")));
    assert_eq!(sent(&out[1..]), vec!["1> TRACKING k1 2\n"]);
    assert!(!out.iter().any(|o| matches!(o, Output::Call(..))));

    d.request(
        1,
        parse("SET driver.flag.allow_killpower \"yes\" TRACKING a"),
        &mut s,
    );
    assert_eq!(sent(&d.take_outputs()), vec!["1> TRACKING a 0\n"]);
    assert!(d.killpower_allowed());
    d.request(1, parse("INSTCMD driver.killpower TRACKING k2"), &mut s);
    let out = d.take_outputs();
    let Some(Output::Call(id, Call::KillPower)) = out.last() else {
        panic!("{out:?}")
    };
    d.call_done(*id, CmdStatus::Handled, &mut s);
    assert_eq!(sent(&d.take_outputs()), vec!["1> TRACKING k2 0\n"]);

    d.request(1, parse("SET driver.flag.allow_killpower \"0\""), &mut s);
    assert!(d.take_outputs().is_empty());
    assert!(!d.killpower_allowed());
}

#[test]
fn driver_debug_sets_the_level_and_negative_restores_the_configured_one() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(1, parse("SET driver.debug \"6\" TRACKING a"), &mut s);
    d.request(1, parse("SET driver.debug \"-1\" TRACKING b"), &mut s);
    d.request(1, parse("SET driver.debug \"lots\" TRACKING c"), &mut s);
    let out = d.take_outputs();
    assert_eq!(
        out,
        vec![
            Output::SetDebug(6),
            Output::Send(1, Arc::from("TRACKING a 0\n")),
            // max(-D level 2, debug_min 4)
            Output::SetDebug(4),
            Output::Send(1, Arc::from("TRACKING b 0\n")),
            Output::Send(1, Arc::from("TRACKING c 4\n")),
        ]
    );
}

#[test]
fn exit_answers_first_and_reload_is_a_call() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(1, parse("INSTCMD driver.exit TRACKING e"), &mut s);
    let out = d.take_outputs();
    assert_eq!(
        out[1..],
        [
            Output::Send(1, Arc::from("TRACKING e 0\n")),
            Output::Exit(0)
        ]
    );
    d.request(1, parse("INSTCMD driver.reload-or-exit"), &mut s);
    d.request(1, parse("INSTCMD DRIVER.RELOAD"), &mut s);
    let calls: Vec<Call> = d
        .take_outputs()
        .into_iter()
        .filter_map(|o| match o {
            Output::Call(_, c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            Call::Reload {
                exit_if_restart_needed: true
            },
            Call::Reload {
                exit_if_restart_needed: false
            }
        ]
    );
}

#[test]
fn broadcast_switches_logout_and_bad_lines() {
    let mut d = Dispatcher::new(settings());
    let mut s = state();
    d.request(1, parse("NOBROADCAST"), &mut s);
    d.request(1, parse("BROADCAST 0"), &mut s);
    d.request(1, parse("BROADCAST"), &mut s);
    d.request(1, parse("LOGOUT"), &mut s);
    assert_eq!(
        d.take_outputs(),
        vec![
            Output::SetBroadcast(1, false),
            Output::SetBroadcast(1, false),
            Output::SetBroadcast(1, true),
            Output::Send(1, Arc::from("OK Goodbye\n")),
            Output::Close(1),
        ]
    );
    let words = vec!["FROB".to_owned()];
    let err = ServerMsg::parse(&words).expect_err("unknown");
    d.bad_request(2, &BadLine::Parse(err, words));
    let out = d.take_outputs();
    assert_eq!(out[1], Output::Send(2, Arc::from("ERR UNKNOWN-COMMAND\n")));
}
