//! `nutdrv_qx`, `blazer_ser` and `blazer_usb`: the pure Megatec/Q1 core of `nutdrv-qx` wired to
//! the `nut-driver` framework and a device link.
//!
//! The core is a sans-IO state machine (`Step::Send(bytes)` → the device's answer →
//! `feed`); this crate runs those steps over a [`QxLink`] (the serial port, or a scripted
//! link in tests), mirrors the core's state journal into the framework's [`State`], and
//! turns failed polls into [`DriverError`]s so the framework applies NUT's staleness and
//! reconnection rules. See docs/drivers.md.

pub mod usb;

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use nut_driver::health::CommMessages;
use nut_driver::link::{Exchange, Reply as Framing, Timeouts};
use nut_driver::{
    CmdStatus, DriverConfig, DriverError, DriverInfo, Outcome as CmdOutcome, State, Transport,
    VarDecl, VarFlags,
};
use nutdrv_qx::dstate::Update;
use nutdrv_qx::engine::Level;
use nutdrv_qx::item::stf;
use nutdrv_qx::{
    Blazer, DetectStep, Detector, Outcome, PollResult, Qx, QxOptions, Reply, SetStatus, Step,
    Variant,
};

/// How long NUT's Q1 drivers wait for a serial answer (`SER_WAIT_SEC`).
pub const SERIAL_TIMEOUT: Duration = Duration::from_secs(1);
/// The longest answer kept (NUT's buffer).
pub const MAX_ANSWER: usize = nutdrv_qx::engine::MAX_ANSWER;

/// What the device's answer to one command, in the caller's buffer, is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The bytes read, up to and including the CR; none when nothing came in time.
    Data,
    /// The buffer the transport filled, of which it reported this length (USB subdrivers).
    Raw {
        /// The reported length.
        len: usize,
    },
}

impl Answer {
    /// The answer in `buf` as the core takes it.
    fn reply(self, buf: &[u8]) -> Reply<'_> {
        match self {
            Answer::Data => Reply::Data(buf),
            Answer::Raw { len } => Reply::Raw { buf, len },
        }
    }
}

/// The link a Q1-family device is reached over: one command, one answer.
#[allow(async_fn_in_trait)] // single-threaded runtime
pub trait QxLink: Transport {
    /// Send `request` and put the answer into `answer` (the caller keeps it from command to
    /// command, so that a steady poll allocates nothing). Silence and unusable (short)
    /// answers are an empty [`Answer::Data`], as NUT's read returns 0 bytes then; only a
    /// lost device (an error that [needs a reconnect](DriverError::needs_reconnect)) is an
    /// `Err`.
    async fn command(
        &mut self,
        request: &[u8],
        answer: &mut Vec<u8>,
    ) -> Result<Answer, DriverError>;

    /// Variables the link itself publishes (USB: `ups.vendorid`, `ups.productid`).
    fn device_vars(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// Every request/reply link (the serial port, a script) is a Q1 link with CR-ended lines.
impl<L: Exchange> QxLink for L {
    async fn command(
        &mut self,
        request: &[u8],
        answer: &mut Vec<u8>,
    ) -> Result<Answer, DriverError> {
        let framing = Framing::line(b'\r', MAX_ANSWER);
        match self
            .exchange(request, framing, Timeouts::within(SERIAL_TIMEOUT), answer)
            .await
        {
            Ok(()) => {
                // The framing dropped the CR; the core expects it.
                answer.push(b'\r');
                Ok(Answer::Data)
            }
            Err(e) if e.needs_reconnect() => Err(e),
            Err(e) => {
                nut_driver::debug!(3, "read: {e}");
                answer.clear();
                Ok(Answer::Data)
            }
        }
    }
}

/// The two cores behind one face.
#[derive(Debug)]
enum Engine {
    /// nutdrv_qx before its protocol is known.
    Detecting(Detector),
    /// nutdrv_qx.
    Qx(Box<Qx>),
    /// blazer_ser / blazer_usb.
    Blazer(Box<Blazer>),
}

impl Engine {
    fn feed(&mut self, reply: Reply<'_>) -> Step {
        match self {
            Engine::Detecting(_) => Step::Done(Outcome::NoOperation),
            Engine::Qx(q) => q.feed(reply),
            Engine::Blazer(b) => b.feed(reply),
        }
    }

    fn take_log(&mut self) -> Vec<(Level, String)> {
        match self {
            Engine::Detecting(_) => Vec::new(),
            Engine::Qx(q) => q.take_log(),
            Engine::Blazer(b) => b.take_log(),
        }
    }

    fn take_updates(&mut self) -> Vec<Update> {
        match self {
            Engine::Detecting(_) => Vec::new(),
            Engine::Qx(q) => q.dstate_mut().take_updates(),
            Engine::Blazer(b) => b.dstate_mut().take_updates(),
        }
    }

    fn status_tokens(&self) -> &[&'static str] {
        match self {
            Engine::Detecting(_) => &[],
            Engine::Qx(q) => q.status_tokens(),
            Engine::Blazer(b) => b.status_tokens(),
        }
    }

    fn alarms(&self) -> &[String] {
        match self {
            Engine::Detecting(_) => &[],
            Engine::Qx(q) => q.alarms(),
            Engine::Blazer(b) => b.alarms(),
        }
    }

    fn abort(&mut self) {
        if let Engine::Qx(q) = self {
            q.abort();
        }
    }
}

/// Which program: decides the option set, the core and the failure wording.
pub trait Program {
    /// Program name (ups.conf `driver`, socket name).
    const NAME: &'static str;
    /// Banner description.
    const DESCRIPTION: &'static str;
    /// NUT's version of this driver (`driver.version.internal`).
    const VERSION: &'static str;
    /// The core's variant.
    const VARIANT: Variant;
    /// NUT's wording of communication failures.
    const COMM_MESSAGES: CommMessages;
}

/// `nutdrv_qx`.
#[derive(Debug)]
pub struct NutdrvQx;
impl Program for NutdrvQx {
    const NAME: &'static str = "nutdrv_qx";
    const DESCRIPTION: &'static str = "Generic Q* USB/Serial driver";
    const VERSION: &'static str = "0.32";
    const VARIANT: Variant = Variant::NutdrvQx;
    const COMM_MESSAGES: CommMessages = CommMessages::NUTDRV_QX;
}

/// `blazer_ser`.
#[derive(Debug)]
pub struct BlazerSer;
impl Program for BlazerSer {
    const NAME: &'static str = "blazer_ser";
    const DESCRIPTION: &'static str = "Megatec/Q1 protocol serial driver";
    const VERSION: &'static str = "1.58";
    const VARIANT: Variant = Variant::BlazerSer;
    const COMM_MESSAGES: CommMessages = CommMessages::BLAZER;
}

/// `blazer_usb`.
#[derive(Debug)]
pub struct BlazerUsb;
impl Program for BlazerUsb {
    const NAME: &'static str = "blazer_usb";
    const DESCRIPTION: &'static str = "Megatec/Q1 protocol USB driver";
    const VERSION: &'static str = "0.14";
    const VARIANT: Variant = Variant::BlazerUsb;
    const COMM_MESSAGES: CommMessages = CommMessages::BLAZER;
}

/// The driver: a core, the time base it counts in, and what to preset before detection.
#[derive(Debug)]
pub struct QxDriver<P, L> {
    engine: Engine,
    epoch: Instant,
    /// The device's answers, one at a time (see [`QxLink::command`]).
    answer: Vec<u8>,
    _p: PhantomData<(P, L)>,
}

/// The driver's declared variables in the framework's terms (for `-h`, `-x` and ups.conf).
pub fn declared_vars(variant: Variant) -> Vec<VarDecl> {
    nutdrv_qx::options::declared_vars(variant)
        .into_iter()
        .map(|d| match d.kind {
            nutdrv_qx::options::VarKind::Flag => VarDecl::flag(d.name, d.desc),
            nutdrv_qx::options::VarKind::Value => VarDecl::value(d.name, d.desc),
        })
        .collect()
}

/// The program's static description (leaked once at start-up: the framework keeps it for the
/// whole run).
pub fn driver_info<P: Program>() -> &'static DriverInfo {
    let vars: &'static [VarDecl] = Vec::leak(declared_vars(P::VARIANT));
    Box::leak(Box::new(DriverInfo {
        name: P::NAME,
        description: P::DESCRIPTION,
        version: P::VERSION,
        vars,
    }))
}

/// The whole program on a serial port: `nut_driver::main` with this driver.
pub fn main_serial<P: Program>() -> std::process::ExitCode {
    nut_driver::main(driver_info::<P>(), |cfg| {
        let driver = QxDriver::<P, nut_serial::SerialPort>::new(cfg)?;
        Ok((driver, serial_port(P::VARIANT, cfg)?))
    })
}

/// The whole program on USB (blazer_usb).
pub fn main_usb<P: Program>() -> std::process::ExitCode {
    nut_driver::main(driver_info::<P>(), |cfg| {
        let driver = QxDriver::<P, usb::UsbLink>::new(cfg)?;
        Ok((driver, usb::UsbLink::new(P::VARIANT, cfg)?))
    })
}

/// nutdrv_qx's link: USB for `port = auto` (or a replay, or with `subdriver`), else serial.
#[derive(Debug)]
pub enum AnyLink {
    /// A serial port.
    Serial(nut_serial::SerialPort),
    /// A USB bridge.
    Usb(Box<usb::UsbLink>),
}

impl AnyLink {
    /// The link a configuration asks for.
    pub fn new(variant: Variant, cfg: &DriverConfig) -> Result<Self, DriverError> {
        let is_usb = cfg.port.eq_ignore_ascii_case("auto")
            || cfg.port.starts_with("replay:")
            || cfg.value("subdriver").is_some();
        Ok(if is_usb {
            AnyLink::Usb(Box::new(usb::UsbLink::new(variant, cfg)?))
        } else {
            AnyLink::Serial(serial_port(variant, cfg)?)
        })
    }
}

impl Transport for AnyLink {
    async fn open(&mut self) -> Result<(), DriverError> {
        match self {
            AnyLink::Serial(s) => s.open().await,
            AnyLink::Usb(u) => u.open().await,
        }
    }

    fn close(&mut self) {
        match self {
            AnyLink::Serial(s) => s.close(),
            AnyLink::Usb(u) => u.close(),
        }
    }
}

impl QxLink for AnyLink {
    async fn command(
        &mut self,
        request: &[u8],
        answer: &mut Vec<u8>,
    ) -> Result<Answer, DriverError> {
        match self {
            AnyLink::Serial(s) => s.command(request, answer).await,
            AnyLink::Usb(u) => u.command(request, answer).await,
        }
    }

    fn device_vars(&self) -> Vec<(&'static str, String)> {
        match self {
            AnyLink::Serial(_) => Vec::new(),
            AnyLink::Usb(u) => u.device_vars(),
        }
    }
}

/// nutdrv_qx: serial or USB by the configuration.
pub fn main_any<P: Program>() -> std::process::ExitCode {
    nut_driver::main(driver_info::<P>(), |cfg| {
        let driver = QxDriver::<P, AnyLink>::new(cfg)?;
        Ok((driver, AnyLink::new(P::VARIANT, cfg)?))
    })
}

/// The core's options from a driver configuration (validated by the core's parser).
pub fn options(variant: Variant, cfg: &DriverConfig) -> Result<QxOptions, DriverError> {
    let pairs = cfg
        .values
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .chain(cfg.flags.iter().map(|f| (f.as_str(), None)));
    QxOptions::parse(variant, pairs).map_err(|e| DriverError::Config(e.to_string()))
}

impl<P: Program, L: QxLink> QxDriver<P, L> {
    /// Check the configuration and build the driver (the device is not touched).
    pub fn new(cfg: &DriverConfig) -> Result<Self, DriverError> {
        let opts = options(P::VARIANT, cfg)?;
        let engine = match P::VARIANT {
            Variant::NutdrvQx => {
                let presets = cfg
                    .defaults
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone(), false))
                    .chain(
                        cfg.overrides
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone(), true)),
                    );
                Engine::Detecting(Detector::new(opts).with_presets(presets.collect::<Vec<_>>()))
            }
            Variant::BlazerSer | Variant::BlazerUsb => {
                Engine::Blazer(Box::new(Blazer::new(opts).map_err(DriverError::Config)?))
            }
        };
        Ok(Self {
            engine,
            epoch: Instant::now(),
            answer: Vec::new(),
            _p: PhantomData,
        })
    }

    /// The protocol the driver found (nutdrv_qx), for tests and logs.
    pub fn protocol_name(&self) -> Option<&'static str> {
        match &self.engine {
            Engine::Qx(q) => Some(q.protocol().id.name()),
            Engine::Blazer(b) => b.protocol().map(|p| p.name()),
            Engine::Detecting(_) => None,
        }
    }

    fn secs(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.epoch).as_secs_f64()
    }

    /// Run one operation of the core to its end over `io`. A lost device aborts it.
    async fn run(&mut self, io: &mut L, first: Step) -> Result<Outcome, DriverError> {
        let mut step = first;
        loop {
            self.flush_log();
            match step {
                Step::Done(outcome) => return Ok(outcome),
                Step::Send(bytes) => {
                    nut_driver::debug!(5, "send: {:?}", String::from_utf8_lossy(&bytes));
                    let answer = match io.command(&bytes, &mut self.answer).await {
                        Ok(a) => a,
                        Err(e) => {
                            self.engine.abort();
                            return Err(e);
                        }
                    };
                    step = self.engine.feed(answer.reply(&self.answer));
                }
            }
        }
    }

    /// Detection (nutdrv_qx): walk the detector's probes until a protocol claims the device.
    async fn detect(&mut self, io: &mut L) -> Result<(), DriverError> {
        let Engine::Detecting(det) = &mut self.engine else {
            return Ok(());
        };
        let mut step = det.start();
        loop {
            match step {
                DetectStep::Send(bytes) => {
                    let answer = io.command(&bytes, &mut self.answer).await?;
                    let Engine::Detecting(det) = &mut self.engine else {
                        unreachable!("detection runs on the detector")
                    };
                    step = det.feed(answer.reply(&self.answer));
                }
                DetectStep::Found(qx) => {
                    self.engine = Engine::Qx(qx);
                    self.flush_log();
                    return Ok(());
                }
                DetectStep::NotSupported => {
                    return Err(DriverError::Fatal("Device not supported!".into()));
                }
            }
        }
    }

    fn flush_log(&mut self) {
        for (level, msg) in self.engine.take_log() {
            // The framework owns the communication-failure messages.
            if msg.starts_with("Communications with") {
                continue;
            }
            match level {
                Level::Error => nut_driver::error!("{msg}"),
                Level::Warning => nut_driver::warning!("{msg}"),
                Level::Info => nut_driver::info!("{msg}"),
                Level::Debug(n) => nut_driver::debug!(u32::from(n), "{msg}"),
            }
        }
    }

    /// Mirror the core's state changes into the framework's state, in order.
    fn apply(&mut self, state: &mut State) {
        for u in self.engine.take_updates() {
            match u {
                Update::SetInfo(k, v) => {
                    state.set_info(&k, &v);
                }
                Update::DelInfo(k) => {
                    state.del_info(&k);
                }
                Update::SetFlags(k, f) => {
                    let flags = VarFlags {
                        rw: f & stf::RW != 0,
                        string: f & stf::STRING != 0,
                        ..VarFlags::NONE
                    };
                    state.set_flags(&k, flags);
                }
                Update::SetAux(k, a) => {
                    state.set_aux(&k, a);
                }
                Update::AddEnum(k, v) => {
                    state.add_enum(&k, &v);
                }
                Update::AddRange(k, lo, hi) => {
                    state.add_range(&k, lo, hi);
                }
                Update::AddCmd(c) => {
                    state.add_cmd(&c);
                }
            }
        }
    }

    /// `ups.alarm` (after full polls) and `ups.status`.
    fn publish_status(&mut self, state: &mut State, full: bool) {
        if full {
            state.alarm_init();
            for a in self.engine.alarms() {
                state.alarm_set(a);
            }
            state.alarm_commit();
        }
        state.status_init();
        for t in self.engine.status_tokens() {
            state.status_set(t);
        }
        state.status_commit();
    }
}

fn cmd_status(s: nutdrv_qx::CmdStatus) -> CmdStatus {
    match s {
        nutdrv_qx::CmdStatus::Handled => CmdStatus::Handled,
        nutdrv_qx::CmdStatus::Failed => CmdStatus::Failed,
        nutdrv_qx::CmdStatus::Invalid => CmdStatus::Invalid,
        nutdrv_qx::CmdStatus::Unknown => CmdStatus::Unknown,
    }
}

impl<P: Program, L: QxLink> nut_driver::Driver for QxDriver<P, L> {
    type Transport = L;
    const COMM_MESSAGES: CommMessages = P::COMM_MESSAGES;

    async fn init_info(&mut self, io: &mut L, state: &mut State) -> Result<(), DriverError> {
        for (var, value) in io.device_vars() {
            state.set_info(var, &value);
        }
        self.detect(io).await?;
        let now = self.secs(Instant::now());
        let first = match &mut self.engine {
            Engine::Qx(q) => q.init(now),
            Engine::Blazer(b) => b.init(now),
            Engine::Detecting(_) => unreachable!("detect() leaves a core or fails"),
        };
        let outcome = self.run(io, first).await?;
        self.apply(state);
        match outcome {
            Outcome::Init(Ok(())) => Ok(()),
            Outcome::Init(Err(msg)) => Err(DriverError::Fatal(msg)),
            other => Err(DriverError::Fatal(format!(
                "unexpected initialisation result {other:?}"
            ))),
        }
    }

    async fn update_info(
        &mut self,
        io: &mut L,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        let now = self.secs(now);
        let first = match &mut self.engine {
            Engine::Qx(q) => q.poll(now),
            Engine::Blazer(b) => b.poll(now),
            Engine::Detecting(_) => {
                return Err(DriverError::Fatal("poll before initialisation".into()));
            }
        };
        let outcome = self.run(io, first).await?;
        self.apply(state);
        match outcome {
            Outcome::Poll(PollResult::Ok { full, .. }) => {
                self.publish_status(state, full);
                Ok(())
            }
            Outcome::Poll(PollResult::Failed { .. }) => {
                Err(DriverError::Protocol("status read failed!".into()))
            }
            other => Err(DriverError::Protocol(format!(
                "unexpected poll result {other:?}"
            ))),
        }
    }

    async fn instcmd(
        &mut self,
        io: &mut L,
        cmd: &str,
        param: Option<&str>,
        state: &mut State,
    ) -> CmdOutcome {
        let first = match &mut self.engine {
            Engine::Qx(q) => q.instcmd(cmd, param),
            Engine::Blazer(b) => b.instcmd(cmd, param),
            Engine::Detecting(_) => return CmdStatus::Failed.into(),
        };
        let outcome = self.run(io, first).await;
        self.apply(state);
        match outcome {
            Ok(Outcome::InstCmd(s)) => cmd_status(s).into(),
            Ok(_) => CmdStatus::Failed.into(),
            Err(e) => {
                nut_driver::warning!("instcmd: {cmd}: {e}");
                CmdStatus::Failed.into()
            }
        }
    }

    async fn set_var(
        &mut self,
        io: &mut L,
        var: &str,
        value: &str,
        state: &mut State,
    ) -> CmdOutcome {
        let first = match &mut self.engine {
            Engine::Qx(q) => q.setvar(var, value),
            // blazer_ser / blazer_usb have no settable variables (NUT: no setvar handler).
            _ => {
                nut_driver::notice!("setvar: unknown variable [{var}]");
                return CmdStatus::Unknown.into();
            }
        };
        let outcome = self.run(io, first).await;
        self.apply(state);
        match outcome {
            Ok(Outcome::SetVar(SetStatus::Handled)) => CmdStatus::Handled.into(),
            Ok(_) => CmdStatus::Unknown.into(),
            Err(e) => {
                nut_driver::warning!("setvar: {var}: {e}");
                CmdStatus::Failed.into()
            }
        }
    }

    /// `-k` without a running driver: as NUT, only what `upsdrv_initups` does (nutdrv_qx:
    /// detect the protocol; blazer: nothing), no initial walk.
    async fn init_shutdown(&mut self, io: &mut L, _state: &mut State) -> Result<(), DriverError> {
        self.detect(io).await
    }

    async fn shutdown(&mut self, io: &mut L, state: &mut State) -> Result<(), DriverError> {
        if let Engine::Detecting(_) = self.engine {
            self.detect(io).await?;
        }
        let first = match &mut self.engine {
            Engine::Qx(q) => q.shutdown(),
            Engine::Blazer(b) => b.shutdown(),
            Engine::Detecting(_) => unreachable!("detect() leaves a core or fails"),
        };
        let outcome = self.run(io, first).await?;
        self.apply(state);
        match outcome {
            Outcome::Shutdown(Ok(msg)) => {
                nut_driver::notice!("{msg}");
                Ok(())
            }
            Outcome::Shutdown(Err(msg)) => Err(DriverError::Fatal(msg)),
            other => Err(DriverError::Fatal(format!(
                "unexpected shutdown result {other:?}"
            ))),
        }
    }
}

/// The serial port of a configuration: `speed` bps, DTR/RTS from `cablepower`.
pub fn serial_port(
    variant: Variant,
    cfg: &DriverConfig,
) -> Result<nut_serial::SerialPort, DriverError> {
    let opts = options(variant, cfg)?;
    let (dtr, rts) = opts.cablepower.lines();
    let mut sc = nut_serial::SerialConfig::from_driver(cfg, 2400);
    sc.dtr = Some(dtr);
    sc.rts = Some(rts);
    Ok(nut_serial::SerialPort::new(sc))
}
