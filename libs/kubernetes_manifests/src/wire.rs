//! The whole wire contract of the `kubernetes_manifest` interface, in one place.
//!
//! Data flows one way, requirer → provider, through the requirer's **application** bag:
//!
//! | key | secret mode (LIBPATCH 2, what we write) | plain mode (LIBPATCH 1, still read) |
//! | --- | --- | --- |
//! | `kubernetes_manifests` | the URI of a Juju secret | JSON text: the list of manifest objects |
//! | `is_secret` | `"true"` | absent (anything but exactly `"true"` means plain) |
//!
//! The secret is owned by the requirer application, one per relation, labelled
//! `manifest.<requirer endpoint>.<relation id>`, granted to the relation, with the single content key
//! `manifests` holding the JSON text of the list. The provider writes nothing; it labels the
//! secrets it receives `manifest.<provider endpoint>.<relation id>` on its side.
//!
//! JSON text is written as Python's `json.dumps` writes it (separators `", "` and `": "`, non-ASCII
//! escaped), so a Python provider reads exactly the bytes a Python requirer would have sent.

use crate::manifest::{KubernetesManifest, ManifestError, json_type, write_object};
use charm::secret::{InvalidSecretId, SecretContent, SecretId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Requirer app-bag key: the secret URI (secret mode) or the JSON list (plain mode).
pub const KUBERNETES_MANIFESTS_FIELD: &str = "kubernetes_manifests";
/// Requirer app-bag key: `"true"` in secret mode.
pub const IS_SECRET_FIELD: &str = "is_secret";
/// The only value of [`IS_SECRET_FIELD`] that means secret mode.
pub const IS_SECRET_TRUE: &str = "true";
/// The secret's content key.
pub const MANIFESTS_SECRET_KEY: &str = "manifests";
/// Most bytes of JSON text one relation can carry: Juju's limit for a secret value.
pub const MAX_MANIFESTS_BYTES: usize = 1_000_000;

/// The requirer's application bag.
// `Debug` leaves out the manifests themselves: the plain form carries them, and they may include
// Secret objects.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("required" = ["kubernetes_manifests"]))]
pub struct RequirerAppBag {
    /// The URI of the secret holding the manifests when `is_secret` is `"true"`; otherwise
    /// (LIBPATCH 1) the JSON text of the list of manifest objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub kubernetes_manifests: Option<String>,
    /// `"true"`: the manifests are in the secret. Absent in the LIBPATCH 1 plain form; readers treat
    /// any other value as plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("enum" = ["true"]))]
    pub is_secret: Option<String>,
}

/// The provider's application bag: the provider sends nothing on this interface.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("properties" = {}, "additionalProperties" = false))]
pub struct ProviderAppBag {}

/// The content of the requirer's secret.
// `Debug` shows only the text's size.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestsSecretContent {
    /// JSON text (Python `json.dumps`): the list of manifest objects.
    #[schemars(with = "String")]
    pub manifests: String,
}

/// What a requirer's bag says about where its manifests are (`Debug` shows the plain text's size
/// only).
#[derive(Clone, PartialEq, Eq)]
pub enum RequirerData {
    /// Nothing sent yet (plain mode with no list reads as an empty list).
    Empty,
    /// Secret mode without the secret's URI.
    SecretWithoutId,
    /// Secret mode: the manifests are in this secret.
    Secret {
        /// The secret the requirer named (`secret:<id>` or `secret://<model>/<id>`).
        id: SecretId,
    },
    /// Secret mode, but `kubernetes_manifests` is not a secret id Juju produces (it never
    /// reaches a hook tool).
    BadSecretId(InvalidSecretId),
    /// Plain mode (LIBPATCH 1): the JSON text of the list.
    Plain {
        /// The JSON text.
        json: String,
        /// The `is_secret` value, if one was sent that is not `"true"`.
        is_secret: Option<String>,
    },
}

impl RequirerAppBag {
    /// The bag a requirer writes in secret mode.
    pub fn secret(id: &SecretId) -> Self {
        RequirerAppBag {
            kubernetes_manifests: Some(id.uri()),
            is_secret: Some(IS_SECRET_TRUE.to_string()),
        }
    }

    /// Whether the bag is in secret mode (`is_secret` exactly `"true"`, as the Python provider checks).
    pub fn is_secret_mode(&self) -> bool {
        self.is_secret.as_deref() == Some(IS_SECRET_TRUE)
    }

    /// Where the manifests are.
    pub fn data(&self) -> RequirerData {
        self.clone().into_data()
    }

    /// Where the manifests are, without copying the text.
    pub fn into_data(self) -> RequirerData {
        let secret_mode = self.is_secret_mode();
        match (secret_mode, self.kubernetes_manifests) {
            (true, Some(uri)) if !uri.trim().is_empty() => match SecretId::parse(uri.trim()) {
                Ok(id) => RequirerData::Secret { id },
                Err(e) => RequirerData::BadSecretId(e),
            },
            (true, _) => RequirerData::SecretWithoutId,
            (false, None) => RequirerData::Empty,
            (false, Some(json)) => RequirerData::Plain {
                json,
                is_secret: self.is_secret,
            },
        }
    }
}

impl fmt::Debug for RequirerAppBag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match (self.is_secret_mode(), &self.kubernetes_manifests) {
            (true, Some(uri)) => uri.clone(),
            (_, None) => "<absent>".to_string(),
            (false, Some(text)) => format!("<{} bytes>", text.len()),
        };
        f.debug_struct("RequirerAppBag")
            .field("kubernetes_manifests", &shown)
            .field("is_secret", &self.is_secret)
            .finish()
    }
}

impl fmt::Debug for ManifestsSecretContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestsSecretContent")
            .field(
                "manifests",
                &format_args!("<{} bytes>", self.manifests.len()),
            )
            .finish()
    }
}

impl fmt::Debug for RequirerData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequirerData::Empty => f.write_str("Empty"),
            RequirerData::SecretWithoutId => f.write_str("SecretWithoutId"),
            RequirerData::Secret { id } => f.debug_struct("Secret").field("id", id).finish(),
            RequirerData::BadSecretId(e) => f.debug_tuple("BadSecretId").field(e).finish(),
            RequirerData::Plain { json, is_secret } => f
                .debug_struct("Plain")
                .field("json", &format_args!("<{} bytes>", json.len()))
                .field("is_secret", is_secret)
                .finish(),
        }
    }
}

impl ManifestsSecretContent {
    /// The secret content to write.
    pub fn to_content(&self) -> SecretContent {
        SecretContent::new().with(MANIFESTS_SECRET_KEY, self.manifests.clone())
    }

    /// Reads received content. A missing key reads as an empty list, as the Python provider does.
    pub fn from_content(content: &SecretContent) -> Self {
        ManifestsSecretContent {
            manifests: content
                .get(MANIFESTS_SECRET_KEY)
                .unwrap_or("[]")
                .to_string(),
        }
    }
}

/// The label of a manifests secret: `manifest.<endpoint>.<relation id>`, on either side.
pub fn secret_label(endpoint: &str, relation_id: u32) -> String {
    format!("manifest.{endpoint}.{relation_id}")
}

/// Splits a label of the form `manifest.<endpoint>.<relation id>` (the endpoint has no dot).
pub fn parse_secret_label(label: &str) -> Option<(&str, u32)> {
    let rest = label.strip_prefix("manifest.")?;
    let (endpoint, id) = rest.split_once('.')?;
    if endpoint.is_empty() || id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((endpoint, id.parse().ok()?))
}

/// The relation id of `label` if it is a manifests label of exactly this endpoint.
pub fn label_relation_id(label: &str, endpoint: &str) -> Option<u32> {
    match parse_secret_label(label) {
        Some((e, id)) if e == endpoint => Some(id),
        _ => None,
    }
}

/// Writes a list of manifests as Python's `json.dumps(list)` does.
pub fn encode_manifest_list(items: &[KubernetesManifest]) -> String {
    let mut out = String::with_capacity(items.len() * 128 + 2);
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_object(&mut out, item.as_object());
    }
    out.push(']');
    out
}

/// Why received JSON text is not a list of manifests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// Not JSON at all.
    #[error("invalid JSON at line {line}, column {column}: {detail}")]
    InvalidJson {
        /// Line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
        /// What the parser found.
        detail: String,
    },
    /// JSON, but not a list (the Python provider would `extend` with a dict's keys or a string's
    /// characters).
    #[error("expected a JSON list of manifests, found {found}")]
    NotAList {
        /// What it is.
        found: &'static str,
    },
    /// An item that is not an object.
    #[error("item {index} is {found}, not a manifest object")]
    NotAnObject {
        /// 0-based index in the list.
        index: usize,
        /// What it is.
        found: &'static str,
    },
    /// An object that is not a Kubernetes manifest.
    #[error("item {index}: {source}")]
    InvalidManifest {
        /// 0-based index in the list.
        index: usize,
        /// What is wrong.
        source: ManifestError,
    },
}

/// Reads JSON text holding a list of manifest objects.
pub fn decode_manifest_list(text: &str) -> Result<Vec<KubernetesManifest>, ListError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ListError::InvalidJson {
        line: e.line(),
        column: e.column(),
        detail: json_error_detail(&e),
    })?;
    let Value::Array(items) = value else {
        return Err(ListError::NotAList {
            found: json_type(&value),
        });
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(_) => KubernetesManifest::from_value(item)
                .map_err(|source| ListError::InvalidManifest { index, source }),
            other => Err(ListError::NotAnObject {
                index,
                found: json_type(&other),
            }),
        })
        .collect()
}

/// serde_json's message without its " at line L column C" suffix (we report the position apart).
fn json_error_detail(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(pos) => text[..pos].to_string(),
        None => text,
    }
}

#[cfg(test)]
#[path = "wire_test.rs"]
mod tests;
