//! Applying a hook's journal to the model.
//!
//! The same code serves two purposes: hook tools apply the journal so far to a copy of the committed
//! state to answer reads (a unit sees its own pending writes), and the driver applies it for real after
//! a successful dispatch ([`Mode::Commit`]), where invalid changes fail the hook as Juju's flush does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::clock::{now_secs, rfc3339};
use crate::hook_run::HookRun;
use crate::journal::Op;
use crate::rules;
use crate::state::{Bag, ModelState, Secret, SecretConsumer, SecretRevision, rotate_period};

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

/// Applies immediate ops only (`only_immediate`), buffered ops only, or both, in journal order.
pub fn apply(
    st: &mut ModelState,
    run: &HookRun,
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
                if strict && !rules::publishes_relation_data(run) {
                    continue;
                }
                let Some(rel) = st.relations.get_mut(relation) else {
                    if strict {
                        return Err(format!("relation {relation} not found"));
                    }
                    continue;
                };
                let peer = rel.is_peer();
                let (changed, version) = if *app {
                    let bag = rel.app_data.entry(run.app.clone()).or_default();
                    let old = bag.version;
                    (merge(bag, settings), (old, bag.version))
                } else {
                    let bag = rel.unit_data.entry(run.unit.clone()).or_default();
                    (merge(bag, settings), (0, 0))
                };
                if changed && *app && peer {
                    // A unit never gets relation-changed for its own writes.
                    if let Some(u) = st.unit_mut(&run.unit)
                        && let Some(r) = u.agent.relations.get_mut(relation)
                        && r.app_version == version.0
                    {
                        r.app_version = version.1;
                    }
                }
            }
            Op::StateSet { values } => {
                if let Some(u) = st.unit_mut(&run.unit) {
                    for (k, v) in values {
                        u.charm_state.insert(k.clone(), v.clone());
                    }
                }
            }
            Op::StateDelete { key } => {
                if let Some(u) = st.unit_mut(&run.unit) {
                    u.charm_state.remove(key);
                }
            }
            Op::OpenPort { port } => {
                if let Some(u) = st.unit_mut(&run.unit)
                    && !u.ports.contains(port)
                {
                    u.ports.push(port.clone());
                    u.ports.sort();
                }
            }
            Op::StorageAdd { name, count } => {
                let added = crate::storage::attach(st, &run.model_dir, &run.unit, name, *count);
                if let (Err(e), true) = (added, strict) {
                    return Err(e);
                }
            }
            Op::ClosePort { port } => {
                if let Some(u) = st.unit_mut(&run.unit) {
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
                    rules::create_secret(run, owner).map_err(|r| r.0)?;
                    if let Some(l) = label {
                        rules::owner_label(st, owner, l, id).map_err(|r| r.0)?;
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
                if strict {
                    rules::manage_secret(run, sec).map_err(|r| r.0)?;
                }
                if let Some(l) = label
                    && strict
                {
                    rules::owner_label(st, &sec.owner, l, id).map_err(|r| r.0)?;
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
                if strict {
                    rules::manage_secret(run, sec).map_err(|r| r.0)?;
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
                if strict {
                    rules::manage_secret(run, sec).map_err(|r| r.0)?;
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
                if strict {
                    rules::manage_secret(run, sec).map_err(|r| r.0)?;
                }
                sec.grants.retain(|g| {
                    let app_match = app.as_ref().is_none_or(|a| &g.app == a);
                    let unit_match = match unit {
                        Some(u) => g.unit.as_ref() == Some(u),
                        None => true,
                    };
                    let rel_match = relation.is_none_or(|r| g.relation == Some(r));
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
                    let c = sec.consumers.entry(run.unit.clone()).or_default();
                    c.revision = *revision;
                    c.notified = c.notified.max(*revision);
                }
            }
            Op::SecretConsumerLabel { id, label } => {
                if let Some(sec) = st.secrets.get_mut(id) {
                    let c: &mut SecretConsumer = sec.consumers.entry(run.unit.clone()).or_default();
                    c.label = Some(label.clone());
                }
            }
            Op::StatusSet {
                application,
                status,
            } => {
                if *application {
                    if let Some(a) = st.applications.get_mut(&run.app) {
                        a.status = status.clone();
                    }
                } else if let Some(u) = st.unit_mut(&run.unit) {
                    u.status = status.clone();
                }
            }
            Op::AppVersion { version } => {
                if let Some(u) = st.unit_mut(&run.unit) {
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
                if let Some(a) = st.applications.get_mut(&run.app) {
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
                        if let Some(u) = st.unit_mut(&run.unit) {
                            u.agent.leader_settings_seen += 1;
                        }
                    }
                }
            }
        }
    }
    Ok(fx)
}
