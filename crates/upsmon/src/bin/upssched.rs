//! `upssched`: upsmon's timer helper (to be written).

fn main() -> std::process::ExitCode {
    std::process::ExitCode::FAILURE
}
