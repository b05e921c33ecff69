//! What the invocation and the timer daemon both need to know: where the daemon lives and
//! what it runs. Below [`super::client`] and [`super::server`], so neither needs the other's
//! module for it.

use std::path::PathBuf;

/// Where the daemon lives and what it runs.
#[derive(Clone, Debug)]
pub struct DaemonConf {
    /// PIPEFN.
    pub pipefn: PathBuf,
    /// LOCKFN.
    pub lockfn: PathBuf,
    /// CMDSCRIPT and its arguments.
    pub cmdscript: Vec<String>,
    /// Keep the daemon's stderr (`-D`).
    pub debug: bool,
}
