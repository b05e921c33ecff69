//! Typed, sans-IO parsers for every NUT config file.
//!
//! Each file has one module and one entry point taking the file's bytes and the name to use
//! in messages; reading the file is the daemon's job:
//!
//! | File | Entry point | Result |
//! |---|---|---|
//! | ups.conf | [`parse_ups_conf`] | [`UpsConf`] |
//! | upsd.conf | [`parse_upsd_conf`] | [`UpsdConf`] |
//! | upsd.users | [`parse_upsd_users`] | [`UpsdUsers`] |
//! | upsmon.conf | [`parse_upsmon_conf`] | [`UpsmonConf`] |
//! | upssched.conf | [`parse_upssched_conf`] | [`UpsschedConf`] |
//! | nut.conf | [`parse_nut_conf`] | [`NutConf`] |
//! | hosts.conf | [`parse_hosts_conf`] | [`HostsConf`] |
//! | cmdvartab | [`parse_cmdvartab`] | [`CmdVarTab`] |
//!
//! # The shared model
//!
//! * **One tokenizer.** Every file is split by [`crate::token::tokenize_text`] with NUT's
//!   rules (quotes, `\` escapes, `#` comments, `=` as its own word). Tokenizer-level
//!   problems become diagnostics: a rejected line (`#` inside quotes, unterminated quote) is
//!   an error; dropped non-ASCII bytes, more than 32 words on a line and words over 512
//!   characters are warnings (NUT applies the same limits silently).
//! * **Diagnostics, never silence.** Every problem is a [`Diagnostic`] carrying the file
//!   name, the 1-based line and what was expected, displayed as `file:line: message`.
//! * **Errors vs warnings.** An *error* means the file does not say what the daemon needs:
//!   something NUT treats as fatal, or a line that cannot be understood and whose loss would
//!   change behaviour (a bad number, a missing argument, an unknown notify type, a section
//!   without a driver). A *warning* means the line was ignored or adjusted and the result is
//!   still what the file most likely means: unknown or obsolete directives (NUT logs and
//!   continues), extra words, a repeated single-valued setting (the later one wins, as in
//!   NUT), non-ASCII bytes.
//! * **All problems at once.** Parsers do not stop at the first problem. They return
//!   `Ok(`[`Parsed`]`)` — the config plus warnings, which the daemon must print — or
//!   `Err(`[`ConfError`]`)` holding every error and every warning, in line order.
//! * **NUT's keyword rules.** Keywords keep each file's case sensitivity (e.g. upsd.conf and
//!   upsmon.conf keywords are case-sensitive except `DEBUG_MIN`); a warning about an unknown
//!   keyword hints at the right spelling when only the case is wrong.
//! * **Defaults are named constants** next to each parser (e.g.
//!   [`ups_conf::DEFAULT_POLLINTERVAL`]).
//! * A problem with the file as a whole (only nut.conf's missing `MODE`) has line 0 and
//!   displays as `file: message`.
//!
//! [`ups_id`] parses `upsname[@host[:port]]` for the config files and for the clients.
//!
//! # Using a parser
//!
//! ```
//! use nut_core::conf;
//!
//! let text = "MONITOR myups@localhost 1 monuser secret primary\nPOLLFREQ 10\nFOO bar\n";
//! match conf::parse_upsmon_conf(text, "/etc/nut/upsmon.conf") {
//!     Ok(parsed) => {
//!         for warning in &parsed.warnings {
//!             eprintln!("warning: {warning}");
//!         }
//!         assert_eq!(parsed.config.pollfreq, 10);
//!         assert_eq!(
//!             parsed.warnings[0].to_string(),
//!             "/etc/nut/upsmon.conf:3: unknown directive FOO (ignored)"
//!         );
//!     }
//!     Err(e) => panic!("{e}"), // every error, one `file:line: message` per line
//! }
//! ```

pub mod cmdvartab;
pub mod diag;
pub mod hosts_conf;
pub mod nut_conf;
pub mod ups_conf;
pub mod ups_id;
pub mod upsd_conf;
pub mod upsd_users;
pub mod upsmon_conf;
pub mod upssched_conf;
pub mod values;

#[cfg(test)]
mod testutil;

pub use cmdvartab::{CmdVarTab, parse_cmdvartab};
pub use diag::{ConfError, ConfResult, Diagnostic, Parsed, Severity};
pub use hosts_conf::{HostsConf, parse_hosts_conf};
pub use nut_conf::{Mode, NutConf, parse_nut_conf};
pub use ups_conf::{UpsConf, parse_ups_conf};
pub use ups_id::{HostPort, UpsId, UpsIdError};
pub use upsd_conf::{UpsdConf, parse_upsd_conf};
pub use upsd_users::{Action, UpsdUsers, User, parse_upsd_users};
pub use upsmon_conf::{Monitor, UpsmonConf, parse_upsmon_conf};
pub use upssched_conf::{UpsschedConf, parse_upssched_conf, parse_upssched_conf_lenient};
pub use values::{CertIdent, Role, parse_bool};
