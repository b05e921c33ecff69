//! `blazer_ser`: NUT's Megatec/Q1 serial driver (the older blazer logic).

fn main() -> std::process::ExitCode {
    qx_driver::main_serial::<qx_driver::BlazerSer>()
}
