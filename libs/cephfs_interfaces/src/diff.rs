//! Change detection between two snapshots of a bag (the Python library's `_eval`).

use crate::wire::Snapshot;
use std::collections::BTreeSet;

/// What changed between the last snapshot and the bag as it is now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// Keys that are new.
    pub added: BTreeSet<String>,
    /// Keys that are new or whose value changed (as in the Python library, this includes `added`).
    pub changed: BTreeSet<String>,
    /// Keys that are gone.
    pub deleted: BTreeSet<String>,
}

impl Transaction {
    /// Compares the old snapshot with the new one.
    pub fn between(old: &Snapshot, new: &Snapshot) -> Transaction {
        let added: BTreeSet<String> = new
            .keys()
            .filter(|k| !old.contains_key(*k))
            .cloned()
            .collect();
        let deleted = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        let changed = new
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect();
        Transaction {
            added,
            changed,
            deleted,
        }
    }

    /// Whether any of `keys` is in `changed`.
    pub fn changed_any(&self, keys: &[&str]) -> bool {
        keys.iter().any(|k| self.changed.contains(*k))
    }

    /// Whether nothing was added, changed or deleted.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.deleted.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(pairs: &[(&str, &str)]) -> Snapshot {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn changed_includes_added() {
        let t = Transaction::between(
            &snap(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &snap(&[("a", "1"), ("b", "20"), ("d", "4")]),
        );
        assert_eq!(t.added, BTreeSet::from(["d".to_string()]));
        assert_eq!(
            t.changed,
            BTreeSet::from(["b".to_string(), "d".to_string()])
        );
        assert_eq!(t.deleted, BTreeSet::from(["c".to_string()]));
        assert!(t.changed_any(&["x", "b"]));
        assert!(!t.changed_any(&["a", "c"]));
        assert!(!t.is_empty());
        assert!(Transaction::between(&snap(&[("a", "1")]), &snap(&[("a", "1")])).is_empty());
    }
}
