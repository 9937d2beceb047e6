//! Everything that lets Tether run with nothing leaving the machine: the mock provider (also the tests'
//! harness), `tether demo` and `tether serve --sandbox`.

pub mod demo;
pub mod harness;
pub mod mock_provider;
pub mod people;
pub mod serve;
