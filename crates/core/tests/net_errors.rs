//! The `ERR` code table: wire words, parsing, and libupsclient's messages (checked against
//! Debian's `upsc` 2.8.0 with a fake server answering each code).

use nut_core::net::ErrCode;
use nut_core::net::errors::UNKNOWN_ERROR_MESSAGE;

#[test]
fn every_known_code_round_trips_through_its_word() {
    for code in ErrCode::ALL {
        assert_eq!(&ErrCode::parse(code.as_str()), code);
        assert_eq!(code.to_string(), code.as_str());
        assert_eq!(code.as_str().parse::<ErrCode>(), Ok(code.clone()));
        assert!(!matches!(code, ErrCode::Other(_)));
    }
    let mut words: Vec<&str> = ErrCode::ALL.iter().map(ErrCode::as_str).collect();
    words.sort_unstable();
    words.dedup();
    assert_eq!(
        words.len(),
        ErrCode::ALL.len(),
        "duplicate words in the table"
    );
}

#[test]
fn unknown_codes_pass_through_verbatim() {
    for word in ["SOMETHING-NEW", "data-stale", "DATA-STALEX", ""] {
        let code = ErrCode::parse(word);
        assert_eq!(code, ErrCode::Other(word.to_owned()));
        assert_eq!(code.as_str(), word);
    }
}

#[test]
fn the_codes_upsd_sends() {
    let sent: Vec<&str> = ErrCode::ALL
        .iter()
        .filter(|c| c.is_sent_by_upsd())
        .map(ErrCode::as_str)
        .collect();
    let mut expected = vec![
        "ACCESS-DENIED",
        "UNKNOWN-UPS",
        "VAR-NOT-SUPPORTED",
        "CMD-NOT-SUPPORTED",
        "INVALID-ARGUMENT",
        "INSTCMD-FAILED",
        "SET-FAILED",
        "READONLY",
        "TOO-LONG",
        "FEATURE-NOT-SUPPORTED",
        "FEATURE-NOT-CONFIGURED",
        "ALREADY-SSL-MODE",
        "DRIVER-NOT-CONNECTED",
        "DATA-STALE",
        "ALREADY-LOGGED-IN",
        "ALREADY-SET-PASSWORD",
        "ALREADY-SET-USERNAME",
        "USERNAME-REQUIRED",
        "PASSWORD-REQUIRED",
        "UNKNOWN-COMMAND",
        "INVALID-VALUE",
    ];
    let mut sent_sorted = sent.clone();
    sent_sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sent_sorted, expected);
    for word in [
        "VAR-UNKNOWN",
        "UNKNOWN-TYPE",
        "UNKNOWN-INSTCMD",
        "MISSING-ARGUMENT",
        "INVALID-PASSWORD",
        "INVALID-USERNAME",
        "PASSWORD-INCORRECT",
        "UNKNOWN-VAR",
        "UNKNOWN",
        "FAILED",
    ] {
        let code = ErrCode::parse(word);
        assert!(!matches!(code, ErrCode::Other(_)), "{word} is in the table");
        assert!(!code.is_sent_by_upsd(), "{word}");
    }
}

/// What `upsc` 2.8.0 printed after `Error: ` for each code (observed).
#[test]
fn client_messages_match_libupsclient() {
    let table = [
        ("VAR-NOT-SUPPORTED", "Variable not supported by UPS"),
        ("UNKNOWN-UPS", "Unknown UPS"),
        ("ACCESS-DENIED", "Access denied"),
        ("PASSWORD-REQUIRED", "Password required"),
        ("PASSWORD-INCORRECT", "Password incorrect"),
        ("MISSING-ARGUMENT", "Missing argument"),
        ("DATA-STALE", "Data stale"),
        ("VAR-UNKNOWN", "Variable unknown"),
        ("ALREADY-LOGGED-IN", "Already logged in"),
        ("ALREADY-SET-PASSWORD", "Already set password"),
        ("UNKNOWN-TYPE", "Unknown variable type"),
        ("UNKNOWN-VAR", "Unknown variable"),
        ("READONLY", "Read-only variable"),
        ("TOO-LONG", "New value is too long"),
        ("INVALID-VALUE", "Invalid value for variable"),
        ("SET-FAILED", "Set command failed"),
        ("UNKNOWN-INSTCMD", "Unknown instant command"),
        ("INSTCMD-FAILED", "Instant command failed"),
        ("CMD-NOT-SUPPORTED", "Instant command not supported"),
        ("INVALID-USERNAME", "Invalid username"),
        ("ALREADY-SET-USERNAME", "Already set username"),
        ("UNKNOWN-COMMAND", "Unknown command"),
        ("INVALID-PASSWORD", "Invalid password"),
        ("USERNAME-REQUIRED", "Username required"),
        ("DRIVER-NOT-CONNECTED", "Driver not connected"),
        // No entry in libupsclient's table → "Unknown error".
        ("INVALID-ARGUMENT", UNKNOWN_ERROR_MESSAGE),
        ("FEATURE-NOT-CONFIGURED", UNKNOWN_ERROR_MESSAGE),
        ("FEATURE-NOT-SUPPORTED", UNKNOWN_ERROR_MESSAGE),
        ("ALREADY-SSL-MODE", UNKNOWN_ERROR_MESSAGE),
        ("UNKNOWN", UNKNOWN_ERROR_MESSAGE),
        ("FAILED", UNKNOWN_ERROR_MESSAGE),
        ("FOO", UNKNOWN_ERROR_MESSAGE),
        ("", UNKNOWN_ERROR_MESSAGE),
        // Matching is by prefix and case-sensitive.
        ("DATA-STALEX", "Data stale"),
        ("UNKNOWN-UPSX", "Unknown UPS"),
        ("data-stale", UNKNOWN_ERROR_MESSAGE),
    ];
    for (word, message) in table {
        assert_eq!(ErrCode::parse(word).client_message(), message, "{word:?}");
    }
    assert_eq!(UNKNOWN_ERROR_MESSAGE, "Unknown error");
}
