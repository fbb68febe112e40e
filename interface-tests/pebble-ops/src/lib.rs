//! The Pebble contract with the real `ops` client: a Python `ops` 3.9 sidecar charm (`charm/`)
//! adds a layer, replans, pushes, pulls, lists, execs and reads checks and notices through
//! `ops.pebble.Client` against juju-local's Pebble (the `pebble-server` binary), recording what
//! it sees; `tests/pebble_ops.rs` asserts it. Our own client is not involved on the charm side, so
//! a bug in it cannot hide one in the server.

/// The charm's source directory, relative to the repository root.
pub const CHARM: &str = "interface-tests/pebble-ops/charm";
