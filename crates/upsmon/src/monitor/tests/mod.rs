//! Monitor tests in virtual time: the [`sim::World`] harness, the issue 6 (docs/issues.md) scenarios, and a
//! property test of the shutdown invariant.

mod invariants;
mod safety;
mod scenarios;
mod sim;
mod transitions;
