//! Link options for the driver programs, which idle for days and whose resident size is
//! mostly their own code (docs/benchmarks-drivers.md): packed relative relocations (DT_RELR,
//! glibc ≥ 2.36) make the start-up relocation pass touch a few pages instead of a 100 KiB
//! table, and identical code folding drops duplicate generic instances.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
}
