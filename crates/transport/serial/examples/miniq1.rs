//! A minimal driver on the framework and the serial transport, as an example for driver
//! authors and for the end-to-end tests of `tests/upsd.rs`: it polls a Megatec/Q1 device
//! with `Q1\r` and publishes `ups.status` and two voltages. Not a real driver (that is
//! nutdrv_qx): no detection, no commands, no options.

use std::marker::PhantomData;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nut_driver::link::{Exchange, Reply, Timeouts};
use nut_driver::{Driver, DriverError, DriverInfo, State};
use nut_serial::{SerialConfig, SerialPort};

static INFO: DriverInfo = DriverInfo {
    name: "miniq1",
    description: "Example Q1 driver",
    version: "0.1",
    vars: &[],
};

/// `(230.0 230.0 230.0 012 50.0 13.6 25.0 00001001` → the fields.
struct Q1<'a> {
    input_voltage: &'a str,
    battery_voltage: &'a str,
    bits: &'a [u8],
}

/// The protocol core: bytes in, readings out.
fn parse_q1(reply: &[u8]) -> Result<Q1<'_>, DriverError> {
    let bad = || {
        DriverError::Protocol(format!(
            "bad Q1 reply: {:?}",
            String::from_utf8_lossy(reply)
        ))
    };
    let text = std::str::from_utf8(reply).map_err(|_| bad())?;
    let fields: Vec<&str> = text.strip_prefix('(').ok_or_else(bad)?.split(' ').collect();
    match fields[..] {
        [input, _, _, _, _, battery, _, bits] if bits.len() == 8 => Ok(Q1 {
            input_voltage: input,
            battery_voltage: battery,
            bits: bits.as_bytes(),
        }),
        _ => Err(bad()),
    }
}

/// The driver, generic over its request/reply link (a serial port here; a
/// `nut_driver::link::Script` in unit tests).
struct MiniQ1<L>(PhantomData<L>);

impl<L: Exchange> Driver for MiniQ1<L> {
    type Transport = L;

    async fn init_info(&mut self, _: &mut L, state: &mut State) -> Result<(), DriverError> {
        state.set_info("ups.mfr", "Example");
        Ok(())
    }

    async fn update_info(
        &mut self,
        io: &mut L,
        _: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        let mut reply = Vec::new();
        io.exchange(
            b"Q1\r",
            Reply::line(b'\r', 128),
            Timeouts::within(Duration::from_secs(1)),
            &mut reply,
        )
        .await?;
        let q1 = parse_q1(&reply)?;
        state.set_info("input.voltage", q1.input_voltage);
        state.set_info("battery.voltage", q1.battery_voltage);
        state.status_init();
        state.status_set(if q1.bits[0] == b'1' { "OB" } else { "OL" });
        if q1.bits[1] == b'1' {
            state.status_set("LB");
        }
        state.status_commit();
        Ok(())
    }
}

fn main() -> ExitCode {
    nut_driver::main(&INFO, |cfg| {
        Ok((
            MiniQ1(PhantomData),
            SerialPort::new(SerialConfig::from_driver(cfg, 2400)),
        ))
    })
}
