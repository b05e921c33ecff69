//! The connect timeout: a loopback listener whose accept queue is full drops new SYNs, so a
//! connection attempt hangs until the client gives up.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use nut_client::{ConnectOptions, Error, TlsMode};

/// A listener that never accepts, plus the connections that fill its queue.
fn saturated_listener() -> (TcpListener, Vec<TcpStream>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut held = Vec::new();
    for _ in 0..4096 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => held.push(stream),
            Err(_) => return (listener, held, addr.port()),
        }
    }
    panic!("the accept queue of a loopback listener never filled up");
}

#[test]
fn connect_gives_up_after_the_timeout() {
    let (_listener, _held, port) = saturated_listener();
    let options = ConnectOptions::new("127.0.0.1", port)
        .tls(TlsMode::Disabled)
        .connect_timeout(Some(Duration::from_millis(300)));
    let err = nut_client::blocking::Client::connect(&options)
        .err()
        .expect("blocking connect must time out");
    assert!(matches!(err, Error::ConnectTimeout { .. }), "{err:?}");
    assert_eq!(
        err.client_message(),
        "Connection failure: Connection timed out"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let err = runtime
        .block_on(nut_client::aio::Client::connect(&options))
        .err()
        .expect("async connect must time out");
    assert!(matches!(err, Error::ConnectTimeout { .. }), "{err:?}");
}
