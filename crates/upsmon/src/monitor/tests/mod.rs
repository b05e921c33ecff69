//! Scenario tests for the monitor.
