//! nut-client: to be written (issue 5).
