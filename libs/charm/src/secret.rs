//! Juju secrets: validated ids, content that never shows in logs, and the arguments of the
//! secret hook tools.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A Juju secret id, in one of the forms Juju produces: `secret:<xid>`,
/// `secret://<model-uuid>/<xid>`, or the bare `<xid>` (an xid is 20 characters of lowercase
/// base32hex, `[0-9a-v]`; the model UUID is lowercase hex `8-4-4-4-12`).
///
/// Every secret hook-tool call takes this type, so text from outside (a databag, config, an
/// action parameter) reaches a hook tool's argv only after [`SecretId::parse`] accepted it: it
/// can never start with `-` and be read as an option. It (de)serializes as its URI, and a
/// databag field of this type that holds anything else fails to decode naming its key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretId {
    /// `secret:<xid>` or `secret://<model-uuid>/<xid>`: the xid is always the last 20 bytes.
    uri: String,
}

/// Text that is not a secret id Juju would produce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{shown} is not a Juju secret id (secret:<20-character id> or secret://<model-uuid>/<20-character id>): {why}"
)]
pub struct InvalidSecretId {
    /// The text, quoted and shortened for messages.
    pub shown: String,
    /// Which rule it breaks.
    pub why: &'static str,
}

/// Longest excerpt of a rejected id kept in [`InvalidSecretId`].
const SHOWN_CHARS: usize = 60;

/// Whether `s` is an xid: 20 characters of lowercase base32hex (`[0-9a-v]`), as Juju's
/// `xid.FromString` accepts.
pub fn is_xid(s: &str) -> bool {
    s.len() == 20
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
}

/// Whether `s` is a lowercase hyphenated UUID (`8-4-4-4-12` hex digits), as Juju writes model UUIDs.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

impl SecretId {
    /// Accepts `secret:<xid>`, `secret://<model-uuid>/<xid>` and `<xid>`; nothing else.
    pub fn parse(text: &str) -> Result<SecretId, InvalidSecretId> {
        let fail = |why| {
            let mut shown: String = text.chars().take(SHOWN_CHARS).collect();
            if shown.len() < text.len() {
                shown.push_str("...");
            }
            InvalidSecretId {
                shown: format!("{shown:?}"),
                why,
            }
        };
        if text.starts_with('-') {
            return Err(fail("it starts with '-'"));
        }
        let (model, xid) = match text.strip_prefix("secret:") {
            Some(rest) => match rest.strip_prefix("//") {
                Some(path) => {
                    let (model, xid) = path
                        .split_once('/')
                        .ok_or_else(|| fail("secret://<model-uuid>/<id> needs both parts"))?;
                    if !is_uuid(model) {
                        return Err(fail("the model part is not a lowercase UUID"));
                    }
                    (Some(model), xid)
                }
                None => (None, rest),
            },
            None => (None, text),
        };
        if xid.is_empty() {
            return Err(fail("the id is empty"));
        }
        if !is_xid(xid) {
            return Err(fail("the id is not 20 characters of 0-9 and a-v"));
        }
        Ok(SecretId {
            uri: match model {
                Some(model) => format!("secret://{model}/{xid}"),
                None => format!("secret:{xid}"),
            },
        })
    }

    /// The unique part (the xid): equal for the same secret whatever form named it.
    pub fn unique(&self) -> &str {
        &self.uri[self.uri.len() - 20..]
    }

    /// The model UUID, when the id carries one.
    pub fn model_uuid(&self) -> Option<&str> {
        self.uri
            .strip_prefix("secret://")
            .and_then(|rest| rest.split_once('/'))
            .map(|(model, _)| model)
    }

    /// Whether both name the same secret (compares the unique part only).
    pub fn same_secret(&self, other: &SecretId) -> bool {
        self.unique() == other.unique()
    }

    /// The URI, as hook tools take it: `secret:<xid>` or `secret://<model-uuid>/<xid>`.
    pub fn uri(&self) -> String {
        self.uri.clone()
    }

    /// The URI, borrowed.
    pub fn as_str(&self) -> &str {
        &self.uri
    }
}

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

impl fmt::Debug for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretId({self})")
    }
}

impl FromStr for SecretId {
    type Err = InvalidSecretId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecretId::parse(s)
    }
}

impl TryFrom<&str> for SecretId {
    type Error = InvalidSecretId;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        SecretId::parse(s)
    }
}

impl TryFrom<String> for SecretId {
    type Error = InvalidSecretId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        SecretId::parse(&s)
    }
}

impl Serialize for SecretId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SecretId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SecretId::parse(&text).map_err(serde::de::Error::custom)
    }
}

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
    /// The secret.
    pub id: SecretId,
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
#[path = "secret_test.rs"]
mod tests;
