//! What the tests share: the fixtures and the command lines Debian's recordings were made with.
#![allow(dead_code)]

use std::path::PathBuf;

/// tests/fixtures/hid of the workspace.
pub fn fixtures() -> PathBuf {
    nut_harness::workspace_root().join("tests/fixtures/hid")
}

/// The device spec of a fixture.
pub fn spec(name: &str) -> PathBuf {
    fixtures().join(format!("{name}.spec"))
}

/// The `-x` options (port aside) of the command line in a recording's first header line
/// (`-x productid=0000`, `-x explore -x vendorid=5131`).
pub fn header_x_options(text: &str) -> Vec<String> {
    let words: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    words
        .windows(2)
        .filter(|w| w[0] == "-x" && !w[1].starts_with("port="))
        .map(|w| w[1].to_string())
        .collect()
}
