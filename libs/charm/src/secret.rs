//! Juju secrets: content that never shows in logs, and the arguments of the secret hook tools.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The key/value content of a secret. Its `Debug` output shows the keys only, never the values.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretContent(BTreeMap<String, String>);

impl SecretContent {
    /// Empty content.
    pub fn new() -> Self {
        SecretContent::default()
    }

    /// Adds a key (builder style).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Sets a key.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// One value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Every key and value, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks every key against Juju's rule (`^[a-z](-?[a-z0-9]){2,}$`).
    pub fn validate(&self) -> Result<(), InvalidSecretKey> {
        match self.0.keys().find(|k| !valid_key(k)) {
            Some(bad) => Err(InvalidSecretKey(bad.clone())),
            None => Ok(()),
        }
    }
}

impl From<BTreeMap<String, String>> for SecretContent {
    fn from(map: BTreeMap<String, String>) -> Self {
        SecretContent(map)
    }
}

impl fmt::Debug for SecretContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

/// A secret content key Juju would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid secret content key {0:?}: keys are 3+ characters of a-z, 0-9 and single dashes, starting with a letter"
)]
pub struct InvalidSecretKey(pub String);

/// Juju's secret key rule, without a regex: `^[a-z](-?[a-z0-9]){2,}$`.
pub fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_lowercase) {
        return false;
    }
    let mut groups = 0;
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'-' {
            i += 1;
        }
        match bytes.get(i) {
            Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => groups += 1,
            _ => return false,
        }
        i += 1;
    }
    groups >= 2
}

/// Who owns a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SecretOwner {
    /// The application: only its leader manages it.
    #[default]
    Application,
    /// The unit that created it.
    Unit,
}

impl SecretOwner {
    /// The word `secret-add --owner` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretOwner::Application => "application",
            SecretOwner::Unit => "unit",
        }
    }
}

/// How often Juju asks the owner to rotate a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum RotatePolicy {
    Never,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
}

impl RotatePolicy {
    /// The word the hook tools take.
    pub fn as_str(self) -> &'static str {
        match self {
            RotatePolicy::Never => "never",
            RotatePolicy::Hourly => "hourly",
            RotatePolicy::Daily => "daily",
            RotatePolicy::Weekly => "weekly",
            RotatePolicy::Monthly => "monthly",
            RotatePolicy::Quarterly => "quarterly",
            RotatePolicy::Yearly => "yearly",
        }
    }

    /// Parses the hook tools' word.
    pub fn parse(word: &str) -> Option<RotatePolicy> {
        Some(match word {
            "never" => RotatePolicy::Never,
            "hourly" => RotatePolicy::Hourly,
            "daily" => RotatePolicy::Daily,
            "weekly" => RotatePolicy::Weekly,
            "monthly" => RotatePolicy::Monthly,
            "quarterly" => RotatePolicy::Quarterly,
            "yearly" => RotatePolicy::Yearly,
            _ => return None,
        })
    }
}

/// Everything `secret-add` takes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewSecret {
    /// The content (at least one key).
    pub content: SecretContent,
    /// The owner's label.
    pub label: Option<String>,
    /// A description for humans.
    pub description: Option<String>,
    /// When the secret expires: RFC3339, `2006-01-02T15:04:05`, or a Go duration such as `24h`.
    pub expire: Option<String>,
    /// Rotation policy.
    pub rotate: Option<RotatePolicy>,
    /// Owner: the application (default) or this unit.
    pub owner: SecretOwner,
}

/// Everything `secret-set` can change; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretUpdate {
    /// New content: creates a new revision.
    pub content: Option<SecretContent>,
    /// New owner label.
    pub label: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New expiry.
    pub expire: Option<String>,
    /// New rotation policy.
    pub rotate: Option<RotatePolicy>,
}

/// Which revision `secret-get` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretRead {
    /// The tracked revision (the latest on first read, which starts tracking it).
    #[default]
    Tracked,
    /// The latest revision, without changing what is tracked.
    Peek,
    /// The latest revision, and track it from now on.
    Refresh,
}

/// What `secret-info-get` reports (owner only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretInfo {
    /// The secret URI, `secret:<id>`.
    pub id: String,
    /// Latest revision.
    pub revision: u32,
    /// Owner's label.
    pub label: Option<String>,
    /// Owner.
    pub owner: SecretOwner,
    /// Description.
    pub description: Option<String>,
    /// Expiry time (RFC3339).
    pub expiry: Option<String>,
    /// Rotation policy.
    pub rotation: Option<RotatePolicy>,
    /// Next rotation time (RFC3339).
    pub rotates: Option<String>,
}

/// The unique part of a secret URI: `secret:abc`, `secret://uuid/abc` and `abc` all give `abc`.
pub fn unique_id(uri: &str) -> &str {
    let rest = uri.strip_prefix("secret:").unwrap_or(uri);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.rsplit('/').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rule_matches_juju() {
        for good in [
            "abc",
            "a-b-c",
            "key",
            "manifests",
            "access-key",
            "a1b",
            "a-1-2",
        ] {
            assert!(valid_key(good), "{good}");
        }
        for bad in [
            "", "ab", "Abc", "1ab", "a--b", "ab-", "-ab", "a_bc", "a b", "a-b",
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
        let content = SecretContent::new().with("good-key", "v").with("Bad", "v");
        assert_eq!(content.validate(), Err(InvalidSecretKey("Bad".into())));
    }

    #[test]
    fn debug_never_shows_values() {
        let content = SecretContent::new().with("password", "hunter2");
        let shown = format!("{content:?}");
        assert!(shown.contains("password"));
        assert!(!shown.contains("hunter2"));
        let new = NewSecret {
            content,
            ..Default::default()
        };
        assert!(!format!("{new:?}").contains("hunter2"));
    }

    #[test]
    fn unique_ids() {
        assert_eq!(unique_id("secret:cuf6k1"), "cuf6k1");
        assert_eq!(unique_id("secret://4f2b-uuid/cuf6k1"), "cuf6k1");
        assert_eq!(unique_id("cuf6k1"), "cuf6k1");
    }
}
