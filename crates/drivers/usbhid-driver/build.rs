//! Link options for usbhid-ups, which idles for days and whose resident size is mostly its own
//! code (docs/benchmarks-drivers.md; the same as dummy-ups'): packed relative relocations
//! (DT_RELR, glibc ≥ 2.36) instead of a 170 kB relocation table read at every start, and
//! identical code folding for the generic instances that come out the same.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
}
