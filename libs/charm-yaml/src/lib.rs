//! YAML for everything that is not a charm binary: the test harness, `charm-pack`, `juju-local`
//! and charms' build scripts (through `charm-build`).
//!
//! Charm binaries carry no YAML parser: their metadata is turned into JSON at build time, and the
//! core reads JSON. Code that reads a charm's YAML files or writes YAML for people uses this
//! crate, the one place the workspace touches `serde-saphyr` (maintained, panic-free, no `unsafe`
//! C parser; `serde_yaml` is archived). Where a value must load exactly as PyYAML loads it
//! (YAML 1.1: `0755` is 493, `on` is true), use the `yaml11` crate.
//!
//! ```
//! use charm::meta::Metadata;
//!
//! let meta: Metadata = charm_yaml::from_str("name: app\nrequires:\n  db: {interface: pg}\n")?;
//! assert_eq!(meta.requires["db"].interface, "pg");
//! assert_eq!(charm_yaml::to_string(&meta.requires["db"])?, "interface: pg\n");
//! # Ok::<(), charm_yaml::YamlError>(())
//! ```

use serde::{Serialize, de::DeserializeOwned};

/// A YAML document that could not be read into its type, or a value that could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// The text is not valid YAML, or does not fit the target type.
    #[error("invalid YAML: {0}")]
    Parse(String),
    /// The value could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Write(String),
}

/// Parses one YAML document into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|e| YamlError::Parse(e.to_string()))
}

/// Writes `value` as a YAML document.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string(value).map_err(|e| YamlError::Write(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn reads_yaml_1_2_and_writes_it_back() {
        let value: Value = from_str("a: x\nb: [1, 2.5]\nc: ~\nd: 'true'\n").unwrap();
        assert_eq!(
            value,
            json!({"a": "x", "b": [1, 2.5], "c": null, "d": "true"})
        );
        let again: Value = from_str(&to_string(&value).unwrap()).unwrap();
        assert_eq!(again, value);
    }

    #[test]
    fn json_is_read_as_yaml() {
        let value: Value =
            from_str(r#"{"name": "x", "peers": {"p": {"interface": "q"}}}"#).unwrap();
        assert_eq!(value["peers"]["p"]["interface"], "q");
    }

    #[test]
    fn bad_documents_are_errors_that_say_so() {
        let err = from_str::<Value>("a: [").unwrap_err();
        assert!(matches!(err, YamlError::Parse(_)), "{err:?}");
        assert!(err.to_string().starts_with("invalid YAML: "), "{err}");
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Named {
            name: String,
        }
        assert!(from_str::<Named>("other: 1\n").is_err());
    }
}
