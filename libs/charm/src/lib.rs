//! Write Juju charms in Rust.
pub mod yaml;
