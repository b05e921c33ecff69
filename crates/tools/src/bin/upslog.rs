//! `upslog`: see [`nut_tools::upslog`].

fn main() -> std::process::ExitCode {
    nut_tools::upslog::main()
}
