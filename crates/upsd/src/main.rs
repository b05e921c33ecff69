//! upsd: the NUT data server.

fn main() {
    std::process::exit(nut_upsd::daemon::main());
}
