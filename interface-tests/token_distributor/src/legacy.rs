//! What each upstream Python LIBPATCH (2 to 8) of the token distributor writes, as pure functions
//! over plain bags: the rules of `interfaces-current.md` §3 (and `interfaces.md` §2 for 2), one
//! function per hook, parametrised by the patch number. The `worker-cluster-legacy` charm runs
//! them against the real charms in the local model; `tests/patches.rs` checks them against the
//! hand-written fixtures `fixtures/libpatch{3..8}.json`.
//!
//! | patch | provider | consumer |
//! | --- | --- | --- |
//! | 2 | relation-changed: the event's relation only; copies every key *containing* `mirror-` from up units, `empty` included; leader-elected raises TooManyRelatedApps with 2+ relations | hostname and bootstrap at relation-created |
//! | 3 | as 2 | hostname and bootstrap at relation-joined; safe mirror down |
//! | 4 | leader-elected loops over every relation (each on its own) | as 3 |
//! | 5 | one merge over all relations (prefix `mirror-`, a held token is never replaced), written to the event's relation (every relation on leader-elected) | as 3 |
//! | 6 | as 5 | joined defers (and goes on) while no mirror is up |
//! | 7 | leader-elected also writes `bootstrap-app` to every app bag | joined: bootstraps only if `bootstrap-app` is its app; defers if the app bag lacks it |
//! | 8 | relation-changed also maintains `bootstrap-app` and writes every relation | as 7 |
//!
//! Units are taken in unit-number order, where Python iterated an unordered set.

use std::collections::BTreeMap;

/// A databag.
pub type Bag = BTreeMap<String, String>;

/// The oldest and newest patches modelled.
pub const PATCHES: std::ops::RangeInclusive<u8> = 2..=8;

/// One relation as the distributor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderRelation {
    /// Relation id.
    pub id: u32,
    /// The consumer application.
    pub remote_app: String,
    /// The distributor unit's own bag.
    pub own_unit: Bag,
    /// The distributor's application bag.
    pub own_app: Bag,
    /// Consumer units by number.
    pub units: BTreeMap<u32, Bag>,
}

/// A hook that fails in Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyError {
    /// `get_relation(name)` with more than one relation (LIBPATCH 2 and 3, leader-elected).
    TooManyRelatedApps,
}

const PREFIX: &str = "mirror-";
const EMPTY: &str = "empty";

fn is_up(bag: &Bag) -> bool {
    bag.get("mirror").is_some_and(|v| v == "up")
}

/// LIBPATCH 2-4 `_handle_mirror(relation)`: this relation only, by substring, overwriting.
fn mirror_one(rel: &mut ProviderRelation) {
    rel.own_unit.insert("mirror".into(), "up".into());
    for bag in rel.units.values() {
        if is_up(bag) {
            for (k, v) in bag {
                if k.contains(PREFIX) {
                    rel.own_unit.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(host) = bag.get("hostname") {
            rel.own_unit
                .entry(format!("{PREFIX}{host}"))
                .or_insert_with(|| EMPTY.into());
        }
    }
}

/// LIBPATCH 5+ merge over every relation: first recorded value wins, except that `empty` gives
/// way to the first real value.
fn merged(relations: &[ProviderRelation]) -> Bag {
    let mut out = Bag::new();
    let record = |out: &mut Bag, k: &str, v: &str| match out.get(k) {
        None => {
            out.insert(k.to_string(), v.to_string());
        }
        Some(old) if old == EMPTY && v != EMPTY => {
            out.insert(k.to_string(), v.to_string());
        }
        Some(_) => {}
    };
    for rel in relations {
        for (k, v) in &rel.own_unit {
            if k.starts_with(PREFIX) {
                record(&mut out, k, v);
            }
        }
        for bag in rel.units.values() {
            if is_up(bag) {
                for (k, v) in bag {
                    if k.starts_with(PREFIX) {
                        record(&mut out, k, v);
                    }
                }
            }
            if let Some(host) = bag.get("hostname") {
                out.entry(format!("{PREFIX}{host}"))
                    .or_insert_with(|| EMPTY.into());
            }
        }
    }
    out
}

/// LIBPATCH 5+ write of the merged keys: never a real token replaced by `empty`.
fn publish(rel: &mut ProviderRelation, merged: &Bag) {
    rel.own_unit.insert("mirror".into(), "up".into());
    for (k, v) in merged {
        match rel.own_unit.get(k) {
            Some(old) if old == v => {}
            Some(old) if old != EMPTY && v == EMPTY => {}
            _ => {
                rel.own_unit.insert(k.clone(), v.clone());
            }
        }
    }
}

/// LIBPATCH 7+ `bootstrap-app`: the first one already in an app bag, else the first relation's app.
fn bootstrap_app(relations: &mut [ProviderRelation]) {
    let found = relations
        .iter()
        .find_map(|r| r.own_app.get("bootstrap-app").filter(|v| !v.is_empty()))
        .cloned()
        .or_else(|| relations.first().map(|r| r.remote_app.clone()));
    if let Some(app) = found {
        for rel in relations.iter_mut() {
            rel.own_app.insert("bootstrap-app".into(), app.clone());
        }
    }
}

/// The distributor leader's relation-changed on relation `event` (non-leaders do nothing).
pub fn provider_changed(patch: u8, relations: &mut [ProviderRelation], event: u32) {
    relations.sort_by_key(|r| r.id);
    match patch {
        ..=4 => {
            if let Some(rel) = relations.iter_mut().find(|r| r.id == event) {
                mirror_one(rel);
            }
        }
        5..=7 => {
            let m = merged(relations);
            if let Some(rel) = relations.iter_mut().find(|r| r.id == event) {
                publish(rel, &m);
            }
        }
        _ => {
            bootstrap_app(relations);
            let m = merged(relations);
            for rel in relations.iter_mut() {
                publish(rel, &m);
            }
        }
    }
}

/// leader-elected on a distributor unit (`leader` as `is-leader` says).
pub fn provider_leader_elected(
    patch: u8,
    leader: bool,
    relations: &mut [ProviderRelation],
) -> Result<(), LegacyError> {
    relations.sort_by_key(|r| r.id);
    if patch <= 3 && relations.len() > 1 {
        return Err(LegacyError::TooManyRelatedApps);
    }
    if !leader {
        for rel in relations.iter_mut() {
            if rel.own_unit.contains_key("mirror") {
                rel.own_unit.insert("mirror".into(), "down".into());
            }
        }
        return Ok(());
    }
    match patch {
        ..=4 => relations.iter_mut().for_each(mirror_one),
        _ => {
            if patch >= 8 {
                bootstrap_app(relations);
            }
            let m = merged(relations);
            for rel in relations.iter_mut() {
                publish(rel, &m);
            }
            if patch == 7 {
                bootstrap_app(relations);
            }
        }
    }
    Ok(())
}

/// The hook in which a consumer of `patch` writes `hostname` and may bootstrap.
pub fn consumer_bootstrap_hook(patch: u8) -> &'static str {
    if patch <= 2 {
        "relation-created"
    } else {
        "relation-joined"
    }
}

/// What a consumer's bootstrap hook does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinedDecision {
    /// The event is deferred (re-run at the next hook).
    pub defers: bool,
    /// The hook stops before writing `hostname` and deciding.
    pub returns_early: bool,
    /// The unit bootstraps the cluster in this hook.
    pub bootstraps: bool,
}

/// The consumer's bootstrap hook (created for 2, joined from 3) on a leader not in the cluster:
/// `units` are the distributor's unit bags, `app` its application bag.
pub fn consumer_bootstrap_decision(
    patch: u8,
    own_app: &str,
    leader: bool,
    in_cluster: bool,
    units: &[&Bag],
    app: &Bag,
) -> JoinedDecision {
    let mut d = JoinedDecision {
        defers: false,
        returns_early: false,
        bootstraps: false,
    };
    let mirror_up = units.iter().any(|b| is_up(b));
    if patch >= 6 && !mirror_up {
        // LIBPATCH 6 defers but goes on (verified upstream); so do 7 and 8.
        d.defers = true;
    }
    let mut ours = true;
    if patch >= 7 {
        ours = false;
        if !app.is_empty() {
            match app.get("bootstrap-app") {
                Some(name) => ours = name == own_app,
                None => d.defers = true,
            }
        }
    }
    let any_data = units
        .iter()
        .any(|b| b.iter().any(|(k, v)| k.starts_with(PREFIX) && v != EMPTY));
    d.bootstraps = !in_cluster && leader && !any_data && ours;
    d
}

/// LIBPATCH 3+ "safe mirror down" of a consumer unit that is not the communicator: the new
/// `mirror` value (`None`: the key stays absent). `relevant` is the corroborated data of the up
/// mirrors (`mirror-` prefix included). Python raises KeyError on a placeholder for a node whose
/// key is absent from `own`; that is reported as `Err(key)`.
pub fn consumer_mirror_flag(
    patch: u8,
    communicator: bool,
    own: &Bag,
    relevant: &Bag,
) -> Result<Option<&'static str>, String> {
    if communicator {
        return Ok(Some("up"));
    }
    if !own.contains_key("mirror") {
        return Ok(None);
    }
    if patch <= 2 {
        return Ok(Some("down"));
    }
    for (k, v) in relevant {
        if v == EMPTY {
            match own.get(k) {
                None => return Err(k.clone()),
                Some(mine) if mine != EMPTY => return Ok(Some("up")),
                Some(_) => {}
            }
        }
    }
    Ok(Some("down"))
}
