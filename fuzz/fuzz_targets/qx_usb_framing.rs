//! The Q1-over-USB subdrivers' framing (cypress, krauler, hunnox, …): the first byte picks the
//! subdriver, the rest are the USB transfer results it gets back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nutdrv_qx::Variant;
use nutdrv_qx::usb::Subdriver;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let all = Subdriver::all(Variant::NutdrvQx);
    let sub = all[usize::from(pick) % all.len()];
    let langid_fix = (pick & 0x80 != 0).then_some(0x0409);
    nutdrv_qx::fuzzing::usb_exchange(sub, b"Q1\r", langid_fix, rest);
    nutdrv_qx::fuzzing::usb_exchange(sub, b"S.5R0003\r", langid_fix, rest);
});
