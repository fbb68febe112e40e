//! The sample charm, and a probe charm (`src/bin/probe.rs`), through the local Juju model.
//! The tests are in `tests/`.
