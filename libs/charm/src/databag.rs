//! Typed relation databags: the one place where a struct meets Juju's string-to-string bags.
//!
//! A bag type is a plain serde struct. Each field's wire encoding is declared on the field:
//! plain strings need nothing, JSON text (a list sent as `'["a", "b"]'`) uses
//! [`json_text`], and numbers sent as decimal strings use [`decimal`]. Unknown keys are ignored
//! on read, so a peer that sends more than we know does not break us.
//!
//! ```
//! use charm::databag::{self, BagData};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Offer {
//!     bucket: String,
//!     #[serde(default, with = "databag::json_text", skip_serializing_if = "Option::is_none")]
//!     attributes: Option<Vec<String>>,
//!     #[serde(default, with = "databag::decimal", skip_serializing_if = "Option::is_none")]
//!     days: Option<u32>,
//! }
//!
//! let bag: BagData = [("bucket", "b"), ("attributes", r#"["a=1"]"#), ("days", "7"), ("other", "x")]
//!     .into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
//! let offer: Offer = databag::decode(&bag)?;
//! assert_eq!(offer.attributes, Some(vec!["a=1".to_string()]));
//! assert_eq!(databag::encode(&offer)?["days"], "7");
//! # Ok::<(), databag::DatabagError>(())
//! ```

pub use crate::backend::BagData;
use serde::{Serialize, de::DeserializeOwned};

/// A bag that does not fit its type, or a value that cannot be written as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabagError {
    /// A key is missing or holds a value of the wrong form.
    #[error("key {key:?}: {detail}")]
    Field {
        /// The key (`.` when the error is about the bag as a whole).
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// The value does not encode to a flat string map.
    #[error("cannot encode: {0}")]
    Encode(String),
}

impl DatabagError {
    /// The offending key.
    pub fn key(&self) -> Option<&str> {
        match self {
            DatabagError::Field { key, .. } => Some(key),
            DatabagError::Encode(_) => None,
        }
    }
}

/// Reads a typed view of a bag; keys the type does not declare are ignored.
pub fn decode<T: DeserializeOwned>(bag: &BagData) -> Result<T, DatabagError> {
    let object: serde_json::Map<String, serde_json::Value> = bag
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|e| {
        let key = e.path().to_string();
        let detail = e.inner().to_string();
        // serde reports a missing field at the struct level, naming it in the message.
        let key = match (key.as_str(), detail.strip_prefix("missing field `")) {
            (".", Some(rest)) => rest.split('`').next().unwrap_or(".").to_string(),
            _ => key,
        };
        DatabagError::Field { key, detail }
    })
}

/// Writes a typed value as bag entries; every field must encode to a string.
pub fn encode<T: Serialize>(value: &T) -> Result<BagData, DatabagError> {
    let json = serde_json::to_value(value).map_err(|e| DatabagError::Encode(e.to_string()))?;
    let serde_json::Value::Object(object) = json else {
        return Err(DatabagError::Encode(
            "a databag must be a struct or map".into(),
        ));
    };
    object
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            other => Err(DatabagError::Encode(format!(
                "key {k:?} is not a string (got {other}); annotate it with json_text or decimal"
            ))),
        })
        .collect()
}

/// Field encoding for values sent as JSON text inside the string value (`'["a", "b"]'`).
///
/// Use on `Option<T>` fields with `#[serde(default, with = "charm::databag::json_text")]`.
/// Written with Python's `json.dumps` separators (`", "`, `": "`), as the Python libraries do.
pub mod json_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};

    /// Writes `Some(v)` as JSON text.
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            None => serializer.serialize_none(),
            Some(v) => {
                let json = serde_json::to_value(v).map_err(serde::ser::Error::custom)?;
                serializer.serialize_str(&pyjson::dumps(&json))
            }
        }
    }

    /// Reads JSON text into `Some(v)`.
    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        match text {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("invalid JSON text: {e}"))),
        }
    }
}

/// Field encoding for integers sent as decimal strings (`"7"`).
///
/// Use on `Option<integer>` fields with `#[serde(default, with = "charm::databag::decimal")]`.
pub mod decimal {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    /// Writes `Some(n)` as its decimal text.
    pub fn serialize<T: Display, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            None => serializer.serialize_none(),
            Some(v) => serializer.serialize_str(&v.to_string()),
        }
    }

    /// Reads decimal text into `Some(n)`.
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let text: Option<String> = Option::deserialize(deserializer)?;
        match text {
            None => Ok(None),
            Some(text) => {
                text.trim().parse().map(Some).map_err(|e| {
                    serde::de::Error::custom(format!("not an integer ({e}): {text:?}"))
                })
            }
        }
    }
}

#[cfg(test)]
#[path = "databag_test.rs"]
mod tests;
