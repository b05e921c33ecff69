//! Helpers for the parsers' unit tests.

use std::fmt::Debug;

use super::diag::ConfResult;

/// The config of a file that must parse without any error or warning.
pub(crate) fn clean<T: Debug>(result: ConfResult<T>) -> T {
    match result {
        Ok(parsed) => {
            assert!(
                parsed.warnings.is_empty(),
                "unexpected warnings: {:#?}",
                parsed.warnings
            );
            parsed.config
        }
        Err(e) => panic!("unexpected errors:\n{e}\nwarnings: {:#?}", e.warnings),
    }
}

/// The displayed warnings of a file that must parse without errors.
pub(crate) fn warnings<T: Debug>(result: ConfResult<T>) -> (T, Vec<String>) {
    match result {
        Ok(parsed) => (
            parsed.config,
            parsed.warnings.iter().map(ToString::to_string).collect(),
        ),
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

/// The displayed errors of a file that must fail.
pub(crate) fn errors<T: Debug>(result: ConfResult<T>) -> Vec<String> {
    match result {
        Ok(parsed) => panic!("expected errors, got {parsed:#?}"),
        Err(e) => {
            assert!(e.errors.iter().all(|d| d.is_error()));
            assert!(e.warnings.iter().all(|d| !d.is_error()));
            e.errors.iter().map(ToString::to_string).collect()
        }
    }
}
