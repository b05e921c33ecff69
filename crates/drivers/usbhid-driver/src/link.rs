//! The HID link: a `nut-usb` device (real through nusb, or `port = "replay:<spec>"`) found by
//! NUT's matching options and claimed by a subdriver, with the transfers usbhid-ups makes
//! (GET_REPORT / SET_REPORT of Feature reports, string descriptors, the interrupt pipe).
//!
//! nut-usb blocks (each call for at most its timeout), so every control transfer runs on a
//! blocking thread and the driver's loop keeps serving its socket meanwhile; the device sits
//! behind a mutex shared with those threads. The interrupt pipe is nut-usb's event-driven
//! [`InterruptPipe`], awaited beside the control transfers: an idle driver sleeps until the
//! device sends or a poll is due, and a wait the framework drops when a poll is due (it drops
//! [`Driver::wait_event`](nut_driver::Driver::wait_event)) loses no report.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use nut_driver::{DriverError, Transport};
use nut_usb::{
    ControlSetup, DeviceFinder, DeviceIdentity, InterruptPipe, OpenError, USB_TIMEOUT, UsbError,
    UsbOptions, UsbTransport, request_type, requests,
};
use usbhid_ups::Subdriver;
use usbhid_ups::subdriver::select::{self, DeviceIds, SelectOptions};

/// The interrupt IN endpoint NUT 2.8.0 reads unless the subdriver says otherwise.
pub const INTERRUPT_ENDPOINT: u8 = 0x81;
/// NUT's interrupt buffer (`SMALLBUF`), the read size unless `interruptsize` is given.
pub const INTERRUPT_BUFFER: usize = 512;
/// Descriptor type of a configuration descriptor.
const DT_CONFIG: u8 = 0x02;

/// What was found when the device was opened.
#[derive(Debug, Clone)]
pub struct Opened {
    pub identity: DeviceIdentity,
    pub subdriver: Subdriver,
    /// The raw report descriptor.
    pub report_descriptor: Vec<u8>,
    /// The raw device descriptor (18 bytes), if it could be read (for the recorder's string
    /// indexes and bcdDevice).
    pub device_descriptor: Option<Vec<u8>>,
}

type SharedDevice = Arc<Mutex<Option<Box<dyn UsbTransport>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic on a transfer thread cannot leave the handle half-updated; keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A USB HID UPS.
pub struct HidLink {
    finder: Option<DeviceFinder>,
    dev: SharedDevice,
    select: SelectOptions,
    /// The HID interface (the subdriver's; 0 until a device is open).
    interface: u8,
    /// The interrupt IN endpoint (the subdriver's, else 0x81).
    interrupt_endpoint: u8,
    opened: Option<Opened>,
    /// Counts successful opens: the driver re-initialises its walk after a reconnect.
    generation: u64,
    /// Interrupt reports received and not yet handled.
    pending: Arc<Mutex<VecDeque<Vec<u8>>>>,
    /// The interrupt pipe of the open device, once it was first waited on.
    pipe: Option<Box<dyn InterruptPipe>>,
    /// A replayed device (`port = "replay:…"`): its transfers never block.
    replay: bool,
}

impl std::fmt::Debug for HidLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HidLink")
            .field("subdriver", &self.opened.as_ref().map(|o| o.subdriver))
            .field("generation", &self.generation)
            .finish()
    }
}

/// How a transfer error counts: a lost device makes the framework reconnect (NUT: `hd =
/// NULL`, also for "busy": another driver took the device); anything else only skips the
/// report.
fn lost(e: &UsbError) -> bool {
    e.needs_reconnect() || matches!(e, UsbError::Busy)
}

fn disconnected(what: &str, e: &UsbError) -> DriverError {
    DriverError::Disconnected(format!("{what}: {e}"))
}

fn join_error(e: impl std::fmt::Display) -> DriverError {
    DriverError::Fatal(format!("USB worker thread: {e}"))
}

impl HidLink {
    /// The link of a configuration (nothing is opened yet).
    pub fn new(usb: UsbOptions, select: SelectOptions) -> Result<Self, DriverError> {
        let interface = usb.interface;
        let finder = DeviceFinder::new(usb).map_err(|e| DriverError::Config(e.to_string()))?;
        let replay = finder.is_replay();
        Ok(Self {
            replay,
            finder: Some(finder),
            dev: Arc::new(Mutex::new(None)),
            select,
            interface,
            interrupt_endpoint: INTERRUPT_ENDPOINT,
            opened: None,
            generation: 0,
            pending: Arc::new(Mutex::new(VecDeque::new())),
            pipe: None,
        })
    }

    /// The open device's facts (after the first successful open, kept across losses).
    pub fn opened(&self) -> Option<&Opened> {
        self.opened.as_ref()
    }

    /// How many times the device was opened.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The HID interface in use.
    pub fn interface(&self) -> u8 {
        self.interface
    }

    /// Runs `f` on the device: on a blocking thread for a real device (a control transfer
    /// can take up to its 5 s timeout), in place for a replay, which answers at once (as the
    /// libusb stand-in does inside Debian's driver: no thread hand-over, no extra wake-ups).
    async fn with_dev<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn UsbTransport) -> Result<T, DriverError> + Send + 'static,
    ) -> Result<T, DriverError> {
        let dev = Arc::clone(&self.dev);
        let run = move || match lock(&dev).as_mut() {
            Some(d) => f(d.as_mut()),
            None => Err(DriverError::Disconnected("USB device not open".into())),
        };
        if self.replay {
            return run();
        }
        tokio::task::spawn_blocking(run).await.map_err(join_error)?
    }

    /// GET_REPORT (Feature) of each `(report id, length)`, in order: `None` for a report the
    /// device did not give (stall, timeout: NUT skips the rows it feeds); a lost device is an
    /// error.
    pub async fn get_reports(
        &self,
        wanted: Vec<(u8, u16)>,
    ) -> Result<Vec<(u8, Option<Vec<u8>>)>, DriverError> {
        let iface = self.interface;
        self.with_dev(move |d| {
            let mut out = Vec::with_capacity(wanted.len());
            for (id, len) in wanted {
                match d.hid_get_report(3, id, iface, len, USB_TIMEOUT) {
                    Ok(bytes) if !bytes.is_empty() => out.push((id, Some(bytes))),
                    Ok(_) => out.push((id, None)),
                    Err(e) if lost(&e) => return Err(disconnected("GET_REPORT", &e)),
                    Err(e) => {
                        nut_driver::debug!(2, "GET_REPORT {id:#04x}: {e}");
                        out.push((id, None));
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// SET_REPORT (Feature): true when the device took it.
    pub async fn set_report(&self, report_id: u8, data: Vec<u8>) -> Result<bool, DriverError> {
        let iface = self.interface;
        self.with_dev(
            move |d| match d.hid_set_report(3, report_id, iface, &data, USB_TIMEOUT) {
                Ok(_) => Ok(true),
                Err(e) if lost(&e) => Err(disconnected("SET_REPORT", &e)),
                Err(e) => {
                    nut_driver::debug!(2, "SET_REPORT {report_id:#04x}: {e}");
                    Ok(false)
                }
            },
        )
        .await
    }

    /// USB string `index` as ASCII (NUT's `usb_get_string_simple`), if the device gives it.
    pub async fn string(&self, index: u8) -> Result<Option<String>, DriverError> {
        self.with_dev(move |d| match d.string_ascii(index, 256, USB_TIMEOUT) {
            Ok(s) => Ok(Some(String::from_utf8_lossy(&s).into_owned())),
            Err(e) if lost(&e) => Err(disconnected("string descriptor", &e)),
            Err(_) => Ok(None),
        })
        .await
    }

    /// The first LANGID of string descriptor 0 (for the recorder).
    pub async fn langid(&self) -> Result<Option<u16>, DriverError> {
        self.with_dev(move |d| match d.string_descriptor(0, 0, 255, USB_TIMEOUT) {
            Ok(s) if s.len() >= 4 => Ok(Some(u16::from_le_bytes([s[2], s[3]]))),
            Ok(_) => Ok(None),
            Err(e) if lost(&e) => Err(disconnected("string descriptor 0", &e)),
            Err(_) => Ok(None),
        })
        .await
    }

    /// Waits for the next report on the interrupt pipe (at most `len` bytes) and queues it for
    /// [`HidLink::take_interrupts`]. Sleeps until the device sends: nothing polls meanwhile
    /// (nut-usb's [`InterruptPipe`]). Cancel-safe: dropped before a report arrived, the
    /// report goes to the next call. A stalled pipe has been cleared, as NUT does.
    pub async fn next_interrupt(&mut self, len: usize) -> Result<(), DriverError> {
        if self.pipe.is_none() {
            let endpoint = self.interrupt_endpoint;
            let pipe = self
                .with_dev(move |d| {
                    d.interrupt_pipe(endpoint, len).map_err(|e| {
                        if lost(&e) {
                            disconnected("interrupt pipe", &e)
                        } else {
                            DriverError::Protocol(format!("interrupt pipe: {e}"))
                        }
                    })
                })
                .await?;
            self.pipe = Some(pipe);
        }
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(());
        };
        match pipe.next().await {
            Ok(bytes) => {
                if !bytes.is_empty() {
                    lock(&self.pending).push_back(bytes);
                }
                Ok(())
            }
            Err(e) if lost(&e) => {
                self.pipe = None;
                Err(disconnected("interrupt pipe", &e))
            }
            Err(e) => Err(DriverError::Protocol(format!("interrupt pipe: {e}"))),
        }
    }

    /// Whether interrupt reports are waiting.
    pub fn has_interrupts(&self) -> bool {
        !lock(&self.pending).is_empty()
    }

    /// The interrupt reports received so far, oldest first.
    pub fn take_interrupts(&self) -> Vec<Vec<u8>> {
        lock(&self.pending).drain(..).collect()
    }
}

/// The report-descriptor length the HID descriptor (type 0x21) of interface `iface`
/// (alternate setting 0) states inside a configuration descriptor: NUT's "second method",
/// which it prefers (some units, e.g. Tripp Lite Smart1000LCD, only state it correctly there).
pub fn hid_length_in_config(config: &[u8], iface: u8) -> Option<u16> {
    let mut i = 0;
    let mut inside = false;
    while i + 2 <= config.len() {
        let len = usize::from(config[i]);
        if len < 2 || i + len > config.len() {
            return None;
        }
        let d = &config[i..i + len];
        match d[1] {
            4 if len >= 4 => inside = d[2] == iface && d[3] == 0,
            0x21 if inside && len >= 9 => return Some(u16::from_le_bytes([d[7], d[8]])),
            _ => {}
        }
        i += len;
    }
    None
}

/// The report-descriptor length stated in the HID descriptor, by NUT's two methods: asked for
/// directly (GET_DESCRIPTOR HID to the interface), and found in the configuration
/// descriptor. The second wins when both exist, except on Eaton 0463 firmware 2.02, where NUT
/// uses the first.
fn report_descriptor_len(
    d: &mut dyn UsbTransport,
    iface: u8,
    id: &DeviceIdentity,
) -> Result<Option<u16>, UsbError> {
    let to_iface = ControlSetup {
        request_type: request_type::DIR_IN
            | request_type::TYPE_STANDARD
            | request_type::RECIP_INTERFACE,
        request: requests::GET_DESCRIPTOR,
        value: u16::from(requests::DT_HID) << 8,
        index: u16::from(iface),
    };
    let first = match d.control_in(to_iface, 9, USB_TIMEOUT) {
        Ok(h) if h.len() >= 9 => Some(u16::from_le_bytes([h[7], h[8]])),
        Ok(_) => None,
        Err(e) if lost(&e) => return Err(e),
        Err(_) => None,
    };
    let config = ControlSetup {
        request_type: request_type::DIR_IN,
        request: requests::GET_DESCRIPTOR,
        value: u16::from(DT_CONFIG) << 8,
        index: 0,
    };
    let second = match d.control_in(config, 9, USB_TIMEOUT) {
        Ok(head) if head.len() >= 4 => {
            let total = u16::from_le_bytes([head[2], head[3]]);
            match d.control_in(config, total, USB_TIMEOUT) {
                Ok(all) => hid_length_in_config(&all, iface),
                Err(e) if lost(&e) => return Err(e),
                Err(_) => None,
            }
        }
        Ok(_) => None,
        Err(e) if lost(&e) => return Err(e),
        Err(_) => None,
    };
    nut_driver::debug!(
        3,
        "HID descriptor length (method 1) {first:?}, (method 2) {second:?}"
    );
    Ok(if id.vendor_id == 0x0463 && id.bcd_device == 0x0202 {
        first
    } else {
        second.or(first)
    })
}

/// Reads the report descriptor of `iface`, as long as the HID descriptor says.
fn read_report_descriptor(
    d: &mut dyn UsbTransport,
    iface: u8,
    id: &DeviceIdentity,
) -> Result<Vec<u8>, String> {
    let len = report_descriptor_len(d, iface, id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "Unable to retrieve any HID descriptor".to_string())?;
    let setup = ControlSetup {
        request_type: request_type::DIR_IN
            | request_type::TYPE_STANDARD
            | request_type::RECIP_INTERFACE,
        request: requests::GET_DESCRIPTOR,
        value: u16::from(requests::DT_REPORT) << 8,
        index: u16::from(iface),
    };
    d.control_in(setup, len, USB_TIMEOUT)
        .map_err(|e| format!("Unable to get Report descriptor: {e}"))
}

fn read_device_descriptor(d: &mut dyn UsbTransport) -> Option<Vec<u8>> {
    let setup = ControlSetup {
        request_type: request_type::DIR_IN,
        request: requests::GET_DESCRIPTOR,
        value: u16::from(requests::DT_DEVICE) << 8,
        index: 0,
    };
    d.control_in(setup, 18, USB_TIMEOUT)
        .ok()
        .filter(|b| b.len() >= 18)
}

/// What [`HidLink::open`] found: the device with its report descriptor (or why it could not
/// be read) and device descriptor, and the subdriver that claimed it.
type Found = (
    (
        Box<dyn UsbTransport>,
        Result<Vec<u8>, String>,
        Option<Vec<u8>>,
    ),
    Option<Subdriver>,
);

/// The blocking part of [`HidLink::open`]: finds the UPS by the matching options, lets the
/// subdriver selection claim it and reads its descriptors. Returns the finder (kept for the
/// next reconnection) and the devices of unsupported vendors seen on the way.
#[allow(clippy::type_complexity)]
fn find_and_read(
    mut finder: DeviceFinder,
    select: &SelectOptions,
) -> (
    DeviceFinder,
    Result<Found, OpenError>,
    Vec<(&'static str, u16, u16)>,
) {
    let mut chosen = None;
    let mut notes = Vec::new();
    let res = finder.open_claiming(&mut |id| {
        let ids = DeviceIds {
            vendor_id: id.vendor_id,
            product_id: id.product_id,
            vendor: id.vendor.as_deref(),
            product: id.product.as_deref(),
        };
        match select::select(&ids, select) {
            Ok(s) => {
                for vendor in &s.possibly {
                    notes.push((*vendor, id.vendor_id, id.product_id));
                }
                chosen = s.subdriver;
            }
            Err(_) => chosen = None,
        }
        // The subdriver says which interface holds the HID device (NUT's
        // hid_rep_index: Arduino 2, Powervar 1).
        chosen.map(Subdriver::hid_interface)
    });
    let res = res.map(|mut d| {
        let id = d.identity().clone();
        let iface = chosen.map_or(0, Subdriver::hid_interface);
        let desc = read_report_descriptor(d.as_mut(), iface, &id);
        let dev_desc = read_device_descriptor(d.as_mut());
        (d, desc, dev_desc)
    });
    (finder, res.map(|r| (r, chosen)), notes)
}

impl Transport for HidLink {
    async fn open(&mut self) -> Result<(), DriverError> {
        self.close();
        let finder = self
            .finder
            .take()
            .ok_or_else(|| DriverError::Fatal("USB device finder lost".into()))?;
        let select = self.select.clone();
        // A real device is looked for on a blocking thread (enumeration and control transfers
        // can take seconds); a replay answers at once, so it is opened in place (no thread
        // started, and no malloc arena of its own left behind once it ends).
        let found = if self.replay {
            Ok(find_and_read(finder, &select))
        } else {
            tokio::task::spawn_blocking(move || find_and_read(finder, &select))
                .await
                .map_err(join_error)
        };
        let (finder, res) = found
        .map(|(f, r, notes)| {
            for (vendor, vid, pid) in notes {
                nut_driver::info!(
                    "This {vendor} device ({vid:04x}:{pid:04x}) is not (or perhaps not yet) supported\n\
                     by usbhid-ups. Please make sure you have an up-to-date version of NUT. If\n\
                     this does not fix the problem, try running the driver with the\n\
                     '-x productid={pid:04x}' option. Please report your results to the NUT user's\n\
                     mailing list <nut-upsuser@lists.alioth.debian.org>.\n"
                );
            }
            (f, r)
        })?;
        self.finder = Some(finder);
        let ((dev, desc, dev_desc), sub) = match res {
            Ok((found, Some(sub))) => (found, sub),
            Ok((_, None)) => {
                return Err(DriverError::Disconnected(
                    "No matching HID UPS found".into(),
                ));
            }
            Err(e) => {
                return Err(DriverError::Disconnected(format!(
                    "No matching HID UPS found: {e}"
                )));
            }
        };
        let desc = desc.map_err(DriverError::Disconnected)?;
        nut_driver::debug!(2, "Report Descriptor size = {}", desc.len());
        let identity = dev.identity().clone();
        nut_driver::debug!(
            1,
            "Detected a UPS: {}/{}",
            identity.vendor.as_deref().unwrap_or("unknown"),
            identity.product.as_deref().unwrap_or("unknown")
        );
        *lock(&self.dev) = Some(dev);
        lock(&self.pending).clear();
        self.interface = sub.hid_interface();
        self.interrupt_endpoint = sub
            .interrupt_endpoints()
            .map_or(INTERRUPT_ENDPOINT, |(ep_in, _)| 0x80 | ep_in);
        self.opened = Some(Opened {
            identity,
            subdriver: sub,
            report_descriptor: desc,
            device_descriptor: dev_desc,
        });
        self.generation += 1;
        Ok(())
    }

    fn close(&mut self) {
        self.pipe = None;
        *lock(&self.dev) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hid_length_found_in_the_interface_of_the_configuration() {
        // config, interface 0 alt 0, HID (report descriptor 0x0395 bytes), endpoint,
        // interface 1 alt 0, HID (0x0042).
        let config = [
            9, 2, 50, 0, 2, 1, 0, 0xa0, 50, //
            9, 4, 0, 0, 1, 3, 0, 0, 0, //
            9, 0x21, 0x10, 0x01, 0, 1, 0x22, 0x95, 0x03, //
            7, 5, 0x81, 3, 8, 0, 10, //
            9, 4, 1, 0, 1, 3, 0, 0, 0, //
            9, 0x21, 0x10, 0x01, 0, 1, 0x22, 0x42, 0x00,
        ];
        assert_eq!(hid_length_in_config(&config, 0), Some(0x0395));
        assert_eq!(hid_length_in_config(&config, 1), Some(0x0042));
        assert_eq!(hid_length_in_config(&config, 2), None);
        // Truncated or zero-length descriptors end the walk without a panic.
        assert_eq!(hid_length_in_config(&config[..20], 0), None);
        assert_eq!(hid_length_in_config(&[0, 0, 0], 0), None);
        assert_eq!(hid_length_in_config(&[], 0), None);
    }
}
