//! `upsc`: see [`nut_tools::upsc`].

fn main() -> std::process::ExitCode {
    nut_tools::upsc::main()
}
