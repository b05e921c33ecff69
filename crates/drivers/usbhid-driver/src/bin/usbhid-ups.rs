//! `usbhid-ups`: NUT's driver for USB HID Power Devices.

fn main() -> std::process::ExitCode {
    usbhid_driver::main()
}
