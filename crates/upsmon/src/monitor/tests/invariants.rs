//! Property test: random configurations and random histories of statuses, outages, logins
//! and `-c fsd` requests, checked against the rule that protects data and uptime alike:
//!
//! * SHUTDOWNCMD is requested at most once;
//! * the shutdown starts only on `-c fsd`, or when the UPSes that *could* be critical given
//!   what upsd reported leave less than MINSUPPLIES of healthy power — an over-approximation
//!   computed from the poll history alone, independent of the monitor's own bookkeeping;
//! * once started it completes within HOSTSYNC + FINALDELAY (+ slack) and no status poll
//!   follows;
//! * a history of nothing but on-line statuses never shuts down.

use nut_core::names::{Status, StatusToken};
use proptest::prelude::*;

use super::sim::{World, entry};
use crate::clock::Time;
use crate::config::{MonitorConfig, Role};
use crate::invariants::could_be_critical;
use crate::monitor::{Action, MonitorId, PollResult, ShutdownReason};

const WORDS: &[&str] = &[
    "OL", "OB", "LB", "RB", "CAL", "OFF", "BYPASS", "ALARM", "OVER", "TRIM", "BOOST", "FSD",
    "CHRG", "WAIT", "ECO",
];

#[derive(Clone, Debug)]
enum Change {
    Status(Vec<&'static str>),
    KillDriver,
    UpsdDown,
    UpsdUp,
    PhantomLogins(u32),
    UserFsd,
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        6 => prop::collection::vec(prop::sample::select(WORDS), 0..4).prop_map(Change::Status),
        1 => Just(Change::KillDriver),
        1 => Just(Change::UpsdDown),
        1 => Just(Change::UpsdUp),
        1 => (0u32..3).prop_map(Change::PhantomLogins),
        1 => Just(Change::UserFsd),
    ]
}

fn monitor_config() -> impl Strategy<Value = MonitorConfig> {
    (
        (0u32..4, 1u64..8, 1u64..8, 0u64..20, 0u64..25),
        (
            0u64..6,
            prop::option::of(0u64..40),
            0u64..12,
            prop::option::of(0u64..30),
        ),
        any::<bool>(),
    )
        .prop_map(
            |(
                (min_supplies, poll_freq, poll_freq_alert, host_sync, dead_time),
                (final_delay, off_duration, oblb_duration, over_duration),
                alarm_critical,
            )| {
                MonitorConfig {
                    min_supplies,
                    poll_freq,
                    poll_freq_alert,
                    host_sync,
                    dead_time,
                    final_delay,
                    off_duration,
                    oblb_duration,
                    over_duration,
                    alarm_critical,
                    nocomm_warn_time: 20,
                    rb_warn_time: 30,
                    ..MonitorConfig::default()
                }
            },
        )
}

fn run(
    config: MonitorConfig,
    upses: Vec<(u32, bool)>,
    steps: Vec<(u64, usize, Change)>,
) -> Result<bool, TestCaseError> {
    let names: Vec<String> = (0..upses.len()).map(|i| format!("ups{i}@h")).collect();
    let mut world = World::new();
    for name in &names {
        world = world.ups(name, "OL");
    }
    let entries = upses
        .iter()
        .zip(&names)
        .map(|((pv, primary), name)| {
            let role = if *primary {
                Role::Primary
            } else {
                Role::Secondary
            };
            entry(name, *pv, role)
        })
        .collect();
    world.add_host("host", config.clone(), entries);

    let mut user_fsd = false;
    for (advance, which, change) in steps {
        let name = &names[which % names.len()];
        match change {
            Change::Status(words) => world.set_status(name, &words.join(" ")),
            Change::KillDriver => world.kill_driver(name),
            Change::UpsdDown => world.fake(name).upsd_up = false,
            Change::UpsdUp => world.fake(name).upsd_up = true,
            Change::PhantomLogins(n) => world.fake(name).phantom_logins = n,
            Change::UserFsd => {
                let now = world.now;
                user_fsd = true;
                world.hosts[0].monitor.request_fsd(now);
            }
        }
        world.run_until(world.now.plus_secs(advance));
    }
    // Let any shutdown in progress finish.
    let settle = config.host_sync + config.final_delay + 3;
    world.run_until(world.now.plus_secs(settle));

    let host = &world.hosts[0];
    prop_assert!(
        host.shutdowns() <= 1,
        "SHUTDOWNCMD twice: {:?}",
        host.events()
    );

    let started = host
        .log
        .iter()
        .position(|(_, a)| matches!(a, Action::SetFsd(_) | Action::AnnounceShutdown));
    let Some(start_index) = started else {
        prop_assert!(!host.monitor.is_shutting_down());
        prop_assert_eq!(host.shutdowns(), 0);
        return Ok(false);
    };
    let start_time = host.log[start_index].0;
    // A decision can fall inside the settling time itself (an OFF timer running out, say):
    // give that shutdown its own full allowance before judging it.
    let allowance_end = start_time.plus_secs(settle);
    if world.now < allowance_end {
        world.run_until(allowance_end);
    }
    let host = &world.hosts[0];
    prop_assert_eq!(host.shutdowns(), 1, "shutdown started but never completed");
    prop_assert!(
        !host.log[start_index..]
            .iter()
            .any(|(_, a)| matches!(a, Action::Poll(_))),
        "status polled after the shutdown started"
    );
    let shutdown_time = host
        .log
        .iter()
        .find(|(_, a)| *a == Action::Shutdown)
        .map(|(t, _)| *t)
        .unwrap_or(Time::ZERO);
    prop_assert!(
        shutdown_time.whole_secs_since(start_time) <= config.host_sync + config.final_delay + 1,
        "shutdown took too long"
    );

    match host.monitor.shutdown_reason() {
        Some(ShutdownReason::UserRequested) => prop_assert!(user_fsd),
        Some(ShutdownReason::TooFewSupplies { healthy, required }) => {
            prop_assert_eq!(required, config.min_supplies);
            prop_assert!(healthy < u64::from(required));
            // Power that cannot be critical, judged from the polls up to the decision.
            let ids: Vec<MonitorId> = host.monitor.monitor_ids().collect();
            let mut surely_healthy = 0u64;
            for (i, id) in ids.iter().enumerate() {
                let polls: Vec<&PollResult> = host
                    .polls
                    .iter()
                    .filter(|(t, pid, _)| pid == id && *t <= start_time)
                    .map(|(_, _, r)| r)
                    .collect();
                if !could_be_critical(&polls, &config) {
                    surely_healthy += u64::from(upses[i].0);
                }
            }
            prop_assert!(
                healthy >= surely_healthy,
                "monitor counted {healthy} healthy, but {surely_healthy} cannot be critical: {:?}",
                host.events()
            );
        }
        None => prop_assert!(false, "shutting down without a reason"),
    }
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn shutdown_only_when_too_little_healthy_power(
        config in monitor_config(),
        upses in prop::collection::vec((0u32..4, any::<bool>()), 1..4),
        steps in prop::collection::vec((0u64..40, 0usize..4, change()), 0..25),
    ) {
        let total: u32 = upses.iter().map(|(pv, _)| pv).sum();
        prop_assume!(total >= config.min_supplies);
        run(config, upses, steps)?;
    }

    #[test]
    fn on_line_power_never_shuts_down(
        config in monitor_config(),
        upses in prop::collection::vec((0u32..4, any::<bool>()), 1..4),
        steps in prop::collection::vec(
            (0u64..60, 0usize..4, prop::sample::select(&["OL", "OL CHRG", "OL RB", "OL TRIM", "OL BOOST", "OL HB"][..])),
            0..20,
        ),
    ) {
        let total: u32 = upses.iter().map(|(pv, _)| pv).sum();
        prop_assume!(total >= config.min_supplies);
        let steps = steps
            .into_iter()
            .map(|(t, i, s)| (t, i, Change::Status(s.split(' ').collect())))
            .collect();
        prop_assert!(!run(config, upses, steps)?, "shut down on line power");
    }
}

#[test]
fn status_words_used_here_parse_as_expected() {
    // The oracle relies on the tokenizer's names for these words.
    let s = Status::parse("OB LB FSD OFF");
    assert!(s.has(&StatusToken::OnBattery) && s.has(&StatusToken::ForcedShutdown));
}
