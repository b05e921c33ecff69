//! The Megatec/Q1 protocol family of NUT's `nutdrv_qx`, `blazer_ser` and `blazer_usb` as a
//! pure core: no I/O, no clock, no threads. Bytes and events go in, bytes to send and state
//! updates come out; the driver binaries put a serial or USB transport around it.
//!
//! * [`item`]: the item model (one table row per variable/command/SET).
//! * [`protocol`]: one table file per protocol, the claim logic and NUT's detection order.
//! * [`detect::Detector`]: auto-detection (or the `protocol` option).
//! * [`engine::Qx`]: initialisation, polls, instant commands, SETs and shutdown for one device.
//! * [`options`]: driver options, validated, and the variables each program declares.
//! * [`usb`]: the USB subdrivers' framing as transfer operations, and the VID:PID table.
//! * [`blazer::Blazer`]: blazer_ser / blazer_usb's own (older) driver core.
//! * [`fuzzing`]: whole sessions driven by arbitrary bytes (fuzz targets).
#![forbid(unsafe_code)]

pub mod battery;
pub mod blazer;
pub mod cnum;
pub mod detect;
pub mod dstate;
pub mod engine;
pub mod fuzzing;
pub mod item;
pub mod options;
pub mod protocol;
pub mod usb;

pub use blazer::Blazer;
pub use detect::{DetectStep, Detector};
pub use engine::{CmdStatus, Outcome, PollResult, Qx, Reply, SetStatus, Step};
pub use options::{QxOptions, Variant};
pub use protocol::ProtocolId;
