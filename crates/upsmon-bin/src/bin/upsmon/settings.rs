//! upsmon.conf as the process shell needs it: the decision logic's part ([`MonitorConfig`],
//! MONITOR entries, NOTIFYMSG/NOTIFYFLAG) plus what only the shell uses (commands to run,
//! POWERDOWNFLAG, TLS policy, the unprivileged user).

use std::path::{Path, PathBuf};

use nut_client::{TlsMode, TlsOptions};
use nut_core::conf::upsmon_conf::CertHost;
use nut_core::conf::{ConfError, Diagnostic, UpsId, UpsmonConf, parse_upsmon_conf};
use nut_upsmon::notify::NotifyTable;
use nut_upsmon::{MonitorConfig, MonitorEntry, Role, entries_from};

/// One MONITOR line with what the session needs to reach upsd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The entry as the decision logic knows it.
    pub entry: MonitorEntry,
    /// The parsed identifier: UPS name on the server, host, port.
    pub id: UpsId,
}

/// Everything read from upsmon.conf.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The file it came from.
    pub path: PathBuf,
    /// Global settings for [`nut_upsmon::Monitor`].
    pub monitor: MonitorConfig,
    /// MONITOR lines in file order.
    pub targets: Vec<Target>,
    /// NOTIFYMSG / NOTIFYFLAG.
    pub notify: NotifyTable,
    /// NOTIFYCMD as a shell command prefix (the message is appended, quoted).
    pub notifycmd: Option<String>,
    /// SHUTDOWNCMD as a shell command.
    pub shutdowncmd: Option<String>,
    /// POWERDOWNFLAG.
    pub powerdownflag: Option<PathBuf>,
    /// CERTPATH / CERTVERIFY / FORCESSL / CERTHOST.
    pub tls: TlsSettings,
    /// RUN_AS_USER.
    pub run_as_user: Option<String>,
    /// DEBUG_MIN.
    pub debug_min: u8,
    /// POLLFAIL_LOG_THROTTLE_MAX: -1 logs every failed poll, 0 only changes, N every Nth.
    pub pollfail_log_throttle_max: i32,
    /// Directives that are understood but cannot be honoured, with why.
    pub ignored: Vec<&'static str>,
}

/// Why upsmon.conf could not be used.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read (NUT: `Can't open <file>: <reason>`).
    Read(PathBuf, std::io::Error),
    /// The file has errors.
    Invalid(ConfError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(path, e) => write!(
                f,
                "Can't open {}: {}",
                path.display(),
                nut_daemon::log::strerror(e)
            ),
            Self::Invalid(e) => {
                for (i, d) in e.diagnostics().iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
        }
    }
}

/// Read and parse `path`. Warnings come back for the caller to log.
pub fn load(path: &Path) -> Result<(Settings, Vec<Diagnostic>), LoadError> {
    let text = std::fs::read(path).map_err(|e| LoadError::Read(path.to_owned(), e))?;
    let parsed =
        parse_upsmon_conf(&text, &path.display().to_string()).map_err(LoadError::Invalid)?;
    let (conf, warnings) = parsed.into_parts();
    Ok((Settings::from_conf(path, &conf), warnings))
}

impl Settings {
    /// Build the settings from a parsed file.
    pub fn from_conf(path: &Path, conf: &UpsmonConf) -> Self {
        let entries = entries_from(conf);
        let targets = conf
            .monitors
            .iter()
            .zip(entries)
            .map(|(m, entry)| Target {
                entry,
                id: m.ups.clone(),
            })
            .collect();
        Self {
            path: path.to_owned(),
            monitor: MonitorConfig::from(conf),
            targets,
            notify: NotifyTable::from(conf),
            notifycmd: conf.notifycmd.as_deref().map(shell_command),
            shutdowncmd: conf.shutdowncmd.as_deref().map(shell_command),
            powerdownflag: conf.powerdownflag.as_deref().map(PathBuf::from),
            tls: TlsSettings {
                certpath: conf.certpath.as_deref().map(PathBuf::from),
                certverify: conf.certverify,
                forcessl: conf.forcessl,
                certhosts: conf.certhosts.clone(),
            },
            run_as_user: conf.run_as_user.clone(),
            debug_min: conf
                .debug_min
                .map_or(0, |d| u8::try_from(d).unwrap_or(u8::MAX)),
            pollfail_log_throttle_max: conf.pollfail_log_throttle_max,
            ignored: ignored_directives(conf),
        }
    }

    /// The MONITOR line of a system (`ups@host:port` as written).
    pub fn target(&self, system: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.entry.system == system)
    }

    /// The MONITOR entries for the decision logic.
    pub fn entries(&self) -> Vec<MonitorEntry> {
        self.targets.iter().map(|t| t.entry.clone()).collect()
    }

    /// Sum of the power values (NUT's `totalpv`).
    pub fn total_power(&self) -> u64 {
        self.targets
            .iter()
            .map(|t| u64::from(t.entry.power_value))
            .sum()
    }

    /// The start-up lines NUT prints for the MONITOR entries and POWERDOWNFLAG.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .targets
            .iter()
            .map(|t| {
                let role = match t.entry.role {
                    Role::Primary => "primary",
                    Role::Secondary => "secondary",
                };
                if t.entry.power_value == 0 {
                    format!("UPS: {} (monitoring only)", t.entry.system)
                } else {
                    format!(
                        "UPS: {} ({role}) (power value {})",
                        t.entry.system, t.entry.power_value
                    )
                }
            })
            .collect();
        if let Some(flag) = &self.powerdownflag {
            lines.push(format!("Using power down flag file {}", flag.display()));
        }
        lines
    }

    /// NUT's fatal start-up check, as printed text; `None` when enough power is configured.
    pub fn insufficient_power_text(&self) -> Option<String> {
        let total = self.total_power();
        let min = self.monitor.min_supplies;
        if total >= u64::from(min) {
            return None;
        }
        Some(format!(
            "\nFatal error: insufficient power configured!\n\n\
             Sum of power values........: {total}\n\
             Minimum value (MINSUPPLIES): {min}\n\n\
             Edit your upsmon.conf and change the values."
        ))
    }

    /// Settings a running split-process upsmon cannot change, because the privileged parent
    /// read them at start: `(directive, old, new)` for each that differs.
    pub fn parent_only_changes(&self, new: &Settings) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.shutdowncmd != new.shutdowncmd {
            changed.push("SHUTDOWNCMD");
        }
        if self.powerdownflag != new.powerdownflag {
            changed.push("POWERDOWNFLAG");
        }
        changed
    }
}

/// Warnings for TLS directives of NUT's NSS and client-certificate builds.
fn ignored_directives(conf: &UpsmonConf) -> Vec<&'static str> {
    let mut out = Vec::new();
    if conf.certident.is_some() {
        out.push(
            "CERTIDENT names a certificate in an NSS database, which nut-rs does not use \
             (CERTPATH holds PEM CA certificates): ignored",
        );
    }
    if conf.certfile.is_some() {
        out.push("CERTFILE: client certificates are not supported yet: ignored");
    }
    out
}

/// A configured command as one shell command line. A single word is used as written (NUT ≤
/// 2.8.5: `SHUTDOWNCMD "/sbin/shutdown -h +0"` is handed to the shell as is); further words
/// are single-quoted after it (NUT 2.8.6's multi-word form), so they reach the program
/// unchanged.
pub fn shell_command(words: &[String]) -> String {
    let mut out = words.first().cloned().unwrap_or_default();
    for w in words.iter().skip(1) {
        out.push(' ');
        out.push_str(&single_quote(w));
    }
    out
}

/// `'text'` for the shell, with embedded single quotes as `'\''`.
pub fn single_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The TLS directives of upsmon.conf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// CERTPATH: CA certificates (a directory of PEM files, or one PEM file).
    pub certpath: Option<PathBuf>,
    /// CERTVERIFY.
    pub certverify: bool,
    /// FORCESSL.
    pub forcessl: bool,
    /// CERTHOST lines.
    pub certhosts: Vec<CertHost>,
}

impl TlsSettings {
    /// The TLS policy for a connection to `host:port`.
    ///
    /// A matching CERTHOST decides verification and forcing for that server (its certificate
    /// name becomes the name the certificate must carry); otherwise CERTVERIFY and FORCESSL do.
    /// Without either, STARTTLS is tried and a server without TLS is used in clear text, as
    /// NUT does. Verification needs CERTPATH: NUT refuses to connect without it, so do we.
    pub fn mode_for(&self, host: &str, port: u16) -> Result<TlsMode, String> {
        let certhost = self.certhosts.iter().find(|c| {
            c.host.host.eq_ignore_ascii_case(host) && c.host.port.is_none_or(|p| p == port)
        });
        let (verify, force, name) = match certhost {
            Some(c) => (c.verify, c.forcessl, Some(c.certname.clone())),
            None => (self.certverify, self.forcessl, None),
        };
        if !verify && !force {
            return Ok(TlsMode::Opportunistic);
        }
        let mut options = if verify {
            let Some(path) = &self.certpath else {
                return Err(format!(
                    "certificate verification is required for {host}:{port}, but CERTPATH is not set"
                ));
            };
            if path.is_dir() {
                TlsOptions::with_ca_dir(path)
            } else {
                TlsOptions::with_ca_file(path)
            }
        } else {
            let mut options = TlsOptions::default();
            // FORCESSL without verification: encrypted, not authenticated (as NUT).
            options.danger_accept_any_certificate = true;
            options
        };
        if let Some(name) = name {
            options = options.server_name(name);
        }
        Ok(TlsMode::Required(options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        let parsed = parse_upsmon_conf(text, "upsmon.conf").expect("valid");
        Settings::from_conf(Path::new("upsmon.conf"), &parsed.config)
    }

    #[test]
    fn commands_keep_nuts_single_word_form_and_quote_extra_words() {
        assert_eq!(
            shell_command(&["/sbin/shutdown -h +0".to_owned()]),
            "/sbin/shutdown -h +0"
        );
        assert_eq!(
            shell_command(&[
                "/bin/echo".into(),
                "it's".into(),
                "a b".into(),
                "$HOME".into()
            ]),
            r"/bin/echo 'it'\''s' 'a b' '$HOME'"
        );
    }

    #[test]
    fn startup_description_and_power_check() {
        let s = settings(
            "MONITOR a@h 2 u p primary\nMONITOR b@h:1234 1 u p slave\nMINSUPPLIES 4\n\
             MONITOR c@h 0 u p primary\n\
             POWERDOWNFLAG /etc/killpower\nSHUTDOWNCMD \"/sbin/shutdown -h now\"\n",
        );
        assert_eq!(
            s.describe(),
            [
                "UPS: a@h (primary) (power value 2)",
                "UPS: b@h:1234 (secondary) (power value 1)",
                "UPS: c@h (monitoring only)",
                "Using power down flag file /etc/killpower"
            ]
        );
        let text = s.insufficient_power_text().expect("3 < 4");
        assert!(text.contains("Sum of power values........: 3\n"), "{text}");
        assert!(text.contains("Minimum value (MINSUPPLIES): 4\n"), "{text}");
        assert_eq!(s.shutdowncmd.as_deref(), Some("/sbin/shutdown -h now"));
        assert_eq!(s.targets[1].id.port, Some(1234));
        assert_eq!(s.targets[1].id.name, "b");
    }

    #[test]
    fn nss_and_client_certificate_directives_are_reported() {
        assert!(settings("").ignored.is_empty());
        let s = settings("CERTIDENT \"my cert\" secret\nCERTFILE /etc/nut/client.pem\n");
        assert_eq!(s.ignored.len(), 2);
    }

    #[test]
    fn parent_only_changes_are_named() {
        let a = settings("SHUTDOWNCMD a\nPOWERDOWNFLAG /x\n");
        let b = settings("SHUTDOWNCMD b\nPOWERDOWNFLAG /x\n");
        let c = settings("SHUTDOWNCMD a\n");
        assert_eq!(a.parent_only_changes(&a), Vec::<&str>::new());
        assert_eq!(a.parent_only_changes(&b), ["SHUTDOWNCMD"]);
        assert_eq!(a.parent_only_changes(&c), ["POWERDOWNFLAG"]);
    }

    #[test]
    fn tls_policy() {
        let tmp = tempfile::tempdir().unwrap();
        let plain = TlsSettings::default();
        assert!(matches!(
            plain.mode_for("h", 3493),
            Ok(TlsMode::Opportunistic)
        ));
        let forced = TlsSettings {
            forcessl: true,
            ..TlsSettings::default()
        };
        match forced.mode_for("h", 3493) {
            Ok(TlsMode::Required(o)) => assert!(o.danger_accept_any_certificate),
            other => panic!("{other:?}"),
        }
        let verify_without_path = TlsSettings {
            certverify: true,
            ..TlsSettings::default()
        };
        assert!(verify_without_path.mode_for("h", 3493).is_err());
        let s = settings(&format!(
            "CERTPATH {}\nCERTHOST upsd.example:3493 upsd-cert 1 1\n",
            tmp.path().display()
        ));
        match s.tls.mode_for("UPSD.example", 3493) {
            Ok(TlsMode::Required(o)) => {
                assert_eq!(o.ca_dir.as_deref(), Some(tmp.path()));
                assert_eq!(o.server_name.as_deref(), Some("upsd-cert"));
                assert!(!o.danger_accept_any_certificate);
            }
            other => panic!("{other:?}"),
        }
        // Another port of that host is not covered by the CERTHOST line.
        assert!(matches!(
            s.tls.mode_for("upsd.example", 1234),
            Ok(TlsMode::Opportunistic)
        ));
    }
}
