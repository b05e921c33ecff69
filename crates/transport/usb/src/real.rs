//! Real USB devices through nusb: Linux usbfs and sysfs from pure Rust (no libusb, no libudev).
//!
//! The walk is NUT's (drivers/libusb1.c): list the devices, open each, read its identity strings,
//! match, then detach the kernel driver and claim the interface. Interrupt endpoints are opened on
//! first use. nusb's IN transfers must ask for whole packets, so a request for fewer bytes than
//! the endpoint's packet size is rounded up and a longer answer is an overflow, as with libusb.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use nusb::transfer::{
    Buffer, ControlIn, ControlOut, ControlType, In, Interrupt, Out, Recipient, TransferError,
};
use nusb::{Endpoint, MaybeFuture};

use crate::finder::{OpenError, UsbOptions, accepted, read_identity_string};
use crate::matcher::{ExactMatcher, RegexMatcher};
use crate::{
    ControlSetup, DeviceIdentity, InterruptPipe, PipeFuture, USB_TIMEOUT, UsbError, UsbTransport,
    string_descriptor_to_ascii,
};

/// [`UsbTransport`] over a claimed interface of a real device.
pub struct NusbTransport {
    device: nusb::Device,
    interface: nusb::Interface,
    identity: DeviceIdentity,
    ep_in: HashMap<u8, Endpoint<Interrupt, In>>,
    ep_out: HashMap<u8, Endpoint<Interrupt, Out>>,
    /// The device's first LANGID, read once for [`UsbTransport::string_ascii`].
    langid: Option<u16>,
}

fn transfer_error(e: TransferError) -> UsbError {
    match e {
        TransferError::Cancelled => UsbError::Timeout,
        TransferError::Stall => UsbError::Stall,
        TransferError::Disconnected => UsbError::NoDevice,
        TransferError::Fault => UsbError::Io("transfer fault".into()),
        TransferError::InvalidArgument => UsbError::InvalidParam("rejected by the kernel".into()),
        TransferError::Unknown(code) => UsbError::Io(format!("OS error {code}")),
    }
}

fn nusb_error(e: nusb::Error) -> UsbError {
    match e.kind() {
        nusb::ErrorKind::Disconnected => UsbError::NoDevice,
        nusb::ErrorKind::Busy => UsbError::Busy,
        nusb::ErrorKind::PermissionDenied => UsbError::Access,
        nusb::ErrorKind::NotFound => UsbError::NotFound,
        _ => UsbError::Io(e.to_string()),
    }
}

fn split_request_type(rt: u8) -> Result<(ControlType, Recipient), UsbError> {
    let ty = match (rt >> 5) & 3 {
        0 => ControlType::Standard,
        1 => ControlType::Class,
        2 => ControlType::Vendor,
        _ => {
            return Err(UsbError::InvalidParam(format!(
                "reserved request type {rt:02x}"
            )));
        }
    };
    let recipient = match rt & 0x1f {
        0 => Recipient::Device,
        1 => Recipient::Interface,
        2 => Recipient::Endpoint,
        3 => Recipient::Other,
        _ => {
            return Err(UsbError::InvalidParam(format!(
                "reserved recipient {rt:02x}"
            )));
        }
    };
    Ok((ty, recipient))
}

/// Whole packets covering `len` bytes (at least one).
fn whole_packets(len: usize, packet: usize) -> usize {
    let packet = packet.max(1);
    len.max(1).div_ceil(packet) * packet
}

impl NusbTransport {
    fn endpoint_in(&mut self, address: u8) -> Result<&mut Endpoint<Interrupt, In>, UsbError> {
        Ok(match self.ep_in.entry(address) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(self.interface.endpoint(address).map_err(nusb_error)?),
        })
    }

    fn endpoint_out(&mut self, address: u8) -> Result<&mut Endpoint<Interrupt, Out>, UsbError> {
        Ok(match self.ep_out.entry(address) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(self.interface.endpoint(address).map_err(nusb_error)?),
        })
    }
}

/// The interrupt pipe of a real device: one transfer is always submitted, so the kernel
/// completes it when the device sends and nothing polls meanwhile.
struct NusbPipe {
    ep: Endpoint<Interrupt, In>,
    length: usize,
}

impl NusbPipe {
    fn keep_submitted(&mut self) {
        if self.ep.pending() == 0 {
            let len = whole_packets(self.length, self.ep.max_packet_size());
            self.ep.submit(Buffer::new(len));
        }
    }
}

impl InterruptPipe for NusbPipe {
    fn next(&mut self) -> PipeFuture<'_> {
        Box::pin(async move {
            self.keep_submitted();
            let done = self.ep.next_complete().await;
            let status = done.status;
            let data = done.buffer.into_vec();
            match status {
                Ok(()) => {
                    self.keep_submitted();
                    if data.len() > self.length {
                        return Err(UsbError::Overflow);
                    }
                    Ok(data)
                }
                Err(TransferError::Stall) => {
                    // NUT clears the halt and reads again at its next poll.
                    self.ep.clear_halt().await.map_err(nusb_error)?;
                    Err(UsbError::Stall)
                }
                Err(e) => Err(transfer_error(e)),
            }
        })
    }
}

impl UsbTransport for NusbTransport {
    fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    fn interrupt_pipe(
        &mut self,
        endpoint: u8,
        length: usize,
    ) -> Result<Box<dyn InterruptPipe>, UsbError> {
        let ep = match self.ep_in.remove(&endpoint) {
            Some(ep) => ep,
            None => self.interface.endpoint(endpoint).map_err(nusb_error)?,
        };
        Ok(Box::new(NusbPipe { ep, length }))
    }

    fn control_in(
        &mut self,
        setup: ControlSetup,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        setup.expect_direction(true)?;
        let (control_type, recipient) = split_request_type(setup.request_type)?;
        self.interface
            .control_in(
                ControlIn {
                    control_type,
                    recipient,
                    request: setup.request,
                    value: setup.value,
                    index: setup.index,
                    length,
                },
                timeout,
            )
            .wait()
            .map_err(transfer_error)
    }

    fn control_out(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        setup.expect_direction(false)?;
        let (control_type, recipient) = split_request_type(setup.request_type)?;
        self.interface
            .control_out(
                ControlOut {
                    control_type,
                    recipient,
                    request: setup.request,
                    value: setup.value,
                    index: setup.index,
                    data,
                },
                timeout,
            )
            .wait()
            .map_err(transfer_error)?;
        Ok(data.len())
    }

    fn interrupt_in(
        &mut self,
        endpoint: u8,
        length: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        let ep = self.endpoint_in(endpoint)?;
        let buf = Buffer::new(whole_packets(length, ep.max_packet_size()));
        let done = ep.transfer_blocking(buf, timeout);
        done.status.map_err(transfer_error)?;
        let data = done.buffer.into_vec();
        if data.len() > length {
            return Err(UsbError::Overflow);
        }
        Ok(data)
    }

    fn interrupt_out(
        &mut self,
        endpoint: u8,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        let ep = self.endpoint_out(endpoint)?;
        let done = ep.transfer_blocking(Buffer::from(data), timeout);
        done.status.map_err(transfer_error)?;
        Ok(done.actual_len)
    }

    fn string_ascii(
        &mut self,
        index: u8,
        buffer_len: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        read_string_ascii(&self.device, &mut self.langid, index, buffer_len, timeout)
    }

    fn clear_halt(&mut self, endpoint: u8) -> Result<(), UsbError> {
        if endpoint & 0x80 != 0 {
            self.endpoint_in(endpoint)?
                .clear_halt()
                .wait()
                .map_err(nusb_error)
        } else {
            self.endpoint_out(endpoint)?
                .clear_halt()
                .wait()
                .map_err(nusb_error)
        }
    }

    fn reset(&mut self) -> Result<(), UsbError> {
        self.ep_in.clear();
        self.ep_out.clear();
        self.device.reset().wait().map_err(nusb_error)
    }
}

/// String descriptor `index` in language `langid`, raw, asked for with libusb's 255 bytes.
fn string_raw(
    device: &nusb::Device,
    index: u8,
    langid: u16,
    timeout: Duration,
) -> Result<Vec<u8>, UsbError> {
    device
        .control_in(
            ControlIn {
                control_type: ControlType::Standard,
                recipient: Recipient::Device,
                request: crate::requests::GET_DESCRIPTOR,
                value: (u16::from(crate::requests::DT_STRING) << 8) | u16::from(index),
                index: langid,
                length: 255,
            },
            timeout,
        )
        .wait()
        .map_err(transfer_error)
}

/// libusb's `libusb_get_string_descriptor_ascii`: the device's first LANGID (read once into
/// `langid`), then the string in that language, as ASCII.
fn read_string_ascii(
    device: &nusb::Device,
    langid: &mut Option<u16>,
    index: u8,
    buffer_len: usize,
    timeout: Duration,
) -> Result<Vec<u8>, UsbError> {
    if index == 0 || buffer_len < 1 {
        return Err(UsbError::InvalidParam(
            "string index 0 or empty buffer".into(),
        ));
    }
    let l = match *langid {
        Some(l) => l,
        None => {
            let list = string_raw(device, 0, 0, timeout)?;
            if list.len() < 4 {
                return Err(UsbError::Io("no LANGID in string descriptor 0".into()));
            }
            let l = u16::from_le_bytes([list[2], list[3]]);
            *langid = Some(l);
            l
        }
    };
    string_descriptor_to_ascii(&string_raw(device, index, l, timeout)?, buffer_len)
}

/// Walk the bus as NUT does and open the first device that matches.
pub(crate) fn open_matching(
    options: &UsbOptions,
    regex: &RegexMatcher,
    exact: Option<&ExactMatcher>,
    accept: &mut dyn FnMut(&DeviceIdentity) -> Option<u8>,
) -> Result<Box<dyn UsbTransport>, OpenError> {
    let devices = nusb::list_devices()
        .wait()
        .map_err(|e| OpenError::Enumerate(e.to_string()))?;
    let (mut listed, mut open_errors, mut access_errors) = (0, 0, 0);
    let mut skipped = Vec::new();
    for info in devices {
        listed += 1;
        let device = match info.open().wait() {
            Ok(d) => d,
            Err(e) => {
                open_errors += 1;
                if e.kind() == nusb::ErrorKind::PermissionDenied {
                    access_errors += 1;
                }
                continue;
            }
        };
        let desc = device.device_descriptor();
        let mut langid = None;
        let mut read = |index: u8, buffer_len: usize| {
            read_string_ascii(&device, &mut langid, index, buffer_len, USB_TIMEOUT)
        };
        let identity = DeviceIdentity {
            vendor_id: desc.vendor_id(),
            product_id: desc.product_id(),
            bcd_device: desc.device_version(),
            vendor: read_identity_string(
                desc.manufacturer_string_index().map_or(0, |i| i.get()),
                &mut read,
            ),
            product: read_identity_string(
                desc.product_string_index().map_or(0, |i| i.get()),
                &mut read,
            ),
            serial: read_identity_string(
                desc.serial_number_string_index().map_or(0, |i| i.get()),
                &mut read,
            ),
            bus: info.busnum(),
            device: info.device_address(),
            port: info.port_chain().last().copied(),
        };
        let number = match accepted(&identity, regex, exact, accept) {
            Ok(number) => number,
            Err(why) => {
                skipped.push(why);
                continue;
            }
        };
        let claim_error = |error| OpenError::Claim {
            vendor_id: identity.vendor_id,
            product_id: identity.product_id,
            interface: number,
            error,
        };
        let interface = device
            .detach_and_claim_interface(number)
            .wait()
            .map_err(|e| claim_error(nusb_error(e)))?;
        if let Some(alt) = options.alt_setting {
            interface
                .set_alt_setting(alt)
                .wait()
                .map_err(|e| claim_error(nusb_error(e)))?;
        }
        return Ok(Box::new(NusbTransport {
            device,
            interface,
            identity,
            ep_in: HashMap::new(),
            ep_out: HashMap::new(),
            langid,
        }));
    }
    Err(OpenError::NotFound {
        listed,
        open_errors,
        access_errors,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_type_bits_map_to_nusb() {
        assert!(matches!(
            split_request_type(0xa1),
            Ok((ControlType::Class, Recipient::Interface))
        ));
        assert!(matches!(
            split_request_type(0x42),
            Ok((ControlType::Vendor, Recipient::Endpoint))
        ));
        assert!(matches!(
            split_request_type(0x80),
            Ok((ControlType::Standard, Recipient::Device))
        ));
        assert!(split_request_type(0x60).is_err());
        assert!(split_request_type(0x24).is_err());
    }

    #[test]
    fn in_transfers_ask_for_whole_packets() {
        assert_eq!(whole_packets(6, 8), 8);
        assert_eq!(whole_packets(8, 8), 8);
        assert_eq!(whole_packets(64, 8), 64);
        assert_eq!(whole_packets(102, 8), 104);
        assert_eq!(whole_packets(0, 8), 8);
        assert_eq!(whole_packets(5, 0), 5);
    }

    #[test]
    fn transfer_errors_keep_their_class() {
        assert_eq!(transfer_error(TransferError::Cancelled), UsbError::Timeout);
        assert_eq!(transfer_error(TransferError::Stall), UsbError::Stall);
        assert_eq!(
            transfer_error(TransferError::Disconnected),
            UsbError::NoDevice
        );
        assert!(transfer_error(TransferError::Fault).needs_reconnect());
    }

    #[test]
    fn no_usb_bus_is_an_error_not_a_panic() {
        // The CI container has no /sys/bus/usb: enumeration must fail cleanly (and where a bus
        // exists, an impossible criterion must find nothing).
        let mut c = crate::MatchCriteria::default();
        c.set("vendorid", "zzzz");
        let regex = RegexMatcher::new(&c).unwrap();
        let r = open_matching(&UsbOptions::default(), &regex, None, &mut |_| Some(0));
        assert!(matches!(
            r,
            Err(OpenError::Enumerate(_)) | Err(OpenError::NotFound { .. })
        ));
    }
}
