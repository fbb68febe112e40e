//! The one place the workspace touches a YAML crate.
//!
//! `serde_yaml` is archived; we use `serde-saphyr` (maintained, panic-free, no `unsafe` C parser) for
//! typed (de)serialisation, and its event parser `granit-parser` for the PyYAML-compatible loader.

use serde::{Serialize, de::DeserializeOwned};

/// A YAML document that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The text is not valid YAML, or does not fit the target type.
    #[error("invalid YAML: {0}")]
    Parse(String),
    /// The value could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Write(String),
}

/// Parses one YAML document into `T` (YAML 1.2 core schema).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|e| YamlError::Parse(e.to_string()))
}

/// Writes `value` as a YAML document.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string(value).map_err(|e| YamlError::Write(e.to_string()))
}
