//! The process around the shell: command line, paths, configuration loading, listeners,
//! TLS, privileges, backgrounding, the PID file, sd_notify, reload and exit.

use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cli::{Options, SignalCommand, USAGE};
use crate::logging;
use crate::server::{Server, Settings};
use crate::shell::{self, Control, ShellConfig, listen};
use crate::ups::UpsDef;
use nut_core::conf::{
    CmdVarTab, ConfResult, UpsdConf, UpsdUsers, parse_cmdvartab, parse_upsd_conf, parse_upsd_users,
};

/// Debian's built-in paths.
const DEFAULT_CONFPATH: &str = "/etc/nut";
const DEFAULT_STATEPATH: &str = "/run/nut";
const DEFAULT_DATAPATH: &str = "/usr/share/nut";
/// The account upsd runs as when started as root without `-u` (Debian's build default).
const DEFAULT_USER: &str = "nut";
/// File descriptors kept back from MAXCONN's default (listeners, drivers, logs).
const RESERVED_FDS: u64 = 8;

/// Where things are.
#[derive(Clone, Debug)]
pub struct Paths {
    /// NUT_CONFPATH.
    pub confpath: PathBuf,
    /// Driver sockets.
    pub statepath: PathBuf,
    /// PID file directory.
    pub altpidpath: PathBuf,
}

impl Paths {
    /// From the environment (and upsd.conf's STATEPATH, which the environment overrides).
    pub fn from_env(conf: Option<&UpsdConf>) -> Paths {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let confpath = env("NUT_CONFPATH").unwrap_or_else(|| DEFAULT_CONFPATH.into());
        let statepath = env("NUT_STATEPATH")
            .or_else(|| conf.and_then(|c| c.statepath.as_ref().map(PathBuf::from)))
            .unwrap_or_else(|| DEFAULT_STATEPATH.into());
        let altpidpath = env("NUT_ALTPIDPATH")
            .or_else(|| env("NUT_STATEPATH"))
            .unwrap_or_else(|| DEFAULT_STATEPATH.into());
        Paths {
            confpath,
            statepath,
            altpidpath,
        }
    }

    fn pid_file(&self) -> PathBuf {
        self.altpidpath.join("upsd.pid")
    }
}

/// Entry point of the binary; returns the exit code.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            eprint!("{USAGE}");
            return 1;
        }
    };
    if options.help {
        print!("{USAGE}");
        return 0;
    }
    if options.version {
        println!(
            "Network UPS Tools upsd {}",
            nut_core::net::reply::UPSD_VERSION
        );
        return 0;
    }
    match run(options) {
        Ok(code) => code,
        Err(e) => {
            logging::info(&format!("Fatal error: {e:#}"));
            1
        }
    }
}

fn run(options: Options) -> Result<i32> {
    logging::set_debug(options.debug);
    let paths = Paths::from_env(None);
    if let Some(command) = options.signal {
        return signal_running(&paths, options.pid, command);
    }
    check_previous_instance(&paths)?;
    let conf = read_upsd_conf(&paths)?;
    if let Some(level) = conf.debug_min
        && level > u32::from(options.debug)
    {
        logging::set_debug(u8::try_from(level).unwrap_or(u8::MAX));
    }
    let paths = Paths::from_env(Some(&conf));

    let bound = listen::bind_all(&conf.listeners(), options.family);
    for m in &bound.messages {
        logging::info(m);
    }
    if bound.listeners.is_empty() {
        bail!("no listening interface available");
    }
    if bound.some_failed && !conf.allow_not_all_listeners {
        // nut#723: one working listener is enough; the failures were logged above.
        logging::info(
            "WARNING: some listening interfaces were not available; serving on the others",
        );
    }
    let tls = shell::tls::server_config(&conf).map_err(|e| anyhow!("{e}"))?;
    let maxconn = conf.maxconn.map_or_else(default_maxconn, u64::from);

    if let Some(dir) = &options.chroot {
        nix::unistd::chroot(Path::new(dir)).with_context(|| format!("chroot {dir}"))?;
        nix::unistd::chdir("/").context("chdir /")?;
    }
    drop_privileges(options.user.as_deref())?;

    let loaded = load_reloadable(&paths, &conf)?;
    if loaded.defs.is_empty() {
        if conf.allow_no_device {
            logging::info(
                "Normally at least one UPS must be defined in ups.conf, currently there are none (please configure the file and reload the service)",
            );
        } else {
            bail!("at least one UPS must be defined in ups.conf");
        }
    }

    let pid_file = if options.is_foreground() {
        if options.writes_pid_file() {
            logging::info("Running as foreground process, but saving a PID file anyway");
        } else {
            logging::info("Running as foreground process, not saving a PID file");
        }
        None
    } else {
        background()?;
        logging::use_syslog();
        None
    };
    let _pid_guard = match (pid_file, options.writes_pid_file()) {
        (_, true) => Some(PidFile::create(&paths.pid_file())?),
        (guard, false) => guard,
    };

    let settings = settings(&conf, tls.is_some());
    let seed = rand::random::<u64>();
    let server = Server::new(
        settings,
        loaded.defs,
        loaded.users,
        loaded.descriptions,
        seed,
    );
    let shell_config = ShellConfig {
        server,
        listeners: bound.listeners,
        statepath: paths.statepath.clone(),
        tls,
        maxconn: usize::try_from(maxconn).unwrap_or(usize::MAX),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let local = tokio::task::LocalSet::new();
    let mut control = Reloader {
        paths,
        tls_on: shell_config.tls.is_some(),
    };
    let exit = local.block_on(&runtime, shell::run(shell_config, &mut control))?;
    let shell::Exit::Signal(sig) = exit;
    notify(&[sd_notify::NotifyState::Stopping]);
    logging::info(&format!("Signal {sig}: exiting"));
    Ok(0)
}

/// The reloadable part of the configuration.
struct Loaded {
    defs: Vec<UpsDef>,
    users: UpsdUsers,
    descriptions: CmdVarTab,
}

fn load_reloadable(paths: &Paths, conf: &UpsdConf) -> Result<Loaded> {
    let ups_conf_path = paths.confpath.join("ups.conf");
    let text = std::fs::read(&ups_conf_path)
        .with_context(|| format!("Can't open {}", ups_conf_path.display()))?;
    let parsed = nut_core::conf::parse_ups_conf(&text, "ups.conf")
        .map_err(|e| anyhow!("in parseconf(ups.conf): {e}"))?;
    let (ups_conf, warnings) = parsed.into_parts();
    for w in &warnings {
        logging::debug(1, &w.to_string());
    }
    let defs = ups_conf
        .sections
        .iter()
        .map(|s| UpsDef {
            name: s.name.clone(),
            driver: s.driver.clone(),
            desc: s.desc.clone(),
        })
        .collect();

    let users_path = paths.confpath.join("upsd.users");
    let users = match std::fs::read(&users_path) {
        Ok(text) => {
            warn_world_readable(&users_path);
            checked(parse_upsd_users(&text, &users_path.display().to_string()))?
        }
        Err(e) => {
            logging::info(&format!("Can't open {}: {e}", users_path.display()));
            UpsdUsers::default()
        }
    };

    let datapath = conf
        .datapath
        .clone()
        .or_else(|| std::env::var("NUT_DATADIR").ok())
        .unwrap_or_else(|| DEFAULT_DATAPATH.to_owned());
    let cmdvartab = Path::new(&datapath).join("cmdvartab");
    let descriptions = match std::fs::read(&cmdvartab) {
        // Descriptions are optional: a broken table only loses them.
        Ok(text) => checked(parse_cmdvartab(&text, &cmdvartab.display().to_string()))
            .unwrap_or_else(|e| {
                logging::info(&format!("{e:#} - disabling descriptions"));
                CmdVarTab::default()
            }),
        Err(_) => {
            logging::info(&format!(
                "{} not found - disabling descriptions",
                cmdvartab.display()
            ));
            CmdVarTab::default()
        }
    };
    Ok(Loaded {
        defs,
        users,
        descriptions,
    })
}

struct Reloader {
    paths: Paths,
    tls_on: bool,
}

impl Control for Reloader {
    fn reload(&mut self, server: &mut Server) {
        notify(&[sd_notify::NotifyState::Reloading, monotonic_now()]);
        let conf = match read_upsd_conf(&self.paths) {
            Ok(conf) => conf,
            Err(e) => {
                logging::info(&format!("{e:#}; keeping the old configuration"));
                notify(&[sd_notify::NotifyState::Ready]);
                return;
            }
        };
        match load_reloadable(&self.paths, &conf) {
            Ok(loaded) => {
                if loaded.defs.is_empty() {
                    logging::info("Warning: no UPSes currently defined!");
                }
                let settings = settings(&conf, self.tls_on);
                server.reload(settings, loaded.defs, loaded.users, loaded.descriptions);
            }
            Err(e) => logging::info(&format!(
                "Reload failed, keeping the old configuration: {e:#}"
            )),
        }
        notify(&[sd_notify::NotifyState::Ready]);
    }

    fn ready(&mut self) {
        notify(&[sd_notify::NotifyState::Ready]);
    }
}

fn monotonic_now() -> sd_notify::NotifyState<'static> {
    sd_notify::NotifyState::monotonic_usec_now().unwrap_or(sd_notify::NotifyState::Reloading)
}

/// sd_notify, only when systemd asked for it (NOTIFY_SOCKET set).
fn notify(states: &[sd_notify::NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        let _ = sd_notify::notify(states);
    }
}

/// Log a parser's warnings; with errors, log every diagnostic and fail naming the file.
fn checked<T>(result: ConfResult<T>) -> Result<T> {
    match result {
        Ok(parsed) => {
            let (config, warnings) = parsed.into_parts();
            for w in &warnings {
                logging::info(&w.to_string());
            }
            Ok(config)
        }
        Err(e) => {
            for d in e.diagnostics() {
                logging::info(&d.to_string());
            }
            let file = e.errors.first().map(|d| d.file.clone()).unwrap_or_default();
            bail!(
                "{file}: {} configuration error(s), see above",
                e.errors.len()
            )
        }
    }
}

/// upsd.conf, with ALLOW_NO_DEVICE / ALLOW_NOT_ALL_LISTENERS from the environment winning.
fn read_upsd_conf(paths: &Paths) -> Result<UpsdConf> {
    let path = paths.confpath.join("upsd.conf");
    let text = std::fs::read(&path).with_context(|| format!("Can't open {}", path.display()))?;
    warn_world_readable(&path);
    let mut conf = checked(parse_upsd_conf(&text, &path.display().to_string()))?;
    if let Some(v) = env_allow("ALLOW_NO_DEVICE") {
        conf.allow_no_device = v;
    }
    if let Some(v) = env_allow("ALLOW_NOT_ALL_LISTENERS") {
        conf.allow_not_all_listeners = v;
    }
    Ok(conf)
}

/// An ALLOW_* environment value: `true|on|yes|1`, `false|off|no|0` (any case), or a number
/// (non-zero is true).
fn env_allow(name: &str) -> Option<bool> {
    let value = std::env::var(name).ok()?;
    match value.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        v if v.starts_with(|c: char| c.is_ascii_digit()) => {
            Some(v.chars().take_while(char::is_ascii_digit).any(|c| c != '0'))
        }
        _ => None,
    }
}

fn settings(conf: &UpsdConf, tls_available: bool) -> Settings {
    Settings {
        maxage: Duration::from_secs(u64::from(conf.maxage)),
        tracking_delay: Duration::from_secs(u64::from(conf.trackingdelay)),
        tls_available,
    }
}

fn warn_world_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o004 != 0
    {
        logging::info(&format!(
            "WARNING: {} is world readable (hope you don't have passwords there)",
            path.display()
        ));
    }
}

/// Raise the soft descriptor limit to the hard one; MAXCONN defaults to what is left.
fn default_maxconn() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024 - RESERVED_FDS;
    };
    let limit = if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    limit.saturating_sub(RESERVED_FDS).max(1)
}

/// Switch to `-u user`, or to `nut` when started as root without `-u`.
fn drop_privileges(user: Option<&str>) -> Result<()> {
    use nix::unistd::{Uid, User, initgroups, setgid, setuid};
    if !Uid::effective().is_root() {
        return Ok(());
    }
    let name = user.unwrap_or(DEFAULT_USER);
    let Some(account) = User::from_name(name).ok().flatten() else {
        if user.is_some() {
            bail!("user {name} not found");
        }
        return Ok(());
    };
    let cname = std::ffi::CString::new(name).context("user name")?;
    initgroups(&cname, account.gid).context("initgroups")?;
    setgid(account.gid).context("setgid")?;
    setuid(account.uid).context("setuid")?;
    Ok(())
}

/// Fork into the background (before any runtime or thread exists).
fn background() -> Result<()> {
    use nix::unistd::{ForkResult, fork, setsid};
    // SAFETY: no other thread exists yet; the child only continues single-threaded setup.
    match unsafe { fork() }.context("fork")? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    setsid().context("setsid")?;
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("/dev/null")?;
    use std::os::fd::AsRawFd;
    for fd in 0..3 {
        // SAFETY: plain descriptor duplication onto stdio.
        unsafe { libc::dup2(devnull.as_raw_fd(), fd) };
    }
    Ok(())
}

/// Refuse to start when the PID file names a live process (or is locked).
fn check_previous_instance(paths: &Paths) -> Result<()> {
    let path = paths.pid_file();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let locked = File::open(&path)
        .ok()
        .map(|f| Flock::lock(f, FlockArg::LockSharedNonblock).is_err())
        .unwrap_or(false);
    let alive = text
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|pid| *pid > 0 && *pid != std::process::id() as i32)
        .is_some_and(|pid| kill(Pid::from_raw(pid), None).is_ok());
    if locked || alive {
        bail!(
            "A previous upsd instance is already running!\nEither stop the previous instance first, or use the 'reload' command."
        );
    }
    Ok(())
}

/// `-c reload|stop`: signal the running upsd (PID file, or `-P`).
fn signal_running(paths: &Paths, pid: Option<i32>, command: SignalCommand) -> Result<i32> {
    let pid = match pid {
        Some(pid) => pid,
        None => {
            let path = paths.pid_file();
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "Failed to signal the currently running daemon (PID file {})",
                    path.display()
                )
            })?;
            text.trim()
                .parse()
                .with_context(|| format!("invalid PID in {}", path.display()))?
        }
    };
    let sig = match command {
        SignalCommand::Reload => Signal::SIGHUP,
        SignalCommand::Stop => Signal::SIGTERM,
    };
    kill(Pid::from_raw(pid), sig).with_context(|| format!("Failed to signal PID {pid}"))?;
    Ok(0)
}

/// `<ALTPIDPATH>/upsd.pid`, locked while we run and removed at exit.
struct PidFile {
    path: PathBuf,
    _lock: Flock<File>,
}

impl PidFile {
    fn create(path: &Path) -> Result<PidFile> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o644)
            .open(path)
            .with_context(|| format!("Can't write PID file {}", path.display()))?;
        let mut lock = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|_| {
            anyhow!(
                "A previous upsd instance is already running!\nEither stop the previous instance first, or use the 'reload' command."
            )
        })?;
        lock.set_len(0).context("truncate PID file")?;
        writeln!(lock, "{}", std::process::id()).context("write PID file")?;
        Ok(PidFile {
            path: path.to_owned(),
            _lock: lock,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
