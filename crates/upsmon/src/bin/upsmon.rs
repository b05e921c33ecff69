//! `upsmon`: the NUT shutdown controller. The process shell lives in `src/daemon`; the
//! decisions in the `nut_upsmon` library.

#[path = "../daemon/mod.rs"]
mod daemon;

fn main() -> std::process::ExitCode {
    daemon::main()
}
