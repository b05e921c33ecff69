//! The Q1-over-USB link: the core's USB subdriver framing (`nutdrv_qx::usb::UsbExchange`)
//! run over a `nut-usb` device (real through nusb, or `port = "replay:<spec>"`). nut-usb
//! blocks (each call for at most its timeout), so every exchange runs on a blocking thread
//! and the driver's loop keeps serving its socket meanwhile.

use std::time::Duration;

use nut_driver::{DriverConfig, DriverError, Transport};
use nut_usb::{ControlSetup, DeviceFinder, UsbOptions, UsbTransport};
use nutdrv_qx::Variant;
use nutdrv_qx::usb::{
    Recovery, Subdriver, Support, UsbConfig, UsbError, UsbExchange, UsbOp, UsbResult, UsbState,
    UsbStep, select,
};

use crate::{Answer, QxLink};

/// A Q1 UPS behind a USB bridge.
pub struct UsbLink {
    variant: Variant,
    finder: Option<DeviceFinder>,
    dev: Option<Box<dyn UsbTransport>>,
    forced: Option<Subdriver>,
    sub: Option<Subdriver>,
    cfg: UsbConfig,
    state: UsbState,
}

impl std::fmt::Debug for UsbLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbLink")
            .field("sub", &self.sub)
            .field("open", &self.dev.is_some())
            .finish()
    }
}

impl UsbLink {
    /// The link of a configuration (nothing is opened yet).
    pub fn new(variant: Variant, cfg: &DriverConfig) -> Result<Self, DriverError> {
        let opts = crate::options(variant, cfg)?;
        let mut uo = UsbOptions::for_port(&cfg.port);
        for name in nut_usb::MatchCriteria::NAMES {
            if let Some(v) = cfg.value(name) {
                uo.criteria.set(name, v);
            }
        }
        let forced =
            match opts.getval("subdriver") {
                Some(name) => Some(Subdriver::from_name(name, variant).ok_or_else(|| {
                    DriverError::Config(format!("Subdriver \"{name}\" not found!"))
                })?),
                None => None,
            };
        if forced.is_some() && (cfg.value("vendorid").is_none() || cfg.value("productid").is_none())
        {
            return Err(DriverError::Config(
                "When specifying a subdriver, 'vendorid' and 'productid' are mandatory.".into(),
            ));
        }
        let finder = DeviceFinder::new(uo).map_err(|e| DriverError::Config(e.to_string()))?;
        Ok(Self {
            variant,
            finder: Some(finder),
            dev: None,
            forced,
            sub: None,
            cfg: UsbConfig {
                langid_fix: opts.langid_fix,
                blazer: variant != Variant::NutdrvQx,
            },
            state: UsbState::default(),
        })
    }

    /// `ups.vendorid` / `ups.productid` of the open device (NUT's USB drivers publish them).
    pub fn ids(&self) -> Vec<(&'static str, String)> {
        self.dev.as_ref().map_or_else(Vec::new, |d| {
            let id = d.identity();
            vec![
                ("ups.vendorid", format!("{:04x}", id.vendor_id)),
                ("ups.productid", format!("{:04x}", id.product_id)),
            ]
        })
    }

    /// The subdriver in use, once open.
    pub fn subdriver(&self) -> Option<Subdriver> {
        self.sub
    }
}

fn usb_error(e: &nut_usb::UsbError) -> UsbError {
    match e {
        nut_usb::UsbError::Timeout => UsbError::Timeout,
        nut_usb::UsbError::Stall => UsbError::Pipe,
        nut_usb::UsbError::NoDevice => UsbError::NoDevice,
        nut_usb::UsbError::Access => UsbError::Access,
        nut_usb::UsbError::Busy => UsbError::Busy,
        nut_usb::UsbError::NotFound => UsbError::NotFound,
        nut_usb::UsbError::Overflow => UsbError::Overflow,
        nut_usb::UsbError::InvalidParam(_) => UsbError::InvalidParam,
        nut_usb::UsbError::Io(_) => UsbError::Io,
        _ => UsbError::Other,
    }
}

/// One transfer of the core on the device.
fn execute(dev: &mut dyn UsbTransport, op: &UsbOp) -> UsbResult {
    let ms = |t: u32| Duration::from_millis(u64::from(t));
    let r = match op {
        UsbOp::ControlOut {
            request_type,
            request,
            value,
            index,
            data,
            timeout_ms,
        } => dev
            .control_out(
                ControlSetup {
                    request_type: *request_type,
                    request: *request,
                    value: *value,
                    index: *index,
                },
                data,
                ms(*timeout_ms),
            )
            .map(UsbResult::Written),
        UsbOp::ControlIn {
            request_type,
            request,
            value,
            index,
            length,
            timeout_ms,
        } => dev
            .control_in(
                ControlSetup {
                    request_type: *request_type,
                    request: *request,
                    value: *value,
                    index: *index,
                },
                *length,
                ms(*timeout_ms),
            )
            .map(UsbResult::Data),
        UsbOp::InterruptIn {
            endpoint,
            length,
            timeout_ms,
        } => dev
            .interrupt_in(*endpoint, *length, ms(*timeout_ms))
            .map(UsbResult::Data),
        UsbOp::InterruptOut {
            endpoint,
            data,
            timeout_ms,
        } => dev
            .interrupt_out(*endpoint, data, ms(*timeout_ms))
            .map(UsbResult::Written),
        UsbOp::ClearHalt { endpoint } => dev.clear_halt(*endpoint).map(|()| UsbResult::Written(0)),
        UsbOp::Wait { ms: t } => {
            std::thread::sleep(ms(*t));
            Ok(UsbResult::Written(0))
        }
    };
    r.unwrap_or_else(|e| UsbResult::Err(usb_error(&e)))
}

fn join_error(e: impl std::fmt::Display) -> DriverError {
    DriverError::Fatal(format!("USB worker thread: {e}"))
}

impl Transport for UsbLink {
    async fn open(&mut self) -> Result<(), DriverError> {
        self.dev = None;
        let mut finder = self
            .finder
            .take()
            .ok_or_else(|| DriverError::Fatal("USB device finder lost".into()))?;
        let (variant, forced) = (self.variant, self.forced);
        let (finder, res) = tokio::task::spawn_blocking(move || {
            let mut chosen = None;
            let res = finder.open(&mut |id| {
                let sub = match forced {
                    Some(s) => Some(s),
                    None => match select(
                        variant,
                        id.vendor_id,
                        id.product_id,
                        id.vendor.as_deref(),
                        id.product.as_deref(),
                    ) {
                        Support::Supported(s) => Some(s),
                        Support::PossiblySupported | Support::NotSupported => None,
                    },
                };
                chosen = sub;
                sub.is_some()
            });
            (finder, res.map(|d| (d, chosen)))
        })
        .await
        .map_err(join_error)?;
        self.finder = Some(finder);
        match res {
            Ok((dev, Some(sub))) => {
                nut_driver::debug!(1, "Using subdriver: {}", sub.name());
                self.dev = Some(dev);
                self.sub = Some(sub);
                self.state = UsbState::default();
                Ok(())
            }
            Ok((_, None)) => Err(DriverError::Disconnected(
                "No matching USB/HID UPS found".into(),
            )),
            Err(e) => Err(DriverError::Disconnected(format!(
                "No matching USB/HID UPS found: {e}"
            ))),
        }
    }

    fn close(&mut self) {
        self.dev = None;
    }
}

impl QxLink for UsbLink {
    fn device_vars(&self) -> Vec<(&'static str, String)> {
        self.ids()
    }

    async fn command(
        &mut self,
        request: &[u8],
        answer: &mut Vec<u8>,
    ) -> Result<Answer, DriverError> {
        let (Some(mut dev), Some(sub)) = (self.dev.take(), self.sub) else {
            return Err(DriverError::Disconnected("USB device not open".into()));
        };
        let mut x = UsbExchange::new(sub, request, &self.cfg, &self.state);
        let (dev, x, outcome) = tokio::task::spawn_blocking(move || {
            let mut last = None;
            loop {
                match x.step(last.take()) {
                    UsbStep::Op(op) => last = Some(execute(dev.as_mut(), &op)),
                    UsbStep::Done(outcome) => return (dev, x, outcome),
                }
            }
        })
        .await
        .map_err(join_error)?;
        self.state = x.state();
        self.dev = Some(dev);
        match outcome.recovery() {
            Recovery::Reopen => {
                self.dev = None;
                Err(DriverError::Disconnected(format!(
                    "USB transfer failed: {:?}",
                    outcome.ret
                )))
            }
            Recovery::Fatal => Err(DriverError::Fatal(format!(
                "USB device busy: {:?}",
                outcome.ret
            ))),
            Recovery::ClearHaltOrReset | Recovery::None => match outcome.ret {
                Ok(len) => {
                    *answer = outcome.buf;
                    Ok(Answer::Raw { len })
                }
                Err(_) => {
                    answer.clear();
                    Ok(Answer::Data)
                }
            },
        }
    }
}
