//! `ERR <CODE>` words: one table for the server's codes, the old-protocol codes, the tracking
//! results and the extra words libupsclient knows, with the text libupsclient prints.

use std::fmt;

/// The text libupsclient prints for a code it does not recognise (`upsc` shows
/// `Error: Unknown error`).
pub const UNKNOWN_ERROR_MESSAGE: &str = "Unknown error";

macro_rules! err_codes {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $word:literal, $message:expr;
    )*) => {
        /// An error code as sent after `ERR ` on the wire.
        ///
        /// Known codes get a variant; anything else is kept verbatim in [`ErrCode::Other`] so a
        /// proxy or client can pass it through unchanged. Parsing is exact (case-sensitive), as
        /// upsd only ever sends upper-case codes.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum ErrCode {
            $( $(#[$doc])* $variant, )*
            /// A code this table does not know, kept as received.
            Other(String),
        }

        impl ErrCode {
            /// Every known code, in table order.
            pub const ALL: &'static [ErrCode] = &[$(ErrCode::$variant),*];

            /// The wire word (`DATA-STALE`, …).
            pub fn as_str(&self) -> &str {
                match self {
                    $( ErrCode::$variant => $word, )*
                    ErrCode::Other(word) => word,
                }
            }

            /// The code for a wire word: a known variant on an exact match, else
            /// [`ErrCode::Other`].
            pub fn parse(word: &str) -> ErrCode {
                match word {
                    $( $word => ErrCode::$variant, )*
                    other => ErrCode::Other(other.to_owned()),
                }
            }

            /// The libupsclient message for a code it knows by name (exact word).
            fn known_message(&self) -> Option<&'static str> {
                match self {
                    $( ErrCode::$variant => $message, )*
                    ErrCode::Other(_) => None,
                }
            }
        }
    };
}

err_codes! {
    // ---- Sent by upsd 2.8.0 -----------------------------------------------------------------
    /// The user lacks the permission, or the username/password pair is wrong.
    AccessDenied => "ACCESS-DENIED", Some("Access denied");
    /// No such UPS in ups.conf.
    UnknownUps => "UNKNOWN-UPS", Some("Unknown UPS");
    /// The UPS has no such variable (also any `server.*` other than info/version).
    VarNotSupported => "VAR-NOT-SUPPORTED", Some("Variable not supported by UPS");
    /// The UPS has no such instant command.
    CmdNotSupported => "CMD-NOT-SUPPORTED", Some("Instant command not supported");
    /// Wrong argument count or unknown sub-command; also a tracking result (driver code 2/4).
    InvalidArgument => "INVALID-ARGUMENT", None;
    /// The INSTCMD could not be passed to the driver.
    InstcmdFailed => "INSTCMD-FAILED", Some("Instant command failed");
    /// The SET could not be passed to the driver (or the string variable has no length).
    SetFailed => "SET-FAILED", Some("Set command failed");
    /// The variable is not writable.
    Readonly => "READONLY", Some("Read-only variable");
    /// The new value is longer than the string variable allows.
    TooLong => "TOO-LONG", Some("New value is too long");
    /// The server was built without the feature (e.g. TLS).
    FeatureNotSupported => "FEATURE-NOT-SUPPORTED", None;
    /// The feature is not set up (STARTTLS without certificate; GET TRACKING while off).
    FeatureNotConfigured => "FEATURE-NOT-CONFIGURED", None;
    /// STARTTLS on a connection already in TLS.
    AlreadySslMode => "ALREADY-SSL-MODE", None;
    /// upsd has no connection to the UPS's driver.
    DriverNotConnected => "DRIVER-NOT-CONNECTED", Some("Driver not connected");
    /// The driver says (or its silence implies) the data is stale.
    DataStale => "DATA-STALE", Some("Data stale");
    /// A second LOGIN on the same connection.
    AlreadyLoggedIn => "ALREADY-LOGGED-IN", Some("Already logged in");
    /// Defined for a bad password; upsd 2.8.0 never sends it.
    InvalidPassword => "INVALID-PASSWORD", Some("Invalid password");
    /// A second PASSWORD on the same connection.
    AlreadySetPassword => "ALREADY-SET-PASSWORD", Some("Already set password");
    /// Defined for a bad username; upsd 2.8.0 never sends it.
    InvalidUsername => "INVALID-USERNAME", Some("Invalid username");
    /// A second USERNAME on the same connection.
    AlreadySetUsername => "ALREADY-SET-USERNAME", Some("Already set username");
    /// A privileged command before USERNAME.
    UsernameRequired => "USERNAME-REQUIRED", Some("Username required");
    /// A privileged command before PASSWORD.
    PasswordRequired => "PASSWORD-REQUIRED", Some("Password required");
    /// Empty line or unknown command word.
    UnknownCommand => "UNKNOWN-COMMAND", Some("Unknown command");
    /// The value is not in the variable's enum list or range.
    InvalidValue => "INVALID-VALUE", Some("Invalid value for variable");

    // ---- Old protocol only (never sent now; still understood by libupsclient) --------------
    /// Old protocol: unknown variable.
    VarUnknown => "VAR-UNKNOWN", Some("Variable unknown");
    /// Old protocol: unknown variable type.
    UnknownType => "UNKNOWN-TYPE", Some("Unknown variable type");
    /// Old protocol: unknown instant command.
    UnknownInstcmd => "UNKNOWN-INSTCMD", Some("Unknown instant command");
    /// Old protocol: missing argument.
    MissingArgument => "MISSING-ARGUMENT", Some("Missing argument");

    // ---- Only in libupsclient's table ------------------------------------------------------
    /// libupsclient knows this word; no upsd sends it.
    PasswordIncorrect => "PASSWORD-INCORRECT", Some("Password incorrect");
    /// libupsclient knows this word; no upsd sends it.
    UnknownVar => "UNKNOWN-VAR", Some("Unknown variable");

    // ---- Tracking results (`GET TRACKING <id>`) --------------------------------------------
    /// Tracking result: the driver did not know the command (code 1), an unexpected code, or
    /// an unknown tracking id.
    Unknown => "UNKNOWN", None;
    /// Tracking result: the driver failed to carry the command out (code 3).
    Failed => "FAILED", None;
}

impl ErrCode {
    /// The text libupsclient prints for this code (what `upsc` shows after `Error: `).
    ///
    /// libupsclient matches its table by *prefix* (`DATA-STALE-FOO` still reads as
    /// "Data stale"), so unknown words fall back to that prefix match, and finally to
    /// [`UNKNOWN_ERROR_MESSAGE`] — which is also what it prints for codes it has no entry for,
    /// such as `INVALID-ARGUMENT` and `FEATURE-NOT-CONFIGURED`.
    pub fn client_message(&self) -> &'static str {
        if let Some(message) = self.known_message() {
            return message;
        }
        let word = self.as_str();
        ErrCode::ALL
            .iter()
            .find(|code| word.starts_with(code.as_str()) && code.known_message().is_some())
            .and_then(ErrCode::known_message)
            .unwrap_or(UNKNOWN_ERROR_MESSAGE)
    }

    /// Whether upsd 2.8.0 sends this code (as opposed to old-protocol, client-only or
    /// tracking-result words, and never-sent `INVALID-PASSWORD`/`INVALID-USERNAME`).
    pub fn is_sent_by_upsd(&self) -> bool {
        !matches!(
            self,
            ErrCode::VarUnknown
                | ErrCode::UnknownType
                | ErrCode::UnknownInstcmd
                | ErrCode::MissingArgument
                | ErrCode::PasswordIncorrect
                | ErrCode::UnknownVar
                | ErrCode::Unknown
                | ErrCode::Failed
                | ErrCode::InvalidPassword
                | ErrCode::InvalidUsername
                | ErrCode::Other(_)
        )
    }
}

impl fmt::Display for ErrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrCode {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ErrCode::parse(s))
    }
}

impl std::error::Error for ErrCode {}
