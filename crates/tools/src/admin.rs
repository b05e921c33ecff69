//! What upscmd and upsrw share: asking for credentials, sending them, the `-t` timeout and
//! reporting the (optionally tracked) result of INSTCMD / SET VAR the way NUT 2.8 does.

use std::time::{Duration, Instant};

use nut_client::blocking::Client;
use nut_client::{Error, TrackingId, TrackingStatus, UpsId};

use crate::common::{
    Io, current_user_name, open_connection, parse_ups, prompt_password, read_stdin_line,
};
use crate::json::Json;

/// NUT's default for `-t`: seconds to wait for a tracked command's result.
pub const DEFAULT_TRACKING_TIMEOUT: u32 = 10;

/// A fatal error: the message to print on stderr, exit code 1.
pub type Fatal = String;

/// Parse `-t` like NUT's `str_to_uint`, with its error text.
pub fn parse_timeout(text: &str) -> Result<u32, Fatal> {
    let prefix = "Could not convert the provided value for timeout ('-t' option) to unsigned int";
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{prefix}: Invalid argument"));
    }
    text.parse()
        .map_err(|_| format!("{prefix}: Numerical result out of range"))
}

/// The options upscmd and upsrw share: `-u`, `-p`, `-w` and `-t`.
#[derive(Debug, Default)]
pub struct AdminOptions {
    /// `-u`: the user name for upsd (asked for when missing).
    pub username: Option<String>,
    /// `-p`: the password (asked for when missing).
    pub password: Option<String>,
    /// `-w`: wait for the driver's result.
    pub tracking: bool,
    /// `-t`: how long `-w` waits, in seconds.
    pub timeout: Option<u32>,
}

impl AdminOptions {
    /// Whether `flag` is one of the shared options (then give it to [`AdminOptions::set`]).
    pub fn takes(flag: char) -> bool {
        matches!(flag, 'u' | 'p' | 'w' | 't')
    }

    /// Record `-u`, `-p`, `-w` or `-t` with its `value`; a `-t` that is not a number gives
    /// NUT's message (exit 1).
    pub fn set(&mut self, flag: char, value: Option<String>) -> Result<(), Fatal> {
        match (flag, value) {
            ('u', value) => self.username = value,
            ('p', value) => self.password = value,
            ('w', _) => self.tracking = true,
            ('t', Some(value)) => self.timeout = Some(parse_timeout(&value)?),
            _ => {}
        }
        Ok(())
    }

    /// The user name and password: as given on the command line, else asked for, the user
    /// name first.
    pub fn credentials(&self, io: &mut Io<'_>, on_eof: OnEof) -> Result<(String, String), Fatal> {
        let username = match &self.username {
            Some(name) => name.clone(),
            None => ask_username(io, on_eof)?,
        };
        let password = match &self.password {
            Some(password) => password.clone(),
            None => ask_password(),
        };
        Ok((username, password))
    }

    /// How long to wait for a tracked result.
    fn tracking_timeout(&self) -> u32 {
        self.timeout.unwrap_or(DEFAULT_TRACKING_TIMEOUT)
    }
}

/// What to do at end of input on the username prompt: upscmd gives up, upsrw takes the
/// default name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnEof {
    /// `Error reading from stdin!`
    Fail,
    /// Use the login name.
    UseDefault,
}

/// Ask `Username (<login>): ` on stdout and read the answer; an empty answer means the login
/// name.
pub fn ask_username(io: &mut Io<'_>, on_eof: OnEof) -> Result<String, Fatal> {
    let login = current_user_name();
    match &login {
        Some(name) => io.out(&format!("Username ({name}): ")),
        None => io.out("Username: "),
    }
    let answer = match read_stdin_line() {
        Some(answer) => answer,
        None if on_eof == OnEof::Fail => return Err("Error reading from stdin!".into()),
        None => String::new(),
    };
    if !answer.is_empty() {
        return Ok(answer);
    }
    login.ok_or_else(|| "No username available - even tried getpwuid".into())
}

/// Ask for the password (see [`prompt_password`]).
pub fn ask_password() -> String {
    prompt_password("Password: ")
}

/// Send USERNAME and PASSWORD. Like NUT's tools, a server's `ERR` to either is not fatal
/// (the privileged command that follows reports the problem); a broken connection is. An
/// empty password is not sent, so the server answers `PASSWORD-REQUIRED` rather than
/// checking an empty one. A password about to cross the network in clear text gets a
/// warning on stderr first.
pub fn send_credentials(
    client: &mut Client,
    io: &mut Io<'_>,
    username: &str,
    password: &str,
) -> Result<(), Fatal> {
    match client.username(username) {
        Ok(()) | Err(Error::Server { .. }) => {}
        Err(e) => return Err(format!("Set username failed: {}", e.client_message())),
    }
    if password.is_empty() {
        return Ok(());
    }
    if client.password_in_clear() {
        io.errln(&cleartext_warning(client));
    }
    match client.password(password) {
        Ok(()) | Err(Error::Server { .. }) => Ok(()),
        Err(e) => Err(format!("Set password failed: {}", e.client_message())),
    }
}

/// The warning printed before a password goes out unencrypted.
fn cleartext_warning(client: &Client) -> String {
    let server = client
        .peer_addr()
        .map_or_else(|_| "upsd".to_owned(), |a| a.to_string());
    format!(
        "Warning: sending the password to {server} in clear text (the server does not do TLS); \
         set NUT_CERTVERIFY=1 with NUT_CERTPATH=<CA file>, or NUT_CERTPIN=<server certificate>, \
         to refuse"
    )
}

/// `SET TRACKING ON`, with NUT's messages (`what`: "command" or "set variable").
pub fn enable_tracking(client: &mut Client, what: &str) -> Result<(), Fatal> {
    match client.set_tracking(true) {
        Ok(()) => Ok(()),
        Err(Error::Server { line, .. }) => Err(format!(
            "Enabling {what} status tracking failed. upsd answered: {line}"
        )),
        Err(e) => Err(format!(
            "Enabling {what} status tracking failed: {}",
            e.client_message()
        )),
    }
}

/// Report the reply to INSTCMD / SET VAR: `Unexpected response from upsd: <line>` for an
/// `ERR`; else the `OK` line, or — with tracking — the final tracking status, on stderr.
/// `options` say whether to track and for how long; `failed`: NUT's prefix for a broken
/// connection ("Instant command failed").
pub fn report(
    client: &mut Client,
    io: &mut Io<'_>,
    result: nut_client::Result<Option<TrackingId>>,
    options: &AdminOptions,
    failed: &str,
) -> Result<(), Fatal> {
    let id = match result {
        Ok(id) => id,
        Err(Error::Server { line, .. }) => {
            return Err(format!("Unexpected response from upsd: {line}"));
        }
        Err(e) => return Err(format!("{failed}: {}", e.client_message())),
    };
    let id = match (options.tracking, id) {
        (true, Some(id)) => id,
        (_, id) => {
            match id {
                Some(id) => io.errln(&format!("OK TRACKING {id}")),
                None => io.errln("OK"),
            }
            return Ok(());
        }
    };
    let status = wait_tracking(client, &id, options.tracking_timeout())?;
    io.errln(&status.to_string());
    Ok(())
}

/// Poll `GET TRACKING <id>` once a second until it is no longer PENDING; NUT's timeout error
/// when `timeout` seconds pass first.
fn wait_tracking(
    client: &mut Client,
    id: &TrackingId,
    timeout: u32,
) -> Result<TrackingStatus, Fatal> {
    let start = Instant::now();
    let limit = Duration::from_secs(u64::from(timeout));
    loop {
        if start.elapsed() >= limit {
            return Err("Can't receive status tracking information: timeout".into());
        }
        let status = client.tracking_status(id).map_err(|e| {
            format!(
                "Can't receive status tracking information: {}",
                e.client_message()
            )
        })?;
        if status.is_final() {
            return Ok(status);
        }
        std::thread::sleep(nut_client::proto::TRACKING_POLL_INTERVAL);
    }
}

/// Report a fatal error: the message on stderr (and, for JSON output, as a JSON error
/// document on stdout); returns exit status 1, as NUT's tools do.
pub fn fail(io: &mut Io<'_>, json_errors: bool, message: &str) -> u8 {
    if json_errors {
        io.out(&Json::error(message.trim_start_matches("Error: ")).to_pretty());
    }
    io.errln(message);
    1
}

/// Parse `upsname[@host[:port]]` and connect, reporting failures the way NUT 2.8's upscmd and
/// upsrw do. On failure, returns the exit status.
pub fn open_ups(io: &mut Io<'_>, target: &str, json_errors: bool) -> Result<(UpsId, Client), u8> {
    let id = match parse_ups(Some(target)) {
        Ok(id) => id,
        Err(line) => {
            if let Some(line) = line {
                io.errln(&line);
            }
            return Err(fail(
                io,
                json_errors,
                "Error: invalid UPS definition.  Required format: upsname[@hostname[:port]]",
            ));
        }
    };
    match open_connection(io, id.host_or_default(), id.port_or_default()) {
        Ok(client) => Ok((id, client)),
        Err(message) => Err(fail(io, json_errors, &format!("Error: {message}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_options() {
        let mut options = AdminOptions::default();
        for (flag, value) in [('u', "admin"), ('p', "secret"), ('w', ""), ('t', "3")] {
            assert!(AdminOptions::takes(flag));
            options.set(flag, Some(value.to_owned())).unwrap();
        }
        assert_eq!(options.username.as_deref(), Some("admin"));
        assert_eq!(options.password.as_deref(), Some("secret"));
        assert!(options.tracking);
        assert_eq!(options.tracking_timeout(), 3);
        assert!(options.set('t', Some("x".into())).is_err());
        assert!(!AdminOptions::takes('l'));
        assert_eq!(
            AdminOptions::default().tracking_timeout(),
            DEFAULT_TRACKING_TIMEOUT
        );
    }

    #[test]
    fn timeout_option() {
        assert_eq!(parse_timeout("5"), Ok(5));
        assert!(
            parse_timeout("abc")
                .unwrap_err()
                .ends_with(": Invalid argument")
        );
        assert!(
            parse_timeout("-1")
                .unwrap_err()
                .ends_with(": Invalid argument")
        );
        assert!(
            parse_timeout("99999999999")
                .unwrap_err()
                .ends_with(": Numerical result out of range")
        );
    }
}
