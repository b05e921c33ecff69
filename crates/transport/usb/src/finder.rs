//! Finding, opening and re-finding a UPS: NUT's `nut_libusb_open` walk (drivers/libusb1.c) over
//! either the real bus or a replayed spec.

use std::path::PathBuf;

use crate::matcher::{ExactMatcher, InvalidRegex, MatchCriteria, RegexMatcher};
use crate::replay::{Replay, ReplayError, ReplayOptions};
use crate::{DeviceIdentity, UsbError, UsbTransport, real};

/// NUT reads each identity string up to this many times (`MAX_RETRY`).
const MAX_RETRY: usize = 3;
/// NUT's buffer for identity strings (`char string[256]`).
const STRING_BUFFER: usize = 256;

/// How to find the UPS: the `port` of its `ups.conf` section, NUT's matching options, and which
/// interface to claim.
#[derive(Debug, Clone, Default)]
pub struct UsbOptions {
    /// `auto` (or anything but `replay:`) for the real bus; `replay:<spec path>` for a replay.
    pub port: String,
    pub criteria: MatchCriteria,
    /// The interface to claim (NUT's `hid_rep_index`, 0 for every 2.8.0 driver but a few
    /// usbhid-ups subdrivers).
    pub interface: u8,
    /// `usb_set_altinterface`: select this alternate setting after claiming.
    pub alt_setting: Option<u8>,
    /// Log and events file of a replay ([`ReplayOptions::from_env`] by default).
    pub replay: ReplayOptions,
}

impl UsbOptions {
    /// Options for a `port` value, with the replay's log and events file from the environment
    /// (`FAKEUSB_LOG`, `FAKEUSB_EVENTS`) and everything else as NUT's defaults.
    pub fn for_port(port: &str) -> UsbOptions {
        UsbOptions {
            port: port.to_string(),
            replay: ReplayOptions::from_env(),
            ..UsbOptions::default()
        }
    }
}

/// Why no device could be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error(transparent)]
    InvalidRegex(#[from] InvalidRegex),
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// Nothing on the bus matched (the counts are for NUT's hints: no buses, or no permission);
    /// `skipped` says, per device that was read, why it was not taken.
    #[error(
        "no matching USB device found ({listed} listed, {open_errors} could not be opened, {access_errors} for lack of permission){}",
        skipped.iter().map(|s| format!("; {s}")).collect::<String>()
    )]
    NotFound {
        listed: usize,
        open_errors: usize,
        access_errors: usize,
        skipped: Vec<String>,
    },
    #[error("cannot list USB devices: {0}")]
    Enumerate(String),
    #[error("Can't claim USB device [{vendor_id:04x}:{product_id:04x}]@{interface}: {error}")]
    Claim {
        vendor_id: u16,
        product_id: u16,
        interface: u8,
        error: UsbError,
    },
}

enum Backend {
    Real,
    Replay(Replay),
}

/// Opens the UPS the options describe, and later the same UPS again (after a disconnect, a reset,
/// or re-enumeration under a new device number).
pub struct DeviceFinder {
    backend: Backend,
    options: UsbOptions,
    regex: RegexMatcher,
    exact: Option<ExactMatcher>,
}

impl DeviceFinder {
    /// Check the options (regexes; for a replay, load the spec: errors carry `file:line`).
    pub fn new(options: UsbOptions) -> Result<DeviceFinder, OpenError> {
        let regex = RegexMatcher::new(&options.criteria)?;
        let backend = match options.port.strip_prefix("replay:") {
            Some(path) => Backend::Replay(Replay::load(&PathBuf::from(path), &options.replay)?),
            None => Backend::Real,
        };
        Ok(DeviceFinder {
            backend,
            options,
            regex,
            exact: None,
        })
    }

    /// Whether this finder serves a replayed spec.
    pub fn is_replay(&self) -> bool {
        matches!(self.backend, Backend::Replay(_))
    }

    /// The identity of the device opened first; later opens only accept that device.
    pub fn remembered(&self) -> Option<&ExactMatcher> {
        self.exact.as_ref()
    }

    /// Open the first device that matches: the remembered identity (after a first success), the
    /// matching options, and `accept` (a driver's table of supported devices; NUT's
    /// `device_matcher`). The identity strings are read as NUT reads them.
    pub fn open(
        &mut self,
        accept: &mut dyn FnMut(&DeviceIdentity) -> bool,
    ) -> Result<Box<dyn UsbTransport>, OpenError> {
        let interface = self.options.interface;
        self.open_claiming(&mut |id| accept(id).then_some(interface))
    }

    /// [`DeviceFinder::open`] for drivers whose table also says which interface a device is
    /// used through (NUT's `hid_rep_index`, set by usbhid-ups' subdriver match): `accept`
    /// returns the interface to claim, or `None` to pass the device by.
    pub fn open_claiming(
        &mut self,
        accept: &mut dyn FnMut(&DeviceIdentity) -> Option<u8>,
    ) -> Result<Box<dyn UsbTransport>, OpenError> {
        let t = match &self.backend {
            Backend::Replay(r) => open_replay(r, &self.regex, self.exact.as_ref(), accept)?,
            Backend::Real => {
                real::open_matching(&self.options, &self.regex, self.exact.as_ref(), accept)?
            }
        };
        if self.exact.is_none() {
            self.exact = Some(ExactMatcher::of(t.identity()));
        }
        Ok(t)
    }
}

/// NUT's identity string read: up to [`MAX_RETRY`] tries, an empty string counts as a failure.
pub(crate) fn read_identity_string(
    index: u8,
    mut read: impl FnMut(u8, usize) -> Result<Vec<u8>, UsbError>,
) -> Option<String> {
    if index == 0 {
        return None;
    }
    for _ in 0..MAX_RETRY {
        if let Ok(s) = read(index, STRING_BUFFER)
            && !s.is_empty()
        {
            return Some(String::from_utf8_lossy(&s).into_owned());
        }
    }
    None
}

/// Whether a listed device is the one to open, with the interface to claim; else why not (for
/// [`OpenError::NotFound`]).
pub(crate) fn accepted(
    id: &DeviceIdentity,
    regex: &RegexMatcher,
    exact: Option<&ExactMatcher>,
    accept: &mut dyn FnMut(&DeviceIdentity) -> Option<u8>,
) -> Result<u8, String> {
    let why = if exact.is_some_and(|e| !e.matches(id)) {
        "not the UPS opened before".to_string()
    } else if let Some(option) = regex.mismatch(id) {
        format!("{option} does not match")
    } else if let Some(interface) = accept(id) {
        return Ok(interface);
    } else {
        "not supported by the driver".to_string()
    };
    Err(format!(
        "{:04x}:{:04x} (vendor {:?}, product {:?}, serial {:?}, bus {}, device {}): {why}",
        id.vendor_id,
        id.product_id,
        id.vendor.as_deref().unwrap_or(""),
        id.product.as_deref().unwrap_or(""),
        id.serial.as_deref().unwrap_or(""),
        id.bus_string(),
        id.device_string()
    ))
}

fn open_replay(
    replay: &Replay,
    regex: &RegexMatcher,
    exact: Option<&ExactMatcher>,
    accept: &mut dyn FnMut(&DeviceIdentity) -> Option<u8>,
) -> Result<Box<dyn UsbTransport>, OpenError> {
    let not_found = |listed, open_errors, skipped| OpenError::NotFound {
        listed,
        open_errors,
        access_errors: 0,
        skipped,
    };
    let Some(d) = replay.enumerate() else {
        return Err(not_found(0, 0, Vec::new()));
    };
    let Ok(mut handle) = replay.open() else {
        return Err(not_found(1, 1, Vec::new()));
    };
    let mut read = |i: u8, n: usize| handle.string_ascii(i, n);
    let id = DeviceIdentity {
        vendor_id: d.vendor_id,
        product_id: d.product_id,
        bcd_device: d.bcd_device,
        vendor: read_identity_string(d.imanufacturer, &mut read),
        product: read_identity_string(d.iproduct, &mut read),
        serial: read_identity_string(d.iserial, &mut read),
        bus: d.bus,
        device: d.device,
        port: Some(d.port),
    };
    if let Err(why) = accepted(&id, regex, exact, accept) {
        return Err(not_found(1, 0, vec![why]));
    }
    Ok(Box::new(handle.into_transport(id)))
}
