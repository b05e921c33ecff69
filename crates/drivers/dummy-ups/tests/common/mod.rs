//! Helpers shared by the dummy-ups integration tests.

use std::time::Duration;

use nut_harness::{Conn, wait_until};

/// Send a tracked command (SET VAR / INSTCMD after `SET TRACKING ON`) and wait at most
/// `wait` for its final result (`SUCCESS`, `FAILURE`, …).
pub fn tracked(conn: &mut Conn, request: &str, wait: Duration) -> String {
    let reply = conn.request(request);
    let id = reply
        .first()
        .and_then(|l| l.strip_prefix("OK TRACKING "))
        .unwrap_or_else(|| panic!("{request}: expected OK TRACKING, got {reply:?}"))
        .to_owned();
    wait_until(&format!("result of {request}"), wait, || {
        let r = conn.request(&format!("GET TRACKING {id}"));
        let r = r.first().cloned().unwrap_or_default();
        (r != "PENDING").then_some(r)
    })
}
