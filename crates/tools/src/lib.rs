//! nut-tools: NUT's command-line clients, `upsc`, `upscmd`, `upsrw` and `upslog`, on top of
//! [`nut_client`].
//!
//! Each tool is a module with a `run(argv, io) -> exit code` function (testable without a
//! process) and a `main()` used by its binary in `src/bin/`. They reproduce NUT 2.8.0's
//! options, stdout/stderr texts and exit codes (messages scripts grep for, such as
//! `Error: Data stale`, are identical; help texts have the same shape in our own words),
//! and add `-j` JSON output to upsc, `upscmd -l` and upsrw's listing (docs/json-output.md).
//! Intended differences from NUT are listed in docs/compatibility.md.
//!
//! Shared pieces: [`getopt`] (POSIX getopt with glibc's messages), [`common`] (identifiers,
//! connecting, prompts), [`admin`] (credentials and tracked results for upscmd/upsrw),
//! [`json`] (ordered JSON printing).

pub mod admin;
pub mod common;
pub mod getopt;
pub mod json;
pub mod upsc;
pub mod upscmd;
pub mod upslog;
pub mod upsrw;
