//! What printed output hides: the one rule for the story (`scenario --story`), `timeline` and
//! `run`, in text and JSON alike, lifted by `--reveal`.
//!
//! A value is a credential when its key is one (built-in names, plus the scenario's `redact:`
//! patterns), when it is a `plain:` auth (cephfs_share providers without secrets send the cephx
//! key that way), or when it is JSON that holds one of those (the `cache`/`data` copies a library
//! keeps of the remote bag). Such values print as `<redacted, N chars>`. Secret content never
//! reaches the timeline at all: `secret-add`/`secret-set` arguments are redacted when the tool
//! records them.

use serde_json::Value;

use crate::timeline::{CharmEvent, HookRecord, ToolCall};

/// Which values printed output hides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redaction {
    patterns: Vec<String>,
    reveal: bool,
}

impl Redaction {
    /// Hides credentials by the built-in rules and these key patterns (`*` matches any run of
    /// characters, e.g. `mirror-*`).
    pub fn new(patterns: Vec<String>) -> Self {
        Redaction {
            patterns,
            reveal: false,
        }
    }

    /// Shows everything (`--reveal`).
    pub fn reveal_all() -> Self {
        Redaction {
            patterns: Vec::new(),
            reveal: true,
        }
    }

    /// Whether `value`, found under `key`, is hidden. A dotted key (`creds.secret-key`, as in
    /// action results) is judged by its last part.
    pub fn hides(&self, key: &str, value: &str) -> bool {
        if self.reveal {
            return false;
        }
        let leaf = key.rsplit('.').next().unwrap_or(key);
        is_sensitive_key(leaf, &self.patterns) || self.is_credential_value(value)
    }

    /// `value` as printed under `key`: itself, or `<redacted, N chars>`.
    pub fn show<'v>(&self, key: &str, value: &'v str) -> std::borrow::Cow<'v, str> {
        if self.hides(key, value) {
            mask(value).into()
        } else {
            value.into()
        }
    }

    /// A hook-tool call with its `key=value` arguments redacted.
    pub fn tool_call(&self, call: &ToolCall) -> ToolCall {
        let args = call
            .args
            .iter()
            .map(|arg| match arg.split_once('=') {
                Some((key, value)) if !key.starts_with('-') && self.hides(key, value) => {
                    format!("{key}={}", mask(value))
                }
                _ => arg.clone(),
            })
            .collect();
        ToolCall {
            args,
            ..call.clone()
        }
    }

    /// A library event with its credential fields redacted.
    pub fn event(&self, event: &CharmEvent) -> CharmEvent {
        let mut fields = event.fields.clone();
        self.json_in_place("", &mut fields);
        CharmEvent {
            event: event.event.clone(),
            fields,
        }
    }

    /// A timeline record with every credential value redacted (the JSON output).
    pub fn record(&self, record: &HookRecord) -> HookRecord {
        let mut out = record.clone();
        for change in &mut out.changes {
            if let crate::timeline::Change::Bag { key, old, new, .. } = change {
                for value in [old, new].into_iter().flatten() {
                    if self.hides(key, value) {
                        *value = mask(value);
                    }
                }
            }
        }
        out.tools = record.tools.iter().map(|t| self.tool_call(t)).collect();
        out.events = record.events.iter().map(|e| self.event(e)).collect();
        out
    }

    /// Replaces credential strings inside a JSON value, found under `key`.
    fn json_in_place(&self, key: &str, value: &mut Value) {
        match value {
            Value::String(s) if self.hides(key, s) => *s = mask(s),
            Value::Array(items) => {
                for item in items {
                    self.json_in_place(key, item);
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if !v.is_string() && !v.is_null() && self.hides_key(k) {
                        // A credential key hides whatever it holds, a number or an object too.
                        *v = Value::String(mask(&v.to_string()));
                    } else {
                        self.json_in_place(k, v);
                    }
                }
            }
            _ => {}
        }
    }

    fn hides_key(&self, key: &str) -> bool {
        !self.reveal && is_sensitive_key(key, &self.patterns)
    }

    /// A `plain:` auth, or JSON text holding a credential anywhere inside.
    fn is_credential_value(&self, value: &str) -> bool {
        let trimmed = value.trim_start();
        if trimmed.starts_with("plain:") {
            return true;
        }
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return false;
        }
        match serde_json::from_str::<Value>(trimmed) {
            Ok(json) => self.json_holds_credential("", &json),
            Err(_) => false,
        }
    }

    fn json_holds_credential(&self, key: &str, value: &Value) -> bool {
        match value {
            Value::String(s) => self.hides(key, s),
            Value::Array(items) => items.iter().any(|v| self.json_holds_credential(key, v)),
            Value::Object(map) => map.iter().any(|(k, v)| {
                (!v.is_null() && self.hides_key(k)) || self.json_holds_credential(k, v)
            }),
            _ => false,
        }
    }
}

/// How a hidden value prints.
fn mask(value: &str) -> String {
    format!("<redacted, {} chars>", value.chars().count())
}

/// Whether a key names a credential. Always true for `password`, `key`, names ending in
/// `-password` or `-key` (`secret-key`, `access-key`, `private-key`) and names containing `token`;
/// `extra` adds patterns (`*` matches any run of characters, e.g. `mirror-*`).
pub fn is_sensitive_key(key: &str, extra: &[String]) -> bool {
    let builtin = matches!(key, "password" | "key")
        || key.ends_with("-password")
        || key.ends_with("-key")
        || key.contains("token");
    builtin || extra.iter().any(|p| glob(p, key))
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_keys_and_globs() {
        assert!(is_sensitive_key("secret-key", &[]));
        assert!(is_sensitive_key("access-key", &[]));
        assert!(is_sensitive_key("key", &[]));
        assert!(is_sensitive_key("join-token", &[]));
        assert!(is_sensitive_key("db-password", &[]));
        assert!(!is_sensitive_key("bucket", &[]));
        assert!(!is_sensitive_key("keys", &[]));
        let extra = vec!["mirror-*".to_string(), "*-cert".to_string()];
        assert!(is_sensitive_key("mirror-node-1", &extra));
        assert!(!is_sensitive_key("mirror", &extra));
        assert!(is_sensitive_key("tls-cert", &extra));
    }

    #[test]
    fn values_are_judged_by_key_plain_prefix_and_json_content() {
        let r = Redaction::new(vec!["host".into()]);
        assert!(r.hides("secret-key", "x"));
        assert!(r.hides("creds.secret-key", "x"), "dotted action result key");
        assert!(r.hides("host", "db.local"), "scenario pattern");
        assert!(!r.hides("bucket", "b1"));
        // cephfs_share `auth` from a provider without secrets.
        assert!(r.hides("auth", r#"plain:{"username": "u", "key": "AQBx=="}"#));
        assert!(!r.hides("auth", "secret:d1k3m8fbo5jc738pq1ig"));
        // A library's cache of the remote bag, holding such an auth or an s3 key.
        assert!(r.hides(
            "cache",
            r#"{"auth": "plain:{\"username\": \"u\", \"key\": \"AQBx==\"}", "auth-rev": "1"}"#
        ));
        assert!(r.hides("data", r#"{"bucket": "b", "secret-key": "s3cr3t"}"#));
        assert!(r.hides("data", r#"{"nested": [{"password": 7}]}"#));
        assert!(!r.hides("data", r#"{"bucket": "b", "keys": ["a"]}"#));
        assert!(!r.hides("data", "{not json"));
        assert_eq!(r.show("password", "hunter2"), "<redacted, 7 chars>");
        assert_eq!(r.show("bucket", "b1"), "b1");
        let all = Redaction::reveal_all();
        assert!(!all.hides("secret-key", "x"));
        assert!(!all.hides("auth", "plain:{}"));
    }

    #[test]
    fn tool_arguments_and_event_fields() {
        let r = Redaction::default();
        let call = ToolCall {
            tool: "action-set".into(),
            args: vec![
                "answer=42".into(),
                "creds.secret-key=hunter2".into(),
                "--file".into(),
                "-".into(),
            ],
            exit: 0,
            micros: 1,
        };
        assert_eq!(
            r.tool_call(&call).args,
            [
                "answer=42",
                "creds.secret-key=<redacted, 7 chars>",
                "--file",
                "-"
            ]
        );
        let event = CharmEvent {
            event: "s3.credentials_changed".into(),
            fields: serde_json::json!({
                "bucket": "b", "secret-key": "abc", "list": [{"token": "t"}], "password": 1234
            }),
        };
        assert_eq!(
            r.event(&event).fields,
            serde_json::json!({
                "bucket": "b",
                "secret-key": "<redacted, 3 chars>",
                "list": [{"token": "<redacted, 1 chars>"}],
                "password": "<redacted, 4 chars>"
            })
        );
    }
}
