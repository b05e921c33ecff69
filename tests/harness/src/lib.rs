//! nut-harness: to be written (issue 2).
