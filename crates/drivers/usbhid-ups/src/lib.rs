//! NUT's usbhid-ups as a pure core: no I/O, no clock.
//!
//! * [`descriptor`]: the HID report-descriptor parser and its field model ([`ReportDescriptor`],
//!   [`Field`]), with NUT 2.8.0's rules and defect handling.
//! * [`report`]: field values in report buffers (decode, encode, logical/physical/unit
//!   conversions).
//! * [`usage`]: usage names and NUT's HID path strings.
//! * [`mapping`]: the mapping model (NUT variable/command ⇄ HID path rows, conversions) and
//!   the per-device conversion state ([`mapping::DeviceState`]).
//! * [`pool`]: the subdrivers' tables stored without pointers (read-only, paged in on use).
//! * [`localtime`]: local time from the UTC offsets the shell supplies (no time-zone database).
//! * [`status`]: status bits → `ups.status`, `ups.alarm`, `input.transfer.reason`.
//! * [`engine`]: the generic driver logic (walks, polls, interrupt reports) as a sans-IO engine.
//! * [`fuzzing`]: entry points for fuzz targets (descriptor, reports, engine).
//! * [`subdriver`]: the subdrivers' vendor names and descriptor fixes.
// deny, not forbid: the table pools' `link_section` (src/pool.rs) is allowed, nothing else.
#![deny(unsafe_code)]

pub mod descriptor;
pub mod engine;
pub mod fuzzing;
pub mod localtime;
pub mod mapping;
pub mod pool;
pub mod report;
pub mod status;
pub mod subdriver;
pub mod usage;

pub use descriptor::{DescriptorError, Field, ParseWarning, ReportDescriptor, ReportType, Usage};
pub use subdriver::Subdriver;
