//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod support;

mod pidfile_symlink;
mod safety_process;
mod upsmon_process;
mod upssched_pipe_symlink;
mod upssched_process;
