//! Notices: occurrences of something, identified by (user, type, key), with Pebble's repeat rules
//! and query filters (`types`, `keys`, `after`, user visibility).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::{duration, timefmt};

/// How long a notice lives after its last occurrence (Pebble's default `expire-after`).
pub(crate) const EXPIRE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most notices kept; beyond it the least recently repeated ones go first.
const MAX_NOTICES: usize = 10_000;

/// Notice types this daemon records or understands in filters.
pub(crate) const TYPES: [&str; 3] = ["custom", "change-update", "warning"];

/// One notice.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub id: u64,
    /// `None` is a public notice.
    pub user_id: Option<u32>,
    pub kind: String,
    pub key: String,
    pub first_occurred: SystemTime,
    pub last_occurred: SystemTime,
    pub last_repeated: SystemTime,
    pub occurrences: u64,
    pub last_data: BTreeMap<String, String>,
    pub repeat_after: Option<Duration>,
    pub expire_after: Duration,
}

impl Notice {
    /// The notice as `GET /v1/notices` shows it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id.to_string()));
        m.insert("user-id".into(), json!(self.user_id));
        m.insert("type".into(), json!(self.kind));
        m.insert("key".into(), json!(self.key));
        m.insert(
            "first-occurred".into(),
            json!(timefmt::rfc3339_nanos(self.first_occurred)),
        );
        m.insert(
            "last-occurred".into(),
            json!(timefmt::rfc3339_nanos(self.last_occurred)),
        );
        m.insert(
            "last-repeated".into(),
            json!(timefmt::rfc3339_nanos(self.last_repeated)),
        );
        m.insert("occurrences".into(), json!(self.occurrences));
        if !self.last_data.is_empty() {
            m.insert("last-data".into(), json!(self.last_data));
        }
        if let Some(r) = self.repeat_after.filter(|r| !r.is_zero()) {
            m.insert("repeat-after".into(), json!(duration::format(r)));
        }
        m.insert(
            "expire-after".into(),
            json!(duration::format(self.expire_after)),
        );
        Value::Object(m)
    }

    fn expired(&self, now: SystemTime) -> bool {
        now.duration_since(self.last_occurred)
            .is_ok_and(|age| age > self.expire_after)
    }
}

/// Which notices a query wants.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// `Some(uid)`: that user's notices plus public ones; `None`: every notice.
    pub user_id: Option<u32>,
    /// Empty means any type.
    pub types: Vec<String>,
    /// Empty means any key.
    pub keys: Vec<String>,
    /// Only notices repeated strictly after this time.
    pub after: Option<SystemTime>,
}

impl Filter {
    fn matches(&self, n: &Notice) -> bool {
        if let Some(uid) = self.user_id
            && n.user_id.is_some_and(|owner| owner != uid)
        {
            return false;
        }
        if !self.types.is_empty() && !self.types.contains(&n.kind) {
            return false;
        }
        if !self.keys.is_empty() && !self.keys.contains(&n.key) {
            return false;
        }
        if let Some(after) = self.after
            && n.last_repeated <= after
        {
            return false;
        }
        true
    }
}

/// Every notice of the daemon.
#[derive(Debug, Default)]
pub(crate) struct Notices {
    by_id: BTreeMap<u64, Notice>,
    index: HashMap<(Option<u32>, String, String), u64>,
    last_id: u64,
}

/// What recording an occurrence did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub id: u64,
    /// New or repeated (its `last-repeated` moved): long-pollers and Juju see it again.
    pub repeated: bool,
    pub occurrences: u64,
}

impl Notices {
    /// Records one occurrence, with Pebble's rules: a new notice gets a new id; a known one
    /// counts the occurrence, replaces `last-data` and `repeat-after`, and moves
    /// `last-repeated` only when `repeat-after` is unset or has elapsed.
    pub fn record(
        &mut self,
        user_id: Option<u32>,
        kind: &str,
        key: &str,
        data: BTreeMap<String, String>,
        repeat_after: Option<Duration>,
        now: SystemTime,
    ) -> Recorded {
        self.prune(now);
        let index_key = (user_id, kind.to_string(), key.to_string());
        if let Some(id) = self.index.get(&index_key).copied()
            && let Some(n) = self.by_id.get_mut(&id)
        {
            n.occurrences += 1;
            n.last_occurred = now;
            n.last_data = data;
            n.repeat_after = repeat_after;
            let repeat = match repeat_after.filter(|r| !r.is_zero()) {
                None => true,
                Some(r) => now.duration_since(n.last_repeated).is_ok_and(|d| d >= r),
            };
            if repeat {
                n.last_repeated = now;
            }
            return Recorded {
                id,
                repeated: repeat,
                occurrences: n.occurrences,
            };
        }
        self.last_id += 1;
        let id = self.last_id;
        self.by_id.insert(
            id,
            Notice {
                id,
                user_id,
                kind: kind.to_string(),
                key: key.to_string(),
                first_occurred: now,
                last_occurred: now,
                last_repeated: now,
                occurrences: 1,
                last_data: data,
                repeat_after,
                expire_after: EXPIRE_AFTER,
            },
        );
        self.index.insert(index_key, id);
        self.enforce_cap();
        Recorded {
            id,
            repeated: true,
            occurrences: 1,
        }
    }

    /// The notices a filter selects, sorted by `last-repeated` (then id).
    pub fn query(&self, filter: &Filter, now: SystemTime) -> Vec<&Notice> {
        let mut out: Vec<&Notice> = self
            .by_id
            .values()
            .filter(|n| !n.expired(now) && filter.matches(n))
            .collect();
        out.sort_by_key(|n| (n.last_repeated, n.id));
        out
    }

    /// One notice by id (expired ones are gone).
    pub fn get(&self, id: &str, now: SystemTime) -> Option<&Notice> {
        let id: u64 = id.parse().ok()?;
        self.by_id.get(&id).filter(|n| !n.expired(now))
    }

    fn prune(&mut self, now: SystemTime) {
        let expired: Vec<u64> = self
            .by_id
            .values()
            .filter(|n| n.expired(now))
            .map(|n| n.id)
            .collect();
        for id in expired {
            self.remove(id);
        }
    }

    fn enforce_cap(&mut self) {
        while self.by_id.len() > MAX_NOTICES {
            let Some(oldest) = self
                .by_id
                .values()
                .min_by_key(|n| (n.last_repeated, n.id))
                .map(|n| n.id)
            else {
                return;
            };
            self.remove(oldest);
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(n) = self.by_id.remove(&id) {
            self.index.remove(&(n.user_id, n.kind, n.key));
        }
    }
}

/// Checks a custom notice key: `domain.tld/path`, lower-case, at most 256 bytes.
pub(crate) fn valid_custom_key(key: &str) -> bool {
    // ^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+(/[a-z0-9]+(-[a-z0-9]+)*)+$
    fn word(s: &str) -> bool {
        !s.is_empty()
            && s.split('-').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    }
    let Some((domain, path)) = key.split_once('/') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2 && labels.iter().all(|l| word(l)) && path.split('/').all(word)
}

#[cfg(test)]
#[path = "notices_test.rs"]
mod tests;
