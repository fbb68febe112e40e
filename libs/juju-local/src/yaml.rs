//! YAML in and out, in one place: charm metadata, scenario files, settings files (`--file`),
//! action parameters, and the `yaml` and `smart` output formats.

pub use charm_yaml::{from_str, to_string};
