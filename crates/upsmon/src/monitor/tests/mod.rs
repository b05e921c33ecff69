//! Monitor tests in virtual time: the [`sim::World`] harness, the issue 6 scenarios, and a
//! property test of the shutdown invariant.

mod invariants;
mod safety;
mod scenarios;
mod sim;
mod transitions;
