//! Reading the packaged unit files (packaging/systemd) in tests.

use std::path::PathBuf;

/// The directory of the unit files.
pub fn unit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("systemd")
}

/// The text of unit file `unit`.
pub fn unit_text(unit: &str) -> String {
    std::fs::read_to_string(unit_dir().join(unit)).unwrap_or_else(|e| panic!("{unit}: {e}"))
}

/// The value of `key=` in a unit's text (the last one wins, as in systemd), if set.
pub fn setting(text: &str, key: &str) -> Option<String> {
    let prefix = format!("{key}=");
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::to_owned)
}
