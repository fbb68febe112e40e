//! The ops probe: a Python `ops` charm (`charm/`) that makes the hook-tool calls ops 3.9 makes in
//! normal use and records what it sees; `tests/ops_probe.rs` runs it through juju-local and
//! asserts every observation, so that juju-local answers ops as Juju does.

/// The probe charm's source directory, relative to the repository root.
pub const CHARM: &str = "interface-tests/ops-probe/charm";
