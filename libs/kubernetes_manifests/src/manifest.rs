//! One Kubernetes object, loaded from YAML exactly as PyYAML's `safe_load` loads it.

use charm::error::{Classify, Outcome};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// A Kubernetes manifest: a mapping with `apiVersion`, `kind` and `metadata.name`.
///
/// Built from YAML text with [`KubernetesManifest::new`] (YAML 1.1 rules, as the Python library's
/// PyYAML `safe_load`: `yes`/`no`/`on`/`off` are booleans, `0755` is 493, `~` is null) or from a
/// JSON value received on a relation with [`KubernetesManifest::from_value`]. Both check the shape,
/// so every value of this type has the three fields as non-empty strings.
///
/// Its `Debug` output shows only the object's identity (kind, namespace, name): a manifest may be
/// a `Secret` whose data must not reach logs.
#[derive(Clone, PartialEq)]
pub struct KubernetesManifest {
    object: Map<String, Value>,
}

/// Why a YAML document or JSON value is not a Kubernetes manifest.
///
/// Messages name the position or the field, never a value from the manifest (it may be secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The text is not valid YAML, or holds something JSON cannot represent.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// A manifest is one YAML document; this text holds more.
    #[error(
        "expected a single YAML document, found another at line {line} (split several manifests into one KubernetesManifest each)"
    )]
    MultipleDocuments {
        /// Line where the second document starts.
        line: usize,
    },
    /// An unquoted date or time: PyYAML loads it as a date, which Python's `json.dumps` rejects.
    #[error(
        "YAML timestamp at line {line}, column {column} cannot be sent (PyYAML loads it as a date, which json.dumps rejects); quote it"
    )]
    Timestamp {
        /// Line of the timestamp.
        line: usize,
        /// Column of the timestamp.
        column: usize,
    },
    /// The document is empty (`safe_load` gives `None`).
    #[error("the manifest is empty")]
    Empty,
    /// The document is not a mapping.
    #[error("a manifest must be a mapping, not {found}")]
    NotAMapping {
        /// What it is instead (`a list`, `a string`, ...).
        found: &'static str,
    },
    /// A required field is missing.
    #[error("the manifest has no {field}")]
    MissingField {
        /// `apiVersion`, `kind`, `metadata` or `metadata.name`.
        field: &'static str,
    },
    /// A field has the wrong type or is empty.
    #[error("{field} must be {expected}, not {found}")]
    InvalidField {
        /// The field, e.g. `metadata.name`.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// A problem in one document of a multi-document stream.
    #[error("document {index}: {source}")]
    InDocument {
        /// 1-based index of the document in the stream.
        index: usize,
        /// The problem.
        source: Box<ManifestError>,
    },
}

impl Classify for ManifestError {
    fn outcome(&self) -> Outcome {
        // Manifests come from the charm's files, its config or a remote app: a retry cannot help.
        Outcome::Blocked
    }
}

/// How a JSON value's type reads in an error message.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Turns a loader error into a message that carries no scalar text from the document.
fn from_yaml_error(error: yaml11::Error) -> ManifestError {
    match error {
        yaml11::Error::MultipleDocuments { mark } => {
            ManifestError::MultipleDocuments { line: mark.line }
        }
        yaml11::Error::Timestamp { mark, .. } => ManifestError::Timestamp {
            line: mark.line,
            column: mark.column,
        },
        yaml11::Error::IntegerOutOfRange { mark, .. } => ManifestError::Yaml(format!(
            "integer at {mark} does not fit in a 64-bit JSON number"
        )),
        yaml11::Error::NonFiniteFloat { mark, .. } => ManifestError::Yaml(format!(
            "float at {mark} is infinite or NaN, which JSON cannot hold"
        )),
        yaml11::Error::InvalidScalar { tag, mark, .. } => {
            ManifestError::Yaml(format!("the value at {mark} is not a valid {tag}"))
        }
        other => ManifestError::Yaml(
            other
                .to_string()
                .trim_start_matches("invalid YAML at ")
                .to_string(),
        ),
    }
}

fn required_str<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'a str, ManifestError> {
    match object.get(key) {
        None => Err(ManifestError::MissingField { field }),
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(other) => Err(ManifestError::InvalidField {
            field,
            expected: "a non-empty string",
            found: json_type(other),
        }),
    }
}

/// Checks the fields every Kubernetes object has.
fn check(object: &Map<String, Value>) -> Result<(), ManifestError> {
    required_str(object, "apiVersion", "apiVersion")?;
    required_str(object, "kind", "kind")?;
    let metadata = match object.get("metadata") {
        None => return Err(ManifestError::MissingField { field: "metadata" }),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ManifestError::InvalidField {
                field: "metadata",
                expected: "a mapping",
                found: json_type(other),
            });
        }
    };
    required_str(metadata, "name", "metadata.name")?;
    match metadata.get("namespace") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        Some(other) => Err(ManifestError::InvalidField {
            field: "metadata.namespace",
            expected: "a non-empty string",
            found: json_type(other),
        }),
    }
}

impl KubernetesManifest {
    /// Loads one YAML document as PyYAML's `safe_load` does and checks it is a Kubernetes object.
    pub fn new(yaml_text: &str) -> Result<Self, ManifestError> {
        let value = yaml11::load(yaml_text).map_err(from_yaml_error)?;
        Self::from_value(value)
    }

    /// Loads every document of a YAML stream (`---`-separated), one manifest each; empty documents
    /// are skipped. Errors name the 1-based document index.
    pub fn all_from_yaml(yaml_text: &str) -> Result<Vec<Self>, ManifestError> {
        let documents = yaml11::load_all(yaml_text).map_err(from_yaml_error)?;
        documents
            .into_iter()
            .enumerate()
            .filter(|(_, doc)| !doc.is_null())
            .map(|(i, doc)| {
                Self::from_value(doc).map_err(|e| ManifestError::InDocument {
                    index: i + 1,
                    source: Box::new(e),
                })
            })
            .collect()
    }

    /// Checks a JSON value (e.g. one item received on a relation).
    pub fn from_value(value: Value) -> Result<Self, ManifestError> {
        match value {
            Value::Object(object) => {
                check(&object)?;
                Ok(KubernetesManifest { object })
            }
            Value::Null => Err(ManifestError::Empty),
            other => Err(ManifestError::NotAMapping {
                found: json_type(&other),
            }),
        }
    }

    fn str_field(&self, key: &str) -> &str {
        self.object.get(key).and_then(Value::as_str).unwrap_or("")
    }

    fn metadata_field(&self, key: &str) -> Option<&str> {
        self.object
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
    }

    /// `apiVersion`, e.g. `v1`.
    pub fn api_version(&self) -> &str {
        self.str_field("apiVersion")
    }

    /// `kind`, e.g. `ServiceAccount`.
    pub fn kind(&self) -> &str {
        self.str_field("kind")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata_field("name").unwrap_or("")
    }

    /// `metadata.namespace`, if the manifest pins one (resource-dispatcher applies manifests
    /// without one to every target namespace).
    pub fn namespace(&self) -> Option<&str> {
        self.metadata_field("namespace")
    }

    /// The whole object, keys in document order.
    pub fn as_object(&self) -> &Map<String, Value> {
        &self.object
    }

    /// Takes the object out.
    pub fn into_object(self) -> Map<String, Value> {
        self.object
    }

    /// The JSON text Python's `json.dumps` writes for this object (byte-exact).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_object(&mut out, &self.object);
        out
    }
}

/// Writes an object as `json.dumps` does without building a `Value::Object` around it (no copy).
pub(crate) fn write_object(out: &mut String, object: &Map<String, Value>) {
    out.push('{');
    for (i, (key, value)) in object.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&pyjson::dumps(&Value::String(key.clone())));
        out.push_str(": ");
        out.push_str(&pyjson::dumps(value));
    }
    out.push('}');
}

impl std::str::FromStr for KubernetesManifest {
    type Err = ManifestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KubernetesManifest::new(s)
    }
}

impl TryFrom<Value> for KubernetesManifest {
    type Error = ManifestError;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        KubernetesManifest::from_value(value)
    }
}

impl From<KubernetesManifest> for Value {
    fn from(manifest: KubernetesManifest) -> Value {
        Value::Object(manifest.object)
    }
}

impl fmt::Debug for KubernetesManifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("KubernetesManifest");
        s.field("apiVersion", &self.api_version())
            .field("kind", &self.kind());
        if let Some(ns) = self.namespace() {
            s.field("namespace", &ns);
        }
        s.field("name", &self.name()).finish_non_exhaustive()
    }
}

impl fmt::Display for KubernetesManifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.namespace() {
            Some(ns) => write!(f, "{} {}/{}", self.kind(), ns, self.name()),
            None => write!(f, "{} {}", self.kind(), self.name()),
        }
    }
}

impl Serialize for KubernetesManifest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.object.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for KubernetesManifest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        KubernetesManifest::from_value(value).map_err(serde::de::Error::custom)
    }
}

/// A Kubernetes manifest: an object with apiVersion, kind and metadata.name; every other key is
/// kept as sent.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
#[schemars(rename = "KubernetesManifest")]
struct ManifestShape {
    /// `apiVersion`, e.g. `v1`.
    #[serde(rename = "apiVersion")]
    api_version: String,
    /// `kind`, e.g. `ServiceAccount`.
    kind: String,
    /// At least `name`.
    metadata: MetadataShape,
}

/// `metadata` of a manifest.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
#[schemars(rename = "ObjectMeta")]
struct MetadataShape {
    /// Object name.
    name: String,
    /// Namespace; without one, resource-dispatcher applies the object to every target namespace.
    namespace: Option<String>,
}

impl schemars::JsonSchema for KubernetesManifest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        ManifestShape::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ManifestShape::json_schema(generator)
    }
}

#[cfg(test)]
#[path = "manifest_test.rs"]
mod tests;
