//! The consistency check: a [`State`] and an event must be possible for the charm's metadata
//! before a run, as ops' Scenario checks. A test that describes a relation on an endpoint the
//! charm does not declare would otherwise pass against a model Juju can never produce.

use crate::state::State;
use charm::Event;
use charm::meta::{ConfigMeta, Metadata};
use std::collections::BTreeMap;

/// Everything wrong with `state` and `event` for this metadata, one message each (empty when
/// consistent).
pub fn check(
    meta: &Metadata,
    config: Option<&ConfigMeta>,
    state: &State,
    event: &Event,
) -> Vec<String> {
    let mut problems = Vec::new();
    relations(meta, state, &mut problems);
    storage(meta, state, &mut problems);
    networks(meta, state, &mut problems);
    if let Some(config) = config {
        config_values(config, state, &mut problems);
    }
    event_in_state(state, event, &mut problems);
    problems
}

fn relations(meta: &Metadata, state: &State, problems: &mut Vec<String>) {
    let mut per_endpoint: BTreeMap<&str, u32> = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for r in &state.relations {
        if let Some(other) = ids.insert(r.id, &r.endpoint) {
            problems.push(format!(
                "relation id {} is used twice (endpoints {other:?} and {:?})",
                r.id, r.endpoint
            ));
        }
        *per_endpoint.entry(&r.endpoint).or_insert(0) += 1;
        if r.endpoint == "juju-info" && !r.peer {
            continue;
        }
        match (meta.endpoint(&r.endpoint), r.peer) {
            (None, true) => problems.push(format!(
                "relation {} is a peer relation on {:?}, which metadata.yaml does not declare under peers",
                r.id, r.endpoint
            )),
            (None, false) => problems.push(format!(
                "relation {} is on endpoint {:?}, which metadata.yaml does not declare",
                r.id, r.endpoint
            )),
            (Some((role, _)), peer) if peer != (role == charm::Role::Peer) => {
                problems.push(format!(
                    "relation {} on {:?}: the endpoint is declared under {role}, the relation is {}",
                    r.id,
                    r.endpoint,
                    if peer { "a peer relation" } else { "not a peer relation" }
                ));
            }
            _ => {}
        }
    }
    for (endpoint, count) in per_endpoint {
        if let Some((_, ep)) = meta.endpoint(endpoint)
            && let Some(limit) = ep.limit
            && count > limit
        {
            problems.push(format!(
                "endpoint {endpoint:?} has {count} relations, over its limit of {limit}"
            ));
        }
    }
}

fn storage(meta: &Metadata, state: &State, problems: &mut Vec<String>) {
    let declared = match meta.storage() {
        Ok(d) => d,
        Err(e) => {
            problems.push(format!("metadata.yaml: {e}"));
            return;
        }
    };
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for s in &state.storages {
        if !declared.contains_key(&s.id.name) {
            problems.push(format!(
                "storage instance {} is of storage {:?}, which metadata.yaml does not declare",
                s.id, s.id.name
            ));
        }
        *counts.entry(&s.id.name).or_insert(0) += 1;
    }
    for (name, count) in counts {
        if let Some(spec) = declared.get(name)
            && spec.count.max.is_some_and(|max| count > max)
        {
            problems.push(format!(
                "storage {name:?} has {count} instances, more than the {} metadata.yaml allows",
                spec.count
            ));
        }
    }
}

fn networks(meta: &Metadata, state: &State, problems: &mut Vec<String>) {
    for binding in state.networks.keys() {
        if !meta.is_binding(binding) {
            problems.push(format!(
                "network for {binding:?}, which is neither an endpoint nor an extra-binding"
            ));
        }
    }
}

fn config_values(config: &ConfigMeta, state: &State, problems: &mut Vec<String>) {
    // Values of the wrong type are left alone: tests give them on purpose, to check that a
    // charm reports bad config instead of crashing.
    for key in state.config.keys() {
        if !config.options.contains_key(key) {
            problems.push(format!(
                "config key {key:?} is not an option in config.yaml"
            ));
        }
    }
}

fn event_in_state(state: &State, event: &Event, problems: &mut Vec<String>) {
    match event {
        Event::RelationCreated(r)
        | Event::RelationJoined(r)
        | Event::RelationChanged(r)
        | Event::RelationDeparted(r)
        | Event::RelationBroken(r)
            if state.rel(r.relation.id).is_none() =>
        {
            problems.push(format!(
                "the event is about relation {}, which the state does not hold",
                r.relation
            ));
        }
        Event::StorageAttached(s) | Event::StorageDetaching(s)
            if !state
                .storages
                .iter()
                .any(|i| i.id.name == s.name && i.id.index == s.index) =>
        {
            problems.push(format!(
                "the event is about storage {}/{}, which the state does not attach",
                s.name, s.index
            ));
        }
        _ => {}
    }
}
