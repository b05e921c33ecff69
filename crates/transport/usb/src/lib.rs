//! nut-usb: the USB transport of nut-rs drivers.
//!
//! One trait, [`UsbTransport`], with two implementations a driver cannot tell apart:
//!
//! * [`real`]: a real device through [`nusb`] (pure Rust over Linux usbfs/sysfs; no libusb, no
//!   libudev): enumeration, NUT's matching options ([`matcher`]), detaching the kernel driver and
//!   claiming the interface, control and interrupt transfers with timeouts, string descriptors.
//! * [`replay`]: a recorded device spec ([`spec`], the format of the project's test rig) served
//!   with the semantics of the rig's libusb stand-in `tests/rig/usb/fakeusb.c`, including the
//!   Megatec/Q1 USB bridges and simulated unplug/replug. nusb cannot be intercepted with
//!   LD_PRELOAD, so this is how our drivers meet the same simulated devices as Debian's.
//!
//! A driver gets its transport from a [`DeviceFinder`]: `port = "replay:<spec>"` selects the
//! replay, anything else (NUT's `auto`) the real bus. The finder remembers the identity of the
//! device it opened first and afterwards only accepts that device again (NUT's "reopen matcher"),
//! so a driver whose UPS re-enumerates under a new device number picks the same UPS up again.
//!
//! All calls block for at most their timeout; drivers run their device I/O on their own thread.
//!
//! ```no_run
//! use nut_usb::{DeviceFinder, UsbOptions, UsbError, USB_TIMEOUT};
//!
//! let mut options = UsbOptions::for_port("auto"); // or "replay:/path/to/dev.spec"
//! options.criteria.set("vendorid", "0665");
//! let mut finder = DeviceFinder::new(options)?;
//! // the driver's own table decides which devices it supports
//! let mut ups = finder.open(&mut |id| id.product_id == 0x5161)?;
//! match ups.string_ascii(3, 256, USB_TIMEOUT) {
//!     Ok(reply) => println!("{}", String::from_utf8_lossy(&reply)),
//!     // gone (unplugged, reset): drop it and open again, the finder only takes the same UPS
//!     Err(e) if e.needs_reconnect() => ups = finder.open(&mut |_| true)?,
//!     Err(e) => eprintln!("{e}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod langid;
pub mod matcher;
pub mod real;
pub mod replay;
pub mod spec;

mod bridge;
mod finder;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use finder::{DeviceFinder, OpenError, UsbOptions};
pub use matcher::{ExactMatcher, MatchCriteria, RegexMatcher};

/// NUT's USB timeout for control transfers (`USB_TIMEOUT`, 5 s).
pub const USB_TIMEOUT: Duration = Duration::from_millis(5000);

/// The setup packet of a control transfer, minus the length (bmRequestType as on the wire: bit 7
/// is the direction, bits 5..6 the type, bits 0..4 the recipient).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlSetup {
    pub request_type: u8,
    pub request: u8,
    pub value: u16,
    pub index: u16,
}

impl ControlSetup {
    /// Whether the request type says device-to-host.
    pub fn is_in(&self) -> bool {
        self.request_type & request_type::DIR_IN != 0
    }

    /// A transfer in the direction its request type does not say is a caller's bug.
    pub fn expect_direction(&self, device_to_host: bool) -> Result<(), UsbError> {
        if self.is_in() == device_to_host {
            return Ok(());
        }
        let says = if self.is_in() {
            "device-to-host"
        } else {
            "host-to-device"
        };
        Err(UsbError::InvalidParam(format!(
            "request type {:02x} is {says}",
            self.request_type
        )))
    }
}

/// bmRequestType bits, named as in the USB specification.
pub mod request_type {
    pub const DIR_IN: u8 = 0x80;
    pub const TYPE_STANDARD: u8 = 0x00;
    pub const TYPE_CLASS: u8 = 0x20;
    pub const TYPE_VENDOR: u8 = 0x40;
    pub const RECIP_DEVICE: u8 = 0x00;
    pub const RECIP_INTERFACE: u8 = 0x01;
    pub const RECIP_ENDPOINT: u8 = 0x02;
}

/// Standard and HID class requests the drivers use.
pub mod requests {
    pub const GET_DESCRIPTOR: u8 = 0x06;
    pub const HID_GET_REPORT: u8 = 0x01;
    pub const HID_SET_REPORT: u8 = 0x09;
    pub const HID_SET_IDLE: u8 = 0x0a;
    pub const DT_DEVICE: u8 = 0x01;
    pub const DT_STRING: u8 = 0x03;
    pub const DT_HID: u8 = 0x21;
    pub const DT_REPORT: u8 = 0x22;
}

/// Transfer errors, in the classes NUT's drivers tell apart (they map to libusb's error codes; the
/// messages are libusb's, which NUT logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsbError {
    /// No answer within the timeout (for an interrupt IN: nothing to read).
    #[error("Operation timed out")]
    Timeout,
    /// The device STALLed the request (unsupported request, or a halted endpoint).
    #[error("Pipe error")]
    Stall,
    /// The device is gone (unplugged, reset, re-enumerated).
    #[error("No such device (it may have been disconnected)")]
    NoDevice,
    #[error("Access denied (insufficient permissions)")]
    Access,
    /// Another driver (or the kernel) holds the interface.
    #[error("Resource busy")]
    Busy,
    #[error("Entity not found")]
    NotFound,
    /// The device sent more than was asked for.
    #[error("Overflow")]
    Overflow,
    #[error("Invalid parameter: {0}")]
    InvalidParam(String),
    #[error("Input/Output Error: {0}")]
    Io(String),
}

impl UsbError {
    /// NUT's drivers close and reopen the device after these (nutdrv_qx `qx_command`, usbhid-ups).
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            UsbError::NoDevice | UsbError::Access | UsbError::Io(_) | UsbError::NotFound
        )
    }
}

/// What identifies a device for NUT's matching options and for finding it again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceIdentity {
    pub vendor_id: u16,
    pub product_id: u16,
    pub bcd_device: u16,
    /// iManufacturer string (NUT's "Vendor"), if the device has one and it could be read.
    pub vendor: Option<String>,
    /// iProduct string.
    pub product: Option<String>,
    /// iSerialNumber string.
    pub serial: Option<String>,
    pub bus: u8,
    /// Device address on the bus (changes when the device re-enumerates).
    pub device: u8,
    /// Port number on the parent hub, if known.
    pub port: Option<u8>,
}

impl DeviceIdentity {
    /// NUT's `Bus` string: three decimal digits.
    pub fn bus_string(&self) -> String {
        format!("{:03}", self.bus)
    }

    /// NUT's `Device` string: three decimal digits.
    pub fn device_string(&self) -> String {
        format!("{:03}", self.device)
    }

    /// NUT's `BusPort` string: three decimal digits, or none.
    pub fn busport_string(&self) -> Option<String> {
        self.port.map(|p| format!("{p:03}"))
    }
}

/// What [`InterruptPipe::next`] returns: a future that is `Send`.
pub type PipeFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, UsbError>> + Send + 'a>>;

/// An interrupt IN endpoint read as events: a transfer stays submitted to the device (a real
/// one: queued in the kernel; a replay: watching its events file), so whoever awaits the next
/// report sleeps until the device sends one, without waking up to poll. The transport's
/// control transfers go on meanwhile. Dropping the pipe cancels what is submitted.
pub trait InterruptPipe: Send {
    /// The next report the device sent (at most the pipe's length). Cancel-safe: a future
    /// dropped before it completes loses nothing, the report goes to the next call. A stalled
    /// endpoint is cleared and reported as [`UsbError::Stall`].
    fn next(&mut self) -> PipeFuture<'_>;
}

/// A claimed USB device. Every call blocks for at most its timeout.
pub trait UsbTransport: Send {
    /// The interrupt IN `endpoint` (address with bit 7 set) as an [`InterruptPipe`] of reports
    /// of at most `length` bytes. Use either the pipe or [`UsbTransport::interrupt_in`] for an
    /// endpoint, not both.
    fn interrupt_pipe(
        &mut self,
        endpoint: u8,
        length: usize,
    ) -> Result<Box<dyn InterruptPipe>, UsbError>;

    /// The identity read when the device was opened.
    fn identity(&self) -> &DeviceIdentity;

    /// A device-to-host control transfer (`setup.request_type` has bit 7 set); returns what the
    /// device sent, at most `length` bytes.
    fn control_in(
        &mut self,
        setup: ControlSetup,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError>;

    /// A host-to-device control transfer; returns the number of bytes sent.
    fn control_out(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError>;

    /// Read one transfer from an interrupt IN endpoint (address with bit 7 set); at most `length`
    /// bytes. Nothing to read within `timeout` is [`UsbError::Timeout`].
    fn interrupt_in(
        &mut self,
        endpoint: u8,
        length: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError>;

    /// Write to an interrupt OUT endpoint; returns the number of bytes sent.
    fn interrupt_out(
        &mut self,
        endpoint: u8,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError>;

    /// String descriptor `index` as ASCII, with libusb's `libusb_get_string_descriptor_ascii`
    /// semantics (which NUT's `usb_get_string_simple` is): the device's first LANGID is used,
    /// characters outside ASCII become `?`, and at most `buffer_len - 1` bytes are returned.
    fn string_ascii(
        &mut self,
        index: u8,
        buffer_len: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError>;

    /// Clear a halted endpoint.
    fn clear_halt(&mut self, endpoint: u8) -> Result<(), UsbError>;

    /// Reset the device (it re-enumerates; reopen it through the [`DeviceFinder`]).
    fn reset(&mut self) -> Result<(), UsbError>;

    /// HID GET_REPORT to interface `interface`: `kind` 1 = Input, 2 = Output, 3 = Feature; the
    /// answer includes the report ID byte when the device uses report IDs.
    fn hid_get_report(
        &mut self,
        kind: u8,
        id: u8,
        interface: u8,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        self.control_in(
            ControlSetup {
                request_type: request_type::DIR_IN
                    | request_type::TYPE_CLASS
                    | request_type::RECIP_INTERFACE,
                request: requests::HID_GET_REPORT,
                value: (u16::from(kind) << 8) | u16::from(id),
                index: u16::from(interface),
            },
            length,
            timeout,
        )
    }

    /// HID SET_REPORT to interface `interface` (`kind` as for [`Self::hid_get_report`]).
    fn hid_set_report(
        &mut self,
        kind: u8,
        id: u8,
        interface: u8,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.control_out(
            ControlSetup {
                request_type: request_type::TYPE_CLASS | request_type::RECIP_INTERFACE,
                request: requests::HID_SET_REPORT,
                value: (u16::from(kind) << 8) | u16::from(id),
                index: u16::from(interface),
            },
            data,
            timeout,
        )
    }

    /// String descriptor `index` in language `langid`, raw (bLength, bDescriptorType, UTF-16LE):
    /// NUT's `usb_get_string` (libusb's `libusb_get_string_descriptor`), one control transfer.
    fn string_descriptor(
        &mut self,
        index: u8,
        langid: u16,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        self.control_in(
            ControlSetup {
                request_type: request_type::DIR_IN,
                request: requests::GET_DESCRIPTOR,
                value: (u16::from(requests::DT_STRING) << 8) | u16::from(index),
                index: langid,
            },
            length,
            timeout,
        )
    }
}

/// libusb's conversion of a raw string descriptor to ASCII (`?` for anything outside ASCII), at
/// most `buffer_len - 1` characters. Errors as libusb: a descriptor that is not a string
/// descriptor or claims more bytes than were read is an I/O error.
pub fn string_descriptor_to_ascii(desc: &[u8], buffer_len: usize) -> Result<Vec<u8>, UsbError> {
    if desc.len() < 2 || desc[1] != requests::DT_STRING {
        return Err(UsbError::Io("not a string descriptor".into()));
    }
    let claimed = usize::from(desc[0]);
    if claimed > desc.len() {
        return Err(UsbError::Io(
            "string descriptor longer than the transfer".into(),
        ));
    }
    let mut out = Vec::new();
    let mut si = 2;
    while si + 1 < claimed && out.len() + 1 < buffer_len {
        let (lo, hi) = (desc[si], desc[si + 1]);
        out.push(if hi != 0 || lo >= 0x80 { b'?' } else { lo });
        si += 2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_conversion_as_libusb() {
        let d = [10, 3, b'A', 0, 0xe9, 0, 0x3a, 0x26, b'z', 0];
        assert_eq!(string_descriptor_to_ascii(&d, 255).unwrap(), b"A??z");
        assert_eq!(string_descriptor_to_ascii(&d, 3).unwrap(), b"A?");
        assert!(string_descriptor_to_ascii(&[10, 3, b'A', 0], 255).is_err());
        assert!(string_descriptor_to_ascii(&[4, 2, b'A', 0], 255).is_err());
        assert!(string_descriptor_to_ascii(&[], 255).is_err());
    }

    #[test]
    fn identity_strings_have_three_digits() {
        let id = DeviceIdentity {
            bus: 1,
            device: 12,
            port: Some(3),
            ..Default::default()
        };
        assert_eq!(id.bus_string(), "001");
        assert_eq!(id.device_string(), "012");
        assert_eq!(id.busport_string().as_deref(), Some("003"));
    }
}
