//! nut-driver: to be written (issue 3).
