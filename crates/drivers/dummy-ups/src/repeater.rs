//! Repeater mode: mirror a UPS served by a remote upsd (to be written).

use std::time::Instant;

use nut_driver::{CmdStatus, DriverConfig, DriverError, State};

/// The repeater.
pub struct Repeater {}

impl Repeater {
    pub fn new(_cfg: &DriverConfig) -> Result<Self, DriverError> {
        Err(DriverError::new("repeater mode is not implemented yet"))
    }

    pub async fn start(&mut self, _state: &mut State) -> Result<(), DriverError> {
        Ok(())
    }

    pub async fn update(&mut self, _now: Instant, _state: &mut State) {}

    pub async fn instcmd(&mut self, _cmd: &str, _param: Option<&str>) -> CmdStatus {
        CmdStatus::Unknown
    }

    pub async fn set_var(&mut self, _var: &str, _value: &str) -> CmdStatus {
        CmdStatus::Unknown
    }
}
