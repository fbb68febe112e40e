//! The mirror logic shared by both sides, as pure functions: corroboration, the consumer's view of
//! the distributor units, and the distributor's merge of what consumers publish.

use crate::wire::{MirrorEntries, MirrorFlag, MirrorValue, ProviderUnitBag, WireError};
use std::collections::BTreeMap;

/// The most frequent value of `items` that is not `default`, as the Python `corroborate` does.
///
/// - no items: `default`;
/// - one item: that item, even if it is `default`;
/// - otherwise the most frequent non-default item, ties going to the one seen first;
///   `default` when every item is `default`.
pub fn corroborate<T: PartialEq + Clone>(items: &[T], default: &T) -> T {
    match items {
        [] => default.clone(),
        [only] => only.clone(),
        _ => {
            // (value, count) in order of first occurrence.
            let mut counts: Vec<(&T, usize)> = Vec::new();
            for item in items.iter().filter(|i| *i != default) {
                match counts.iter_mut().find(|(v, _)| *v == item) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((item, 1)),
                }
            }
            let mut best: Option<(&T, usize)> = None;
            for (value, n) in counts {
                if best.is_none_or(|(_, b)| n > b) {
                    best = Some((value, n));
                }
            }
            best.map_or_else(|| default.clone(), |(v, _)| v.clone())
        }
    }
}

/// The number of a unit name (`app/7` is 7), for iterating units in a stable order.
pub fn unit_number(unit: &str) -> Option<u32> {
    unit.rsplit_once('/').and_then(|(_, n)| n.parse().ok())
}

/// Sorts unit names by unit number (then by name), so `app/10` comes after `app/9`.
pub fn sort_units(units: &mut [String]) {
    units.sort_by(|a, b| {
        (unit_number(a).unwrap_or(u32::MAX), a.as_str())
            .cmp(&(unit_number(b).unwrap_or(u32::MAX), b.as_str()))
    });
}

/// One distributor unit as a consumer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributorUnit {
    /// Its name, e.g. `microcluster-token-distributor/0`.
    pub name: String,
    /// What it publishes (a bad `mirror` flag left out).
    pub bag: ProviderUnitBag,
}

/// What a consumer sees of the distributor on one relation: its units, by unit number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorView {
    /// The distributor units, in unit-number order.
    pub units: Vec<DistributorUnit>,
    /// Problems in their bags, by unit name.
    pub problems: Vec<(String, WireError)>,
}

impl MirrorView {
    /// The units whose mirror is up (Python `find_mirrors`).
    pub fn mirrors(&self) -> impl Iterator<Item = &DistributorUnit> {
        self.units
            .iter()
            .filter(|u| u.bag.mirror == Some(MirrorFlag::Up))
    }

    /// Whether any distributor unit has its mirror up.
    pub fn any_mirror_up(&self) -> bool {
        self.mirrors().next().is_some()
    }

    /// The corroborated value for `node` among the mirrors (Python `find_value`).
    ///
    /// With `keep_empty` false the placeholder is not a value; `None` when nothing is found.
    pub fn find(&self, node: &str, keep_empty: bool) -> Option<MirrorValue> {
        let values: Vec<MirrorValue> = self
            .mirrors()
            .filter_map(|u| u.bag.entries.get(node))
            .filter(|v| keep_empty || !v.is_empty())
            .cloned()
            .collect();
        if values.is_empty() {
            return None;
        }
        Some(corroborate(&values, &MirrorValue::Empty))
    }

    /// Every node in the mirrors with its corroborated value (Python `get_relevant_mirror_data`).
    pub fn relevant(&self, keep_empty: bool) -> BTreeMap<String, MirrorValue> {
        let mut all: BTreeMap<String, Vec<MirrorValue>> = BTreeMap::new();
        for unit in self.mirrors() {
            for (node, value) in &unit.bag.entries.0 {
                if !keep_empty && value.is_empty() {
                    continue;
                }
                all.entry(node.clone()).or_default().push(value.clone());
            }
        }
        all.into_iter()
            .map(|(node, values)| {
                let value = corroborate(&values, &MirrorValue::Empty);
                (node, value)
            })
            .collect()
    }

    /// Whether any distributor unit, mirror up or not, holds a token (Python `any_data_exists`).
    pub fn any_data_exists(&self) -> bool {
        self.units.iter().any(|u| u.bag.entries.has_token())
    }
}

/// What the distributor leader publishes, merged from every relation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merged {
    /// The entries to publish on every relation.
    pub entries: MirrorEntries,
    /// Nodes that got a new placeholder.
    pub added: Vec<String>,
}

/// Merges the distributor's mirror (LIBPATCH 5-8 rules, with a stable order and one divergence):
///
/// 1. what the distributor already publishes, over all relations: a token beats the placeholder,
///    and between two different tokens the one seen first (lowest relation id) stays;
/// 2. tokens from consumer units whose mirror is up, in (relation id, unit number) order: the
///    first token seen for a node replaces what was published (LIBPATCH 5-8 keep the published
///    one: see the README's divergences); a placeholder never replaces a token;
/// 3. a placeholder for every consumer hostname that has no entry yet.
pub fn merge(
    published: &[&MirrorEntries],
    up_consumers: &[&MirrorEntries],
    hostnames: &[String],
) -> Merged {
    let mut out: BTreeMap<String, MirrorValue> = BTreeMap::new();
    for entries in published {
        for (node, value) in &entries.0 {
            match out.get(node) {
                Some(MirrorValue::Token(_)) => {}
                Some(MirrorValue::Empty) if value.is_empty() => {}
                _ => {
                    out.insert(node.clone(), value.clone());
                }
            }
        }
    }
    let mut fresh: BTreeMap<&str, &MirrorValue> = BTreeMap::new();
    for entries in up_consumers {
        for (node, value) in &entries.0 {
            if value.is_empty() {
                out.entry(node.clone()).or_insert(MirrorValue::Empty);
            } else {
                fresh.entry(node.as_str()).or_insert(value);
            }
        }
    }
    for (node, value) in fresh {
        out.insert(node.to_string(), value.clone());
    }
    let mut added = Vec::new();
    for host in hostnames {
        if !out.contains_key(host) {
            out.insert(host.clone(), MirrorValue::Empty);
            added.push(host.clone());
        }
    }
    Merged {
        entries: MirrorEntries(out),
        added,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(t: &str) -> MirrorValue {
        MirrorValue::from_wire(t)
    }

    fn entries(pairs: &[(&str, &str)]) -> MirrorEntries {
        MirrorEntries(pairs.iter().map(|(k, v)| (k.to_string(), tok(v))).collect())
    }

    #[test]
    fn corroborate_follows_the_python_rules() {
        let d = "empty".to_string();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(corroborate(&s(&[]), &d), "empty");
        assert_eq!(corroborate(&s(&["empty"]), &d), "empty");
        assert_eq!(corroborate(&s(&["a"]), &d), "a");
        assert_eq!(corroborate(&s(&["empty", "a"]), &d), "a");
        assert_eq!(corroborate(&s(&["empty", "empty"]), &d), "empty");
        assert_eq!(corroborate(&s(&["a", "b", "b"]), &d), "b");
        // Ties: the value seen first wins (Counter.most_common is stable).
        assert_eq!(corroborate(&s(&["b", "a", "a", "b"]), &d), "b");
        assert_eq!(corroborate(&s(&["a", "b"]), &d), "a");
        assert_eq!(corroborate(&s(&["empty", "b", "empty", "a"]), &d), "b");
        // Defaults do not count, even when they are the majority.
        assert_eq!(corroborate(&s(&["empty", "empty", "x"]), &d), "x");
    }

    #[test]
    fn units_sort_by_number() {
        let mut u = vec!["a/10".to_string(), "a/2".into(), "a/0".into(), "odd".into()];
        sort_units(&mut u);
        assert_eq!(u, ["a/0", "a/2", "a/10", "odd"]);
        assert_eq!(unit_number("x/3"), Some(3));
        assert_eq!(unit_number("x"), None);
    }

    fn unit(name: &str, mirror: Option<MirrorFlag>, e: &[(&str, &str)]) -> DistributorUnit {
        DistributorUnit {
            name: name.into(),
            bag: ProviderUnitBag {
                mirror,
                entries: entries(e),
            },
        }
    }

    #[test]
    fn the_view_reads_only_mirrors_that_are_up() {
        let view = MirrorView {
            units: vec![
                unit(
                    "d/0",
                    Some(MirrorFlag::Up),
                    &[("n1", "empty"), ("n2", "T2")],
                ),
                unit("d/1", Some(MirrorFlag::Down), &[("n1", "STALE")]),
                unit("d/2", None, &[("n3", "T3")]),
            ],
            problems: vec![],
        };
        assert!(view.any_mirror_up());
        assert_eq!(view.find("n1", true), Some(MirrorValue::Empty));
        assert_eq!(view.find("n1", false), None);
        assert_eq!(view.find("n2", false), Some(tok("T2")));
        assert_eq!(view.find("n3", true), None);
        let rel = view.relevant(true);
        assert_eq!(rel.len(), 2);
        assert_eq!(view.relevant(false).len(), 1);
        // Data anywhere counts, mirror up or not.
        assert!(view.any_data_exists());
        let none = MirrorView {
            units: vec![unit("d/0", Some(MirrorFlag::Up), &[("n1", "empty")])],
            problems: vec![],
        };
        assert!(!none.any_data_exists());
    }

    #[test]
    fn two_mirrors_are_corroborated() {
        let view = MirrorView {
            units: vec![
                unit("d/0", Some(MirrorFlag::Up), &[("n1", "A")]),
                unit("d/1", Some(MirrorFlag::Up), &[("n1", "B")]),
                unit("d/2", Some(MirrorFlag::Up), &[("n1", "B"), ("n2", "empty")]),
            ],
            problems: vec![],
        };
        assert_eq!(view.find("n1", false), Some(tok("B")));
        assert_eq!(view.relevant(true)["n2"], MirrorValue::Empty);
    }

    #[test]
    fn merge_never_replaces_a_token_with_the_placeholder() {
        let published = entries(&[("n1", "T1"), ("n2", "empty")]);
        let consumer = entries(&[("n1", "empty"), ("n2", "T2")]);
        let m = merge(&[&published], &[&consumer], &["n1".into(), "n3".into()]);
        assert_eq!(
            m.entries,
            entries(&[("n1", "T1"), ("n2", "T2"), ("n3", "empty")])
        );
        assert_eq!(m.added, ["n3"]);
    }

    #[test]
    fn merge_is_stable_with_two_communicators() {
        // Two consumer units up with different tokens for n1: the first (lowest unit) wins.
        let a = entries(&[("n1", "FROM-UNIT-0")]);
        let b = entries(&[("n1", "FROM-UNIT-1"), ("n2", "B2")]);
        let m = merge(&[], &[&a, &b], &[]);
        assert_eq!(m.entries, entries(&[("n1", "FROM-UNIT-0"), ("n2", "B2")]));
        // A fresh token from an up consumer replaces an older published one.
        let published = entries(&[("n1", "OLD")]);
        let m = merge(&[&published], &[&b], &[]);
        assert_eq!(m.entries.get("n1"), Some(&tok("FROM-UNIT-1")));
    }

    #[test]
    fn merge_unites_relations() {
        let r1 = entries(&[("a", "empty"), ("b", "TB")]);
        let r2 = entries(&[("a", "TA"), ("b", "OTHER"), ("c", "empty")]);
        let m = merge(&[&r1, &r2], &[], &[]);
        assert_eq!(
            m.entries,
            entries(&[("a", "TA"), ("b", "TB"), ("c", "empty")])
        );
        assert!(m.added.is_empty());
    }
}
