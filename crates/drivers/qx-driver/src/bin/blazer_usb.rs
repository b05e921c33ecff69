//! `blazer_usb`: NUT's Megatec/Q1 USB driver (the older blazer logic).

fn main() -> std::process::ExitCode {
    qx_driver::main_usb::<qx_driver::BlazerUsb>()
}
