//! `upsrw`: see [`nut_tools::upsrw`].

fn main() -> std::process::ExitCode {
    nut_tools::upsrw::main()
}
