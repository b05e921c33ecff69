//! Every nutdrv_qx protocol parser (megatec, q1, voltronic, …): the first byte picks the
//! protocol, the rest answers the session (detection, polls, commands, SETs, shutdown) reply by
//! reply. Never panics; the core's own asserts check what it publishes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nutdrv_qx::protocol::NUTDRV_QX_ORDER;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let protocol = NUTDRV_QX_ORDER[usize::from(pick) % NUTDRV_QX_ORDER.len()];
    nutdrv_qx::fuzzing::qx_session(protocol, rest, Some("60"));
});
