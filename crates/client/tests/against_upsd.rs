//! Every command of the blocking and the async client against a real upsd — Debian's 2.8.0
//! (`…::debian`) and ours (`…::ours`) — with Debian's dummy-ups drivers.

use std::time::Duration;

use nut_client::{ConnectOptions, Error, TlsMode, TrackingStatus, ValueKind};
use nut_harness::{Impl, Stack, StackBuilder, wait_until};

const DUMMY_DEV: &str = "\
ups.status: OL CHRG
ups.id: myid
battery.charge: 100
input.voltage: 230.1
";

/// The administrator's password has a space, a `#` and a quote: it only works when sent
/// quoted and escaped (libupsclient sends it raw and fails). In upsd.users the `#` must be
/// escaped too.
const USERS: &str = "\
[admin]
\tpassword = \"p w\\#1\\\"\"
\tactions = SET FSD
\tinstcmds = ALL
\tupsmon primary

[monuser]
\tpassword = monpass
\tupsmon secondary
";
const ADMIN_PASSWORD: &str = "p w#1\"";

fn stack(upsd: Impl) -> Stack {
    StackBuilder::new()
        .upsd(upsd)
        .driver(Impl::Debian)
        .dummy("dummy", "dummy.dev", DUMMY_DEV)
        .ups_section("dummy", "desc = \"Test \\\"quoted\\\" UPS\"")
        .dummy("UPS1", "ups1.dev", "ups.status: OB\n")
        .upsd_users(USERS)
        .start()
}

fn options(stack: &Stack) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", stack.port())
        .tls(TlsMode::Opportunistic)
        .io_timeout(Some(Duration::from_secs(30)))
}

macro_rules! against_both_upsds {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            #[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
            fn debian() {
                super::$name(nut_harness::Impl::Debian);
            }
            #[test]
            #[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
            fn ours() {
                super::$name(nut_harness::Impl::Ours);
            }
        }
    )*};
}

against_both_upsds!(blocking_client, async_client);

fn blocking_client(upsd: Impl) {
    let stack = stack(upsd);
    let mut c = nut_client::blocking::Client::connect(&options(&stack)).expect("connect");
    assert!(!c.is_tls(), "neither upsd is configured for TLS");

    // Server information.
    assert!(c.ver().expect("VER").starts_with("Network UPS Tools upsd "));
    assert_eq!(c.netver().expect("NETVER"), "1.3");
    assert_eq!(c.protver().expect("PROTVER"), "1.3");
    assert!(c.help().expect("HELP").starts_with("Commands: "));

    // Reading.
    let upses = c.list_ups().expect("LIST UPS");
    let names: Vec<&str> = upses.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["dummy", "UPS1"]);
    assert_eq!(upses[0].description, "Test \"quoted\" UPS");
    assert_eq!(
        c.get_ups_desc("dummy").expect("UPSDESC"),
        "Test \"quoted\" UPS"
    );
    let vars = c.list_vars("dummy").expect("LIST VAR");
    assert!(
        vars.iter()
            .any(|v| v.name == "ups.status" && v.value == "OL CHRG")
    );
    assert_eq!(
        c.get_var("dummy", "ups.status").expect("GET VAR"),
        "OL CHRG"
    );
    let ty = c.get_type("dummy", "ups.id").expect("GET TYPE");
    assert!(ty.rw && !ty.enumerated && !ty.range);
    assert_eq!(ty.kind, Some(ValueKind::String { max_len: 16 }));
    assert_eq!(
        c.get_desc("dummy", "ups.status").expect("GET DESC"),
        "UPS status"
    );
    assert!(
        c.list_rw("dummy")
            .expect("LIST RW")
            .iter()
            .any(|v| v.name == "ups.id")
    );
    assert_eq!(c.list_commands("dummy").expect("LIST CMD"), ["load.off"]);
    assert_eq!(
        c.get_cmd_desc("dummy", "load.off").expect("GET CMDDESC"),
        "Turn off the load immediately"
    );
    assert!(
        c.list_enum("dummy", "ups.status")
            .expect("LIST ENUM")
            .is_empty()
    );
    assert!(
        c.list_range("dummy", "ups.status")
            .expect("LIST RANGE")
            .is_empty()
    );
    assert_eq!(c.get_num_logins("dummy").expect("NUMLOGINS"), 0);
    assert!(c.list_clients("dummy").expect("LIST CLIENT").is_empty());
    assert!(!c.tracking_mode().expect("GET TRACKING"));

    // Typed errors; the connection stays usable.
    assert!(
        c.get_var("bogus", "ups.status")
            .unwrap_err()
            .is_unknown_ups()
    );
    assert!(
        c.get_var("dummy", "no.such")
            .unwrap_err()
            .is_var_not_supported()
    );
    let err = c.instcmd("dummy", "load.off", None).unwrap_err();
    assert!(err.is_credentials_required(), "{err:?}");
    assert_eq!(err.client_message(), "Username required");

    // Writing, with the quoted password and status tracking.
    c.authenticate("admin", ADMIN_PASSWORD)
        .expect("credentials");
    c.set_tracking(true).expect("SET TRACKING ON");
    assert!(c.tracking_mode().expect("GET TRACKING"));
    let id = c
        .set_var("dummy", "ups.id", "a new id")
        .expect("SET VAR")
        .expect("a tracking id");
    let status = c
        .wait_for_tracking(&id, Duration::from_secs(30))
        .expect("GET TRACKING");
    assert_eq!(status, Some(TrackingStatus::Success));
    assert_eq!(c.get_var("dummy", "ups.id").expect("GET VAR"), "a new id");
    let id = c
        .instcmd("dummy", "load.off", None)
        .expect("INSTCMD")
        .expect("a tracking id");
    let status = c
        .wait_for_tracking(&id, Duration::from_secs(30))
        .expect("poll");
    // Debian's dummy-ups does not implement load.off.
    assert!(
        matches!(status, Some(TrackingStatus::Error(_))),
        "{status:?}"
    );
    c.set_tracking(false).expect("SET TRACKING OFF");
    assert_eq!(
        c.instcmd("dummy", "load.off", Some("5")).expect("INSTCMD"),
        None
    );
    assert!(
        c.instcmd("dummy", "no.such", None)
            .unwrap_err()
            .is_cmd_not_supported()
    );
    assert!(
        c.set_var("dummy", "driver.name", "x")
            .unwrap_err()
            .is_readonly()
    );

    // upsmon's commands.
    c.login("dummy").expect("LOGIN");
    assert_eq!(c.get_num_logins("dummy").expect("NUMLOGINS"), 1);
    assert_eq!(c.list_clients("dummy").expect("LIST CLIENT"), ["127.0.0.1"]);
    c.primary("dummy").expect("PRIMARY");
    c.master("dummy").expect("MASTER");
    c.fsd("dummy").expect("FSD");
    assert_eq!(
        c.get_var("dummy", "ups.status").expect("GET VAR"),
        "FSD OL CHRG"
    );
    c.logout().expect("LOGOUT");

    // A wrong password and a user without rights: ACCESS-DENIED.
    for (user, password) in [("admin", "wrong"), ("monuser", "monpass")] {
        let mut c = nut_client::blocking::Client::connect(&options(&stack)).expect("connect");
        c.authenticate(user, password)
            .expect("credentials are stored, not checked");
        let err = c.set_var("dummy", "ups.id", "x").unwrap_err();
        assert!(err.is_access_denied(), "{user}: {err:?}");
        c.close();
    }
}

fn async_client(upsd: Impl) {
    let mut stack = stack(upsd);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut c = nut_client::aio::Client::connect(&options(&stack))
            .await
            .expect("connect");
        assert_eq!(c.netver().await.expect("NETVER"), "1.3");
        let names: Vec<String> = c
            .list_ups()
            .await
            .expect("LIST UPS")
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["dummy", "UPS1"]);
        assert_eq!(
            c.get_var("UPS1", "ups.status").await.expect("GET VAR"),
            "OB"
        );
        assert!(
            c.get_var("bogus", "x.y")
                .await
                .unwrap_err()
                .is_unknown_ups()
        );
        c.authenticate("admin", ADMIN_PASSWORD)
            .await
            .expect("credentials");
        c.set_tracking(true).await.expect("tracking");
        let id = c
            .set_var("UPS1", "ups.status", "OB LB")
            .await
            .expect("SET VAR")
            .expect("tracking id");
        let status = c
            .wait_for_tracking(&id, Duration::from_secs(30))
            .await
            .expect("poll");
        assert_eq!(status, Some(TrackingStatus::Success));
        c.close().await;
    });
    // A dead driver.
    stack.kill_driver("UPS1");
    let mut conn = stack.conn();
    wait_until("upsd to lose UPS1", Duration::from_secs(30), || {
        (conn.request("GET VAR UPS1 ups.status") == ["ERR DRIVER-NOT-CONNECTED"]).then_some(())
    });
    runtime.block_on(async {
        let mut c = nut_client::aio::Client::connect(&options(&stack))
            .await
            .expect("connect");
        let err = c.list_vars("UPS1").await.unwrap_err();
        assert!(err.is_driver_not_connected(), "{err:?}");
        assert_eq!(err.client_message(), "Driver not connected");
    });
    // Nothing listens: a connect error with libupsclient's text.
    let closed = ConnectOptions::new("127.0.0.1", nut_harness::free_port());
    let err = runtime
        .block_on(nut_client::aio::Client::connect(&closed))
        .err()
        .expect("refused");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(
        err.client_message(),
        "Connection failure: Connection refused"
    );
}
