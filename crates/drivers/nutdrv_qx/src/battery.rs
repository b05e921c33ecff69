//! battery.charge / battery.runtime estimation (nutdrv_qx's "guesstimation"): from the
//! battery voltage between battery.voltage.low and .high, and, with `runtimecal`, a runtime
//! model integrated over the time between full polls (`now` comes from the caller).

use crate::cnum;
use crate::engine::{Level, Qx, sb};
use crate::item::Refused;
use crate::options::QxOptions;

/// Estimation state.
#[derive(Clone, Debug)]
pub struct Battery {
    /// Battery voltage multiplier (number of packs).
    pub packs: f64,
    /// Actual runtime reported by the device (-1 = none this poll).
    pub runt_act: f64,
    /// Nominal runtime at full load.
    pub runt_nom: f64,
    /// Estimated remaining runtime at full load.
    pub runt_est: f64,
    /// Load exponent.
    pub runt_exp: f64,
    /// Actual battery voltage (times packs).
    pub volt_act: f64,
    /// Float voltage.
    pub volt_high: f64,
    /// Nominal voltage.
    pub volt_nom: f64,
    /// Low voltage.
    pub volt_low: f64,
    /// Actual charge reported by the device (-1 = none this poll).
    pub chrg_act: f64,
    /// Recharge time from empty to full, seconds.
    pub chrg_time: i64,
    /// Idle load fraction.
    pub load_low: f64,
    /// Effective load.
    pub load_eff: f64,
    /// Time of the last estimation step.
    pub lastpoll: f64,
}

impl Battery {
    pub(crate) fn new(opts: &QxOptions) -> Self {
        Battery {
            packs: 1.0,
            runt_act: -1.0,
            runt_nom: -1.0,
            runt_est: 0.0,
            runt_exp: 0.0,
            volt_act: -1.0,
            volt_high: -1.0,
            volt_nom: -1.0,
            volt_low: -1.0,
            chrg_act: -1.0,
            chrg_time: opts.chargetime,
            load_low: opts.idleload,
            load_eff: 1.0,
            lastpoll: 0.0,
        }
    }
}

/// `qx_battery`: actual voltage, and charge from voltage if the device gave none.
fn battery(qx: &mut Qx) -> Result<(), Refused> {
    let Some(val) = qx.ds.get("battery.voltage") else {
        qx.logm(Level::Debug(2), "qx_battery: unable to get battery.voltage");
        return Err(Refused);
    };
    let b = &mut qx.batt;
    b.volt_act = b.packs * cnum::strtod(val);
    if b.chrg_act == -1.0 && b.volt_low > 0.0 && b.volt_high > b.volt_low {
        b.chrg_act =
            (100.0 * (b.volt_act - b.volt_low) / (b.volt_high - b.volt_low)).clamp(0.0, 100.0);
        let s = format!("{:.0}", b.chrg_act);
        qx.ds.set("battery.charge", &s);
    }
    Ok(())
}

/// `qx_load`: effective load for the runtime model.
fn load(qx: &mut Qx) -> Result<(), Refused> {
    let Some(val) = qx.ds.get("ups.load") else {
        qx.logm(Level::Debug(2), "qx_load: unable to get ups.load");
        return Err(Refused);
    };
    let act = cnum::strtod(val);
    let b = &mut qx.batt;
    b.load_eff = (act / 100.0).powf(b.runt_exp);
    if b.load_eff < b.load_low {
        b.load_eff = b.load_low;
    }
    Ok(())
}

/// `qx_initbattery`, after the initial walk. `Err` = NUT's fatal message.
pub(crate) fn init(qx: &mut Qx, now: f64) -> Result<(), String> {
    if qx.ds.get("battery.charge").is_some() && qx.ds.get("battery.runtime").is_some() {
        return Ok(());
    }
    for (var, slot) in [
        ("battery.voltage.high", 0),
        ("battery.voltage.low", 1),
        ("battery.voltage.nominal", 2),
    ] {
        if let Some(v) = qx.ds.get(var) {
            let x = cnum::strtod(v);
            match slot {
                0 => qx.batt.volt_high = x,
                1 => qx.batt.volt_low = x,
                _ => qx.batt.volt_nom = x,
            }
        }
    }
    if qx.batt.volt_nom != -1.0 && (qx.batt.volt_low == -1.0 || qx.batt.volt_high == -1.0) {
        qx.logm(Level::Info, "No values for battery high/low voltages");
        qx.batt.volt_low = 104.0 * qx.batt.volt_nom / 120.0;
        qx.batt.volt_high = 130.0 * qx.batt.volt_nom / 120.0;
        let (lo, hi) = (qx.batt.volt_low, qx.batt.volt_high);
        qx.ds.set("battery.voltage.low", &format!("{lo:.2}"));
        qx.ds.set("battery.voltage.high", &format!("{hi:.2}"));
        qx.logm(
            Level::Info,
            format!("Using 'guesstimation' (low: {lo:.6}, high: {hi:.6})!"),
        );
    }
    let packs = qx.ds.get("battery.packs").map(str::to_string);
    match packs {
        Some(p) if cnum::only_chars(&p, "0123456789 .") => qx.batt.packs = cnum::strtod(&p),
        _ => {
            if battery(qx).is_ok() && qx.batt.volt_nom != -1.0 {
                const PACKS: [f64; 17] = [
                    120.0, 100.0, 80.0, 60.0, 48.0, 36.0, 30.0, 24.0, 18.0, 12.0, 8.0, 6.0, 4.0,
                    3.0, 2.0, 1.0, 0.5,
                ];
                let (act, nom) = (qx.batt.volt_act, qx.batt.volt_nom);
                for p in PACKS {
                    if p * act > 1.2 * nom {
                        continue;
                    }
                    if p * act < 0.8 * nom {
                        qx.logm(
                            Level::Info,
                            format!("Can't autodetect number of battery packs [{nom:.0}/{act:.2}]"),
                        );
                        break;
                    }
                    qx.batt.packs = p;
                    break;
                }
            } else {
                let (act, nom) = (qx.batt.volt_act, qx.batt.volt_nom);
                qx.logm(
                    Level::Info,
                    format!("Can't autodetect number of battery packs [{nom:.0}/{act:.2}]"),
                );
            }
        }
    }
    let _ = battery(qx);
    let Some(cal) = qx.opts.runtimecal else {
        qx.logm(
            Level::Info,
            "Battery runtime will not be calculated (runtimecal not set)",
        );
        return Ok(());
    };
    qx.batt.lastpoll = now;
    qx.batt.runt_exp = (cal.rl / cal.rh).ln() / (cal.lh / cal.ll).ln();
    qx.batt.runt_nom = cal.rh * (cal.lh / 100.0).powf(qx.batt.runt_exp);
    let mut charge = qx.ds.get("battery.charge").map(str::to_string);
    if charge.is_none() && qx.batt.volt_nom != -1.0 {
        qx.batt.volt_low = qx.batt.volt_nom;
        qx.batt.volt_high = 1.15 * qx.batt.volt_nom;
        if battery(qx).is_err() {
            return Err("Initial battery charge undetermined".into());
        }
        charge = qx.ds.get("battery.charge").map(str::to_string);
    }
    match charge {
        Some(c) => qx.batt.runt_est = qx.batt.runt_nom * cnum::strtod(&c) / 100.0,
        None => return Err("Initial battery charge undetermined".into()),
    }
    if qx.opts.getval("chargetime").is_none() {
        let t = qx.batt.chrg_time;
        qx.logm(
            Level::Info,
            format!("No charge time specified, using built in default [{t} seconds]"),
        );
    }
    if qx.opts.getval("idleload").is_none() {
        let l = 100.0 * qx.batt.load_low;
        qx.logm(
            Level::Info,
            format!("No idle load specified, using built in default [{l:.1} %]"),
        );
    }
    Ok(())
}

/// Estimation step at the end of a full walk.
pub(crate) fn update(qx: &mut Qx, now: f64) {
    if qx.opts.runtimecal.is_none() {
        let _ = battery(qx);
        return;
    }
    let dt = now - qx.batt.lastpoll;
    {
        let b = &mut qx.batt;
        if qx.status & sb::OL != 0 {
            b.runt_est += b.runt_nom * dt / b.chrg_time as f64;
            if b.runt_est > b.runt_nom {
                b.runt_est = b.runt_nom;
            }
        } else {
            b.runt_est -= b.load_eff * dt;
            if b.runt_est < 0.0 {
                b.runt_est = 0.0;
            }
        }
    }
    if let Some(val) = qx.ds.get("battery.voltage") {
        let b = &mut qx.batt;
        b.volt_act = b.packs * cnum::strtod(val);
        if b.volt_act > 0.0 && b.volt_low > 0.0 && b.volt_high > b.volt_low {
            let vcharge = ((b.volt_act - b.volt_low) / (b.volt_high - b.volt_low)).clamp(0.0, 1.0);
            if vcharge < b.runt_est / b.runt_nom {
                b.runt_est = vcharge * b.runt_nom;
            }
        }
    } else {
        qx.logm(Level::Debug(2), "unable to get battery.voltage");
    }
    if qx.batt.chrg_act == -1.0 {
        let c = 100.0 * qx.batt.runt_est / qx.batt.runt_nom;
        qx.ds.set("battery.charge", &format!("{c:.0}"));
    }
    if qx.batt.runt_act == -1.0 && load(qx).is_ok() {
        let r = qx.batt.runt_est / qx.batt.load_eff;
        qx.ds.set("battery.runtime", &format!("{r:.0}"));
    }
    qx.batt.lastpoll = now;
}
