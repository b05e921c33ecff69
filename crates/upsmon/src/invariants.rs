//! The shutdown rule's oracle, shared by the property tests (`monitor/tests/invariants.rs`)
//! and the `upsmon_monitor` fuzz target: what the poll history alone says about a UPS,
//! independently of the [`Monitor`](crate::Monitor)'s own bookkeeping. Not part of the API.

use nut_core::names::StatusToken;

use crate::config::MonitorConfig;
use crate::monitor::PollResult;

/// Could this UPS be critical now, given every status poll answered for it (oldest first)?
/// An over-approximation: a UPS for which this is false must count as healthy power.
pub fn could_be_critical(polls: &[&PollResult], config: &MonitorConfig) -> bool {
    let mut last_words: Option<Vec<StatusToken>> = None;
    let mut on_battery = false;
    let mut lost = false;
    for result in polls {
        match result {
            PollResult::Status { status, .. } if !status.tokens().is_empty() => {
                let words = status.tokens().to_vec();
                for w in &words {
                    match w {
                        StatusToken::Online => on_battery = false,
                        StatusToken::OnBattery => on_battery = true,
                        _ => {}
                    }
                }
                last_words = Some(words);
                lost = false;
            }
            PollResult::Status { .. } | PollResult::CommFailure => lost = true,
            _ => {}
        }
    }
    let Some(words) = last_words else {
        return false; // never heard from: counts as healthy
    };
    let has = |t: StatusToken| words.contains(&t);
    has(StatusToken::ForcedShutdown)
        || (on_battery && (has(StatusToken::LowBattery) || lost))
        || (has(StatusToken::Off) && config.off_duration.is_some())
        || (lost
            && (has(StatusToken::Calibrating)
                || has(StatusToken::Bypass)
                || has(StatusToken::Alarm)
                || has(StatusToken::Overloaded)))
}
