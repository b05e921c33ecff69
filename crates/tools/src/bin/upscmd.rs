//! `upscmd`: see [`nut_tools::upscmd`].

fn main() -> std::process::ExitCode {
    nut_tools::upscmd::main()
}
