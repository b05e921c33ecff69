//! NUT's usbhid-ups as a pure core: no I/O, no clock.
//!
//! * [`descriptor`]: the HID report-descriptor parser and its field model ([`ReportDescriptor`],
//!   [`Field`]), with NUT 2.8.0's rules and defect handling.
//! * [`report`]: field values in report buffers (decode, encode, logical/physical/unit
//!   conversions).
//! * [`usage`]: usage names and NUT's HID path strings.
//! * [`subdriver`]: the subdrivers' vendor names and descriptor fixes.
#![forbid(unsafe_code)]

pub mod descriptor;
pub mod report;
pub mod subdriver;
pub mod usage;

pub use descriptor::{DescriptorError, Field, ParseWarning, ReportDescriptor, ReportType, Usage};
pub use subdriver::Subdriver;
