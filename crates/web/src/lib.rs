//! nut-web: a status page, a JSON API and a Prometheus `/metrics` endpoint for any NUT
//! server (ours or NUT's own upsd), as one small daemon.
//!
//! ```text
//!   HTTP GET ──▶ server (axum routes) ──▶ poll::Poller ──▶ one nut-client connection per
//!                      │                        │          server, all servers at once
//!                      ▼                        ▼
//!        metrics / json / html  ◀──  Vec<poll::Snapshot>  (vars, descriptions, or an error)
//! ```
//!
//! * [`config`]: the command line, hosts.conf `MONITOR` lines (parsed by nut-core) and `-m`.
//! * [`poll`]: reads the servers live for every request; concurrent requests for the same
//!   page share one round (single flight). Only variable descriptions, fixed texts, are
//!   remembered, in a bounded cache. TLS toward the servers can be required (`--certverify`).
//! * [`metrics`], [`json`], [`html`]: pure renderers from snapshots to text, unit-tested.
//! * [`server`]: the routes.
//! * [`listen`]: the HTTP listener: header-read timeout, connection cap that closes idle
//!   connections first, graceful stop.
//!
//! Choices: axum because it runs on the same current_thread tokio runtime as nut-client and
//! needs little code. The Prometheus exposition is written by hand rather than with
//! prometheus-client: the metric set is rebuilt from scratch on every scrape (no registry to
//! keep), HELP texts come from the server at scrape time, and the classic text format 0.0.4
//! is what nut_exporter serves, so the output is a drop-in replacement. HTML is produced
//! with `format!` and one escaping function ([`html::escape`]) instead of a template
//! engine: two small pages did not justify a compile-time template dependency.
//!
//! Read-only on purpose: instant commands and SET VAR need authentication of the web user,
//! which v1 does not have.

pub mod config;
pub mod html;
pub mod json;
pub mod listen;
pub mod metrics;
pub mod poll;
pub mod server;
pub mod status;
pub mod value;
