//! The built-in power-cut scenario and the config files the demo stack runs with.

/// A dummy-ups `.seq` file: on line → power cut → battery draining → low battery → power back.
/// `TIMER n` makes dummy-ups wait n seconds before applying the following lines; with
/// `mode = dummy-once` the script plays once and its final state stays.
pub const SEQUENCE: &str = "\
# nut-rs demo: a power cut, played once by dummy-ups
device.mfr: nut-rs
device.model: Simulated UPS 1500
device.type: ups
ups.mfr: nut-rs
ups.model: Simulated UPS 1500
ups.status: OL CHRG
battery.charge: 100
battery.charge.low: 20
battery.runtime: 1500
battery.runtime.low: 150
input.voltage: 230.0
output.voltage: 230.0
ups.load: 35
TIMER 6
# The mains power fails: the UPS switches to its battery.
input.voltage: 0.0
ups.status: OB DISCHRG
battery.charge: 90
battery.runtime: 1100
TIMER 4
battery.charge: 68
battery.runtime: 700
TIMER 4
battery.charge: 41
battery.runtime: 380
TIMER 4
# The battery reaches its low mark.
ups.status: OB DISCHRG LB
battery.charge: 17
battery.runtime: 120
TIMER 10
# Power comes back.
input.voltage: 229.0
ups.status: OL CHRG
battery.charge: 22
battery.runtime: 260
TIMER 3600
";

/// The UPS name in ups.conf.
pub const UPS: &str = "demo";
/// The upsmon user's credentials in upsd.users.
pub const USER: &str = "monuser";
/// Its password (a demo, on loopback only).
pub const PASSWORD: &str = "demo-secret";

/// Every config file the stack needs, for a given port and work directory.
pub struct Configs {
    pub ups_conf: String,
    pub upsd_conf: String,
    pub upsd_users: String,
    pub upsmon_conf: String,
    pub notify_script: String,
    pub shutdown_script: String,
}

impl Configs {
    pub fn new(port: u16, dir: &str) -> Self {
        let events = format!("{dir}/events.log");
        let mut upsmon_conf = format!(
            "MONITOR {UPS}@127.0.0.1:{port} 1 {USER} {PASSWORD} primary\n\
             MINSUPPLIES 1\n\
             SHUTDOWNCMD \"/bin/sh {dir}/shutdown.sh\"\n\
             NOTIFYCMD \"/bin/sh {dir}/notify.sh\"\n\
             POWERDOWNFLAG {dir}/killpower\n\
             POLLFREQ 1\nPOLLFREQALERT 1\nHOSTSYNC 2\nDEADTIME 6\nFINALDELAY 1\n"
        );
        for kind in [
            "ONLINE", "ONBATT", "LOWBATT", "FSD", "COMMOK", "COMMBAD", "SHUTDOWN", "REPLBATT",
            "NOCOMM", "NOPARENT",
        ] {
            upsmon_conf.push_str(&format!("NOTIFYFLAG {kind} SYSLOG+EXEC\n"));
        }
        Self {
            ups_conf: format!(
                "[{UPS}]\n  driver = dummy-ups\n  port = {dir}/demo.seq\n  mode = dummy-once\n  \
                 desc = \"Simulated UPS (nut-rs demo)\"\n"
            ),
            upsd_conf: format!("LISTEN 127.0.0.1 {port}\n"),
            upsd_users: format!("[{USER}]\n  password = {PASSWORD}\n  upsmon primary\n"),
            upsmon_conf,
            notify_script: format!(
                "#!/bin/sh\nprintf 'NOTIFY\\t%s\\t%s\\n' \"$NOTIFYTYPE\" \"$1\" >> {events}\n"
            ),
            shutdown_script: format!(
                "#!/bin/sh\n# The demo's SHUTDOWNCMD: harmless, it only records what would happen.\n\
                 printf 'SHUTDOWNCMD\\t/sbin/shutdown -h +0\\n' >> {events}\n"
            ),
        }
    }
}
