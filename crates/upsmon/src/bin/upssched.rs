//! `upssched`: upsmon's timer helper. The process shell lives in `src/upssched_daemon`; the
//! rule matching and the timer state machine in `nut_upsmon::upssched`.

#[path = "../upssched_daemon/mod.rs"]
mod upssched_daemon;

fn main() -> std::process::ExitCode {
    upssched_daemon::main()
}
