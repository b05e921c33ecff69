//! Parsers for upsd.conf, upsd.users and cmdvartab.
//!
//! These belong in `nut_core::conf` (being written there); they live here until the shared
//! versions land, and use the shared tokenizer. ups.conf comes from `nut_core::conf`.

pub mod cmdvartab;
pub mod upsd_conf;
pub mod users;

pub use cmdvartab::Descriptions;
pub use upsd_conf::{CertRequest, Listen, UpsdConf, parse_upsd_conf};
pub use users::{Permission, Users, parse_users};
