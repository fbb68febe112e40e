//! Notices: what Juju turns into `pebble-custom-notice` and check hooks; and custom notices a
//! charm records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::GoDuration;
use crate::wire::{null_default, wire_enum};

wire_enum! {
    /// `type` of a notice.
    pub enum NoticeType {
        /// Recorded by a client (`POST /v1/notices`).
        Custom = "custom",
        /// A change was spawned or changed status; key = change ID.
        ChangeUpdate = "change-update",
        /// A warning from Pebble.
        Warning = "warning",
    }
}

/// A notice (`GET /v1/notices[/{id}]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Notice {
    /// Opaque ID (decimal text).
    pub id: String,
    /// The UID it belongs to; `None` = public. Always present on the wire.
    pub user_id: Option<u32>,
    /// Its type.
    #[serde(rename = "type")]
    pub notice_type: NoticeType,
    /// Its key (`example.com/path` for custom notices; a change ID for change-update).
    pub key: String,
    /// First occurrence, RFC 3339 with nanoseconds.
    pub first_occurred: String,
    /// Latest occurrence.
    pub last_occurred: String,
    /// Latest occurrence that counted as a repeat (what `after` filters on).
    pub last_repeated: String,
    /// Number of occurrences.
    pub occurrences: u64,
    /// Data of the latest occurrence.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub last_data: BTreeMap<String, String>,
    /// Minimum time between repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_after: Option<GoDuration>,
    /// How long after its last occurrence it is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after: Option<GoDuration>,
}

/// Whose notices `GET /v1/notices` returns, beyond the default (the caller's and public ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeUsers {
    /// `users=all` (admin only).
    All,
    /// `user-id=<uid>` (admin only).
    Uid(u32),
}

/// The query of `GET /v1/notices`. Empty lists do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticesFilter {
    /// Whose notices.
    pub users: Option<NoticeUsers>,
    /// Only these types.
    pub types: Vec<NoticeType>,
    /// Only these keys.
    pub keys: Vec<String>,
    /// Only notices repeated strictly after this RFC 3339 time.
    pub after: Option<String>,
    /// Long-poll: wait up to this long for a matching notice.
    pub timeout: Option<GoDuration>,
}

impl NoticesFilter {
    /// The query pairs, in this order: `users`/`user-id`, `types`, `keys`, `after`, `timeout`
    /// (lists comma-joined, as ops sends them).
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        match &self.users {
            Some(NoticeUsers::All) => q.push(("users", "all".to_string())),
            Some(NoticeUsers::Uid(uid)) => q.push(("user-id", uid.to_string())),
            None => {}
        }
        if !self.types.is_empty() {
            let types: Vec<&str> = self.types.iter().map(NoticeType::as_str).collect();
            q.push(("types", types.join(",")));
        }
        if !self.keys.is_empty() {
            q.push(("keys", self.keys.join(",")));
        }
        if let Some(after) = &self.after {
            q.push(("after", after.clone()));
        }
        if let Some(timeout) = &self.timeout {
            q.push(("timeout", timeout.to_string()));
        }
        q
    }
}

/// Body of `POST /v1/notices`: record a custom notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct NoticeRequest {
    /// Always `add`.
    pub action: String,
    /// Only `custom` may be added.
    #[serde(rename = "type")]
    pub notice_type: NoticeType,
    /// `domain.tld/path`, lowercase, at most 256 bytes.
    pub key: String,
    /// Minimum time between repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_after: Option<GoDuration>,
    /// String data, at most 4 KiB as JSON.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub data: BTreeMap<String, String>,
}

/// Result of `POST /v1/notices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeAdded {
    /// The notice's ID.
    pub id: String,
}

/// The longest custom notice key Pebble accepts, in bytes.
pub const MAX_NOTICE_KEY_LEN: usize = 256;

/// Whether `key` is a valid custom notice key: `^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+(/[a-z0-9]+(-[a-z0-9]+)*)+$`
/// and at most [`MAX_NOTICE_KEY_LEN`] bytes.
pub fn is_valid_notice_key(key: &str) -> bool {
    fn is_label(s: &str) -> bool {
        // [a-z0-9]+(-[a-z0-9]+)*
        !s.is_empty()
            && s.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    }
    if key.len() > MAX_NOTICE_KEY_LEN {
        return false;
    }
    let Some((domain, path)) = key.split_once('/') else {
        return false;
    };
    let mut labels = domain.split('.');
    let first_ok = labels.next().is_some_and(is_label);
    let rest: Vec<&str> = labels.collect();
    first_ok
        && !rest.is_empty()
        && rest.iter().all(|l| is_label(l))
        && path.split('/').all(is_label)
}
