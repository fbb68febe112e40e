//! Applying a hook's journal to the model, and describing what changed.
//!
//! The same code serves two purposes: hook tools apply the journal so far to a copy of the committed
//! state to answer reads (a unit sees its own pending writes), and the driver applies it for real after
//! a successful dispatch ([`Mode::Commit`]), where invalid changes fail the hook as Juju's flush does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::context::{HookContext, Op};
use crate::redact::Redaction;
use crate::state::{Bag, ModelState, Secret, SecretConsumer, SecretRevision, Status};
use crate::util::{now_secs, rfc3339};

/// How strictly to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The hook's own view during the hook: everything applied, problems ignored.
    Overlay,
    /// The end-of-hook flush: problems are errors, unpublished writes are dropped.
    Commit,
}

/// Effects of a journal that are not model state: logs and action results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    /// `juju-log` lines as (level, message).
    pub logs: Vec<(String, String)>,
    /// `action-set` values by dotted key.
    pub action_results: BTreeMap<String, String>,
    /// The `action-fail` message, if the action was failed.
    pub action_failed: Option<String>,
    /// `action-log` messages.
    pub action_logs: Vec<String>,
}

/// Seconds in a rotation period.
pub fn rotate_period(policy: &str) -> Option<i64> {
    Some(match policy {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "quarterly" => 90 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    })
}

fn merge(bag: &mut Bag, settings: &BTreeMap<String, String>) -> bool {
    let before = bag.data.clone();
    for (k, v) in settings {
        if v.is_empty() {
            bag.data.remove(k);
        } else {
            bag.data.insert(k.clone(), v.clone());
        }
    }
    let changed = before != bag.data;
    if changed {
        bag.version += 1;
    }
    changed
}

/// True when `label` is already used by another secret of the same owner.
pub fn owner_label_taken(
    st: &ModelState,
    owner: &crate::state::SecretOwner,
    label: &str,
    except: &str,
) -> bool {
    st.secrets
        .values()
        .any(|s| s.id != except && &s.owner == owner && s.label.as_deref() == Some(label))
}

/// True when `unit` already uses `label` (as a consumer) for a secret other than `except`.
pub fn consumer_label_taken(st: &ModelState, unit: &str, label: &str, except: &str) -> bool {
    st.secrets.values().any(|s| {
        s.id != except
            && s.consumers
                .get(unit)
                .is_some_and(|c| c.label.as_deref() == Some(label))
    })
}

/// Applies immediate ops only (`only_immediate`), buffered ops only, or both, in journal order.
pub fn apply(
    st: &mut ModelState,
    ctx: &HookContext,
    ops: &[&Op],
    mode: Mode,
) -> Result<Effects, String> {
    let strict = mode == Mode::Commit;
    let mut fx = Effects::default();
    let mut fresh_revision: BTreeSet<String> = BTreeSet::new();
    let now = now_secs();
    for op in ops {
        match op {
            Op::RelationSet {
                relation,
                app,
                settings,
            } => {
                if strict && ctx.dying {
                    continue; // a departing unit's writes are not published
                }
                let Some(rel) = st.relations.get_mut(relation) else {
                    if strict {
                        return Err(format!("relation {relation} not found"));
                    }
                    continue;
                };
                let peer = rel.is_peer();
                let (changed, version) = if *app {
                    let bag = rel.app_data.entry(ctx.app.clone()).or_default();
                    let old = bag.version;
                    (merge(bag, settings), (old, bag.version))
                } else {
                    let bag = rel.unit_data.entry(ctx.unit.clone()).or_default();
                    (merge(bag, settings), (0, 0))
                };
                if changed && *app && peer {
                    // A unit never gets relation-changed for its own writes.
                    if let Some(u) = st.unit_mut(&ctx.unit)
                        && let Some(r) = u.agent.relations.get_mut(relation)
                        && r.app_version == version.0
                    {
                        r.app_version = version.1;
                    }
                }
            }
            Op::StateSet { values } => {
                if let Some(u) = st.unit_mut(&ctx.unit) {
                    for (k, v) in values {
                        u.charm_state.insert(k.clone(), v.clone());
                    }
                }
            }
            Op::StateDelete { key } => {
                if let Some(u) = st.unit_mut(&ctx.unit) {
                    u.charm_state.remove(key);
                }
            }
            Op::OpenPort { port } => {
                if let Some(u) = st.unit_mut(&ctx.unit)
                    && !u.ports.contains(port)
                {
                    u.ports.push(port.clone());
                    u.ports.sort();
                }
            }
            Op::ClosePort { port } => {
                if let Some(u) = st.unit_mut(&ctx.unit) {
                    u.ports.retain(|p| p != port);
                }
            }
            Op::SecretCreate {
                id,
                owner,
                label,
                description,
                expire,
                rotate,
                content,
            } => {
                if strict {
                    if st.secrets.contains_key(id) {
                        return Err(format!("secret {id:?} already exists"));
                    }
                    if owner.kind == "application" && !ctx.leader {
                        return Err("this unit is not the leader".into());
                    }
                    if let Some(l) = label
                        && owner_label_taken(st, owner, l, id)
                    {
                        return Err(format!("secret with label {l:?} already exists"));
                    }
                }
                let mut revisions = BTreeMap::new();
                revisions.insert(
                    1,
                    SecretRevision {
                        content: content.clone(),
                        created: rfc3339(now),
                        expire: expire.clone(),
                    },
                );
                let next_rotate = rotate
                    .as_deref()
                    .and_then(rotate_period)
                    .map(|p| rfc3339(now + p));
                st.secrets.insert(
                    id.clone(),
                    Secret {
                        id: id.clone(),
                        owner: owner.clone(),
                        label: label.clone(),
                        description: description.clone(),
                        rotate: rotate.clone(),
                        next_rotate,
                        revisions,
                        latest: 1,
                        grants: Vec::new(),
                        consumers: BTreeMap::new(),
                        remove_notified: BTreeSet::new(),
                    },
                );
                fresh_revision.insert(id.clone());
            }
            Op::SecretUpdate {
                id,
                label,
                description,
                expire,
                rotate,
                content,
            } => {
                let Some(sec) = st.secrets.get(id) else {
                    if strict {
                        return Err(format!("secret {id:?} not found"));
                    }
                    continue;
                };
                if strict && !sec.owner.managed_by(&ctx.unit, ctx.leader) {
                    return Err("permission denied".into());
                }
                if let Some(l) = label
                    && strict
                    && owner_label_taken(st, &sec.owner, l, id)
                {
                    return Err(format!("secret with label {l:?} already exists"));
                }
                let Some(sec) = st.secrets.get_mut(id) else {
                    continue;
                };
                if let Some(l) = label {
                    sec.label = Some(l.clone());
                }
                if let Some(d) = description {
                    sec.description = Some(d.clone());
                }
                if let Some(r) = rotate {
                    sec.rotate = Some(r.clone());
                    sec.next_rotate = rotate_period(r).map(|p| rfc3339(now + p));
                }
                if let Some(c) = content {
                    let latest_content = sec.revisions.get(&sec.latest).map(|r| &r.content);
                    if latest_content != Some(c) {
                        if fresh_revision.contains(id) {
                            if let Some(r) = sec.revisions.get_mut(&sec.latest) {
                                r.content = c.clone();
                            }
                        } else {
                            sec.latest += 1;
                            sec.revisions.insert(
                                sec.latest,
                                SecretRevision {
                                    content: c.clone(),
                                    created: rfc3339(now),
                                    expire: None,
                                },
                            );
                            fresh_revision.insert(id.clone());
                        }
                    }
                }
                if let Some(e) = expire
                    && let Some(r) = sec.revisions.get_mut(&sec.latest)
                {
                    r.expire = Some(e.clone());
                }
            }
            Op::SecretRemove { id, revision } => {
                let Some(sec) = st.secrets.get_mut(id) else {
                    if strict {
                        return Err(format!("secret {id:?} not found"));
                    }
                    continue;
                };
                if strict && !sec.owner.managed_by(&ctx.unit, ctx.leader) {
                    return Err("permission denied".into());
                }
                match revision {
                    None => {
                        st.secrets.remove(id);
                    }
                    Some(r) => {
                        if sec.revisions.remove(r).is_none() && strict {
                            return Err(format!("secret revision {id}/{r} not found"));
                        }
                        sec.remove_notified.remove(r);
                        if sec.revisions.is_empty() {
                            st.secrets.remove(id);
                        }
                    }
                }
            }
            Op::SecretGrant { id, grant } => {
                let Some(sec) = st.secrets.get_mut(id) else {
                    if strict {
                        return Err(format!("secret {id:?} not found"));
                    }
                    continue;
                };
                if strict && !sec.owner.managed_by(&ctx.unit, ctx.leader) {
                    return Err("permission denied".into());
                }
                let covered = sec.grants.iter().any(|g| {
                    g.app == grant.app
                        && g.relation == grant.relation
                        && (g.unit.is_none() || g.unit == grant.unit)
                });
                if !covered {
                    if grant.unit.is_none() {
                        sec.grants
                            .retain(|g| !(g.app == grant.app && g.relation == grant.relation));
                    }
                    sec.grants.push(grant.clone());
                }
            }
            Op::SecretRevoke {
                id,
                app,
                unit,
                relation,
            } => {
                let Some(sec) = st.secrets.get_mut(id) else {
                    if strict {
                        return Err(format!("secret {id:?} not found"));
                    }
                    continue;
                };
                if strict && !sec.owner.managed_by(&ctx.unit, ctx.leader) {
                    return Err("permission denied".into());
                }
                sec.grants.retain(|g| {
                    let app_match = app.as_ref().is_none_or(|a| &g.app == a);
                    let unit_match = match unit {
                        Some(u) => g.unit.as_ref() == Some(u),
                        None => true,
                    };
                    let rel_match = relation.is_none_or(|r| g.relation == r);
                    !(app_match && unit_match && rel_match)
                });
                if let Some(u) = unit {
                    sec.consumers.remove(u);
                } else if let Some(a) = app {
                    let prefix = format!("{a}/");
                    sec.consumers.retain(|k, _| !k.starts_with(&prefix));
                }
            }
            Op::SecretTrack { id, revision } => {
                if let Some(sec) = st.secrets.get_mut(id) {
                    let c = sec.consumers.entry(ctx.unit.clone()).or_default();
                    c.revision = *revision;
                    c.notified = c.notified.max(*revision);
                }
            }
            Op::SecretConsumerLabel { id, label } => {
                if let Some(sec) = st.secrets.get_mut(id) {
                    let c: &mut SecretConsumer = sec.consumers.entry(ctx.unit.clone()).or_default();
                    c.label = Some(label.clone());
                }
            }
            Op::StatusSet {
                application,
                status,
            } => {
                if *application {
                    if let Some(a) = st.applications.get_mut(&ctx.app) {
                        a.status = status.clone();
                    }
                } else if let Some(u) = st.unit_mut(&ctx.unit) {
                    u.status = status.clone();
                }
            }
            Op::AppVersion { version } => {
                if let Some(u) = st.unit_mut(&ctx.unit) {
                    u.workload_version = version.clone();
                }
            }
            Op::Log { level, message } => fx.logs.push((level.clone(), message.clone())),
            Op::ActionSet { values } => {
                for (k, v) in values {
                    fx.action_results.insert(k.clone(), v.clone());
                }
            }
            Op::ActionFail { message } => fx.action_failed = Some(message.clone()),
            Op::ActionLog { message } => fx.action_logs.push(message.clone()),
            Op::LeaderSet { values } => {
                if let Some(a) = st.applications.get_mut(&ctx.app) {
                    let before = a.leader_settings.clone();
                    for (k, v) in values {
                        if v.is_empty() {
                            a.leader_settings.remove(k);
                        } else {
                            a.leader_settings.insert(k.clone(), v.clone());
                        }
                    }
                    if before != a.leader_settings {
                        a.leader_settings_version += 1;
                        if let Some(u) = st.unit_mut(&ctx.unit) {
                            u.agent.leader_settings_seen += 1;
                        }
                    }
                }
            }
        }
    }
    Ok(fx)
}

/// One observable change made by a hook (or by the driver).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    /// A databag key was added, changed or removed.
    Bag {
        /// Relation id.
        relation: u64,
        /// The bag owner (unit or application name).
        bag: String,
        /// The key.
        key: String,
        /// Old value (absent when added).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<String>,
        /// New value (absent when removed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new: Option<String>,
    },
    /// A unit or application status changed.
    Status {
        /// Unit or application name.
        entity: String,
        /// The new status.
        status: Status,
    },
    /// A secret was created, got a new revision, was removed, or its grants changed.
    Secret {
        /// The xid.
        id: String,
        /// What happened.
        what: String,
    },
    /// Anything else (ports, charm state, workload version, leader settings).
    Other {
        /// The entity.
        entity: String,
        /// What happened.
        what: String,
    },
}

impl Change {
    /// A one-line human description.
    pub fn describe(&self) -> String {
        self.describe_redacted(&Redaction::reveal_all())
    }

    /// A one-line description in which the values `redaction` hides are replaced by their length.
    pub fn describe_redacted(&self, redaction: &Redaction) -> String {
        let show = |key: &str, v: &str| {
            if redaction.hides(key, v) {
                redaction.show(key, v).into_owned()
            } else {
                short(v)
            }
        };
        match self {
            Change::Bag {
                relation,
                bag,
                key,
                old,
                new,
            } => match (old, new) {
                (None, Some(n)) => format!("rel {relation} [{bag}] +{key}={}", show(key, n)),
                (Some(_), None) => format!("rel {relation} [{bag}] -{key}"),
                (Some(o), Some(n)) => {
                    format!(
                        "rel {relation} [{bag}] {key}: {} -> {}",
                        show(key, o),
                        show(key, n)
                    )
                }
                (None, None) => format!("rel {relation} [{bag}] {key}"),
            },
            Change::Status { entity, status } => {
                if status.message.is_empty() {
                    format!("{entity} status {}", status.status)
                } else {
                    format!("{entity} status {} {:?}", status.status, status.message)
                }
            }
            Change::Secret { id, what } => format!("secret:{id} {what}"),
            Change::Other { entity, what } => format!("{entity} {what}"),
        }
    }
}

fn short(s: &str) -> String {
    let one_line = s.replace('\n', "\\n");
    if one_line.chars().count() > 40 {
        let cut: String = one_line.chars().take(37).collect();
        format!("{cut:?}...")
    } else {
        format!("{one_line:?}")
    }
}

/// Describes the differences between two model states.
pub fn diff(before: &ModelState, after: &ModelState) -> Vec<Change> {
    let mut out = Vec::new();
    let empty = Bag::default();
    let rel_ids: BTreeSet<u64> = before
        .relations
        .keys()
        .chain(after.relations.keys())
        .copied()
        .collect();
    for id in rel_ids {
        let (b, a) = (before.relations.get(&id), after.relations.get(&id));
        let bags = |r: Option<&crate::state::Relation>| -> BTreeMap<String, Bag> {
            let mut m = BTreeMap::new();
            if let Some(r) = r {
                for (k, v) in &r.app_data {
                    m.insert(k.clone(), v.clone());
                }
                for (k, v) in &r.unit_data {
                    m.insert(k.clone(), v.clone());
                }
            }
            m
        };
        if a.is_none() {
            continue; // relation removed: not a bag change
        }
        let (bb, ab) = (bags(b), bags(a));
        let owners: BTreeSet<&String> = bb.keys().chain(ab.keys()).collect();
        for owner in owners {
            let ob = bb.get(owner).unwrap_or(&empty);
            let nb = ab.get(owner).unwrap_or(&empty);
            let keys: BTreeSet<&String> = ob.data.keys().chain(nb.data.keys()).collect();
            for k in keys {
                let (o, n) = (ob.data.get(k), nb.data.get(k));
                if o != n && ab.contains_key(owner) {
                    out.push(Change::Bag {
                        relation: id,
                        bag: owner.clone(),
                        key: k.clone(),
                        old: o.cloned(),
                        new: n.cloned(),
                    });
                }
            }
        }
    }
    for (name, app) in &after.applications {
        let old_app = before.applications.get(name);
        if old_app.map(|a| &a.status) != Some(&app.status) && old_app.is_some() {
            out.push(Change::Status {
                entity: name.clone(),
                status: app.status.clone(),
            });
        }
        if let Some(o) = old_app
            && o.leader_settings != app.leader_settings
        {
            out.push(Change::Other {
                entity: name.clone(),
                // Keys only, as for charm state: values may be credentials (`show` has them).
                what: format!(
                    "leader settings keys {:?}",
                    app.leader_settings.keys().collect::<Vec<_>>()
                ),
            });
        }
        for unit in app.units.values() {
            let old = before.unit(&unit.name);
            let Some(old) = old else { continue };
            if old.status != unit.status {
                out.push(Change::Status {
                    entity: unit.name.clone(),
                    status: unit.status.clone(),
                });
            }
            if old.workload_version != unit.workload_version {
                out.push(Change::Other {
                    entity: unit.name.clone(),
                    what: format!("workload version {:?}", unit.workload_version),
                });
            }
            if old.ports != unit.ports {
                let ports: Vec<String> = unit.ports.iter().map(|p| p.display()).collect();
                out.push(Change::Other {
                    entity: unit.name.clone(),
                    what: format!("ports [{}]", ports.join(", ")),
                });
            }
            if old.charm_state != unit.charm_state {
                let keys: Vec<&String> = unit.charm_state.keys().collect();
                out.push(Change::Other {
                    entity: unit.name.clone(),
                    what: format!("charm state keys {keys:?}"),
                });
            }
        }
    }
    let ids: BTreeSet<&String> = before.secrets.keys().chain(after.secrets.keys()).collect();
    for id in ids {
        match (before.secrets.get(id), after.secrets.get(id)) {
            (None, Some(s)) => out.push(Change::Secret {
                id: id.clone(),
                what: format!("created (owner {} {})", s.owner.kind, s.owner.name),
            }),
            (Some(_), None) => out.push(Change::Secret {
                id: id.clone(),
                what: "removed".into(),
            }),
            (Some(o), Some(n)) => {
                if n.latest != o.latest {
                    out.push(Change::Secret {
                        id: id.clone(),
                        what: format!("new revision {}", n.latest),
                    });
                }
                let (ok, nk): (BTreeSet<&u32>, BTreeSet<&u32>) =
                    (o.revisions.keys().collect(), n.revisions.keys().collect());
                for r in ok.difference(&nk) {
                    out.push(Change::Secret {
                        id: id.clone(),
                        what: format!("revision {r} removed"),
                    });
                }
                if o.grants != n.grants {
                    let g: Vec<String> = n
                        .grants
                        .iter()
                        .map(|g| match &g.unit {
                            Some(u) => format!("{u} (rel {})", g.relation),
                            None => format!("{} (rel {})", g.app, g.relation),
                        })
                        .collect();
                    out.push(Change::Secret {
                        id: id.clone(),
                        what: format!("grants [{}]", g.join(", ")),
                    });
                }
                if o.label != n.label || o.description != n.description || o.rotate != n.rotate {
                    out.push(Change::Secret {
                        id: id.clone(),
                        what: "metadata updated".into(),
                    });
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn bag_changes_describe_redacted() {
        let change = Change::Bag {
            relation: 1,
            bag: "a".into(),
            key: "secret-key".into(),
            old: None,
            new: Some("hunter2".into()),
        };
        let shown = change.describe_redacted(&Redaction::default());
        assert_eq!(shown, "rel 1 [a] +secret-key=<redacted, 7 chars>");
        assert_eq!(change.describe(), "rel 1 [a] +secret-key=\"hunter2\"");
    }
}
