//! Servers that try to exhaust a client: an endless LIST reply must end in
//! `Error::ReplyTooLarge` at nut-core's limits, and a reply dripped a byte at a time (each
//! read well inside the I/O timeout) must end at the call deadline; both clients, and the
//! connection is not used again afterwards.

use std::time::Duration;

use nut_client::{ConnectOptions, Error, TlsMode};
use nut_harness::fake_upsd::{FakeUpsd, Reply};

fn refuse_tls_then(rest: Reply) -> FakeUpsd {
    FakeUpsd::start(move |line| match line {
        "STARTTLS" => Reply::Lines(vec!["ERR FEATURE-NOT-CONFIGURED".into()]),
        _ => rest.clone(),
    })
}

fn options(port: u16) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", port)
        .tls(TlsMode::Opportunistic)
        .connect_timeout(Some(Duration::from_secs(5)))
        .io_timeout(Some(Duration::from_secs(5)))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn an_endless_list_is_cut_off() {
    let fake = refuse_tls_then(Reply::EndlessList);
    let mut client = nut_client::blocking::Client::connect(&options(fake.port())).unwrap();
    let err = client.list_vars("x").unwrap_err();
    assert!(matches!(err, Error::ReplyTooLarge(_)), "{err:?}");
    assert!(err.is_connection_lost());
    assert_eq!(
        err.client_message(),
        "Protocol error: reply too large (more than 65536 items)"
    );
    // The rest of the reply is still coming: the connection must not be reused.
    assert!(matches!(client.ver(), Err(Error::Disconnected)));

    let err = runtime()
        .block_on(async {
            let mut client = nut_client::aio::Client::connect(&options(fake.port())).await?;
            let err = client.list_vars("x").await.unwrap_err();
            assert!(matches!(client.ver().await, Err(Error::Disconnected)));
            Ok::<_, Error>(err)
        })
        .unwrap();
    assert!(matches!(err, Error::ReplyTooLarge(_)), "{err:?}");
}

#[test]
fn a_dripped_reply_ends_at_the_call_deadline() {
    let fake = refuse_tls_then(Reply::Drip {
        head: b"BEGIN LIST VAR x\n".to_vec(),
        bytes: b"VAR x a \"1\"\n".to_vec(),
        every: Duration::from_millis(20),
        repeat: true,
    });
    let options = options(fake.port()).call_timeout(Some(Duration::from_secs(1)));
    let mut client = nut_client::blocking::Client::connect(&options).unwrap();
    let err = client.list_vars("x").unwrap_err();
    assert!(
        matches!(&err, Error::CallTimeout { request, limit }
            if request == "LIST VAR x" && *limit == Duration::from_secs(1)),
        "{err:?}"
    );
    assert!(err.is_connection_lost());
    assert!(
        err.client_message()
            .starts_with("Read error: no complete reply to LIST VAR x within 1 s"),
        "{}",
        err.client_message()
    );
    assert!(matches!(client.ver(), Err(Error::Disconnected)));

    let err = runtime()
        .block_on(async {
            let mut client = nut_client::aio::Client::connect(&options).await?;
            Ok::<_, Error>(client.list_vars("x").await.unwrap_err())
        })
        .unwrap();
    assert!(matches!(err, Error::CallTimeout { .. }), "{err:?}");
}
