//! `nutdrv_qx`: NUT's generic Q* (Megatec/Q1 family) driver.

fn main() -> std::process::ExitCode {
    qx_driver::main_any::<qx_driver::NutdrvQx>()
}
