//! The unit agents' resolver: which hook each unit runs next, computed from the difference
//! between what its agent has seen (`AgentState` in the state file) and the model, as Juju's
//! uniter resolver does; what a unit sees of its relations during a hook; the agent's
//! bookkeeping once a hook is done; and the clean-up after teardown.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::hook_run::RelationView;
use crate::ids::split_unit;
use crate::state::{HookSpec, Life, ModelState, Relation, SecretOwner, StorageInstance, Unit};

/// Where the next hook for a unit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Computed from the difference between the agent's view and the model.
    Computed,
    /// The front of the unit's explicit queue (secret rotation and expiry).
    Queue,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// `app/N` as (app, N), for sorting and lookups; a malformed name sorts as unit 0.
pub fn unit_key(name: &str) -> (String, u32) {
    match split_unit(name) {
        Some((a, n)) => (a.to_string(), n),
        None => (name.to_string(), 0),
    }
}

fn sort_units(v: &mut [String]) {
    v.sort_by_key(|a| unit_key(a));
}

/// The unit that receives owner-side secret hooks: the owning unit, or the owning app's leader.
pub fn owner_unit(st: &ModelState, owner: &SecretOwner) -> Option<String> {
    if owner.kind == "model" {
        return None;
    }
    if owner.kind == "unit" {
        return st.unit(&owner.name).map(|u| u.name.clone());
    }
    st.applications
        .get(&owner.name)
        .and_then(|a| a.leader.clone())
}

/// Fills in relation variables for a hand-run hook.
pub fn complete_spec(st: &ModelState, unit: &str, mut spec: HookSpec) -> Result<HookSpec> {
    let (app, _) = unit_key(unit);
    if let Some((ep, _kind)) = spec.name.split_once("-relation-") {
        let ep = ep.to_string();
        let rid = match spec.relation {
            Some(r) => r,
            None => {
                let ids: Vec<u64> = st
                    .relations
                    .values()
                    .filter(|r| r.endpoint_of(&app).is_some_and(|e| e.endpoint == ep))
                    .map(|r| r.id)
                    .collect();
                match ids.as_slice() {
                    [id] => *id,
                    [] => return Err(invalid(format!("no relation on endpoint {ep:?} of {unit}"))),
                    _ => {
                        return Err(invalid(format!(
                            "several relations on endpoint {ep:?}: give --relation"
                        )));
                    }
                }
            }
        };
        let rel = st
            .relations
            .get(&rid)
            .ok_or_else(|| Error::not_found("relation", rid.to_string()))?;
        if rel.endpoint_of(&app).is_none_or(|e| e.endpoint != ep) {
            return Err(invalid(format!(
                "relation {rid} is not on endpoint {ep:?} of {unit}"
            )));
        }
        spec.relation = Some(rid);
        if spec.remote_app.is_none() {
            spec.remote_app = rel.remote_app(&app).map(str::to_string);
        }
        let kind = spec.name.rsplit("-relation-").next().unwrap_or("");
        if spec.remote_unit.is_none() {
            spec.remote_unit = Some(match kind {
                "joined" | "changed" | "departed" => st
                    .unit(unit)
                    .and_then(|u| u.agent.relations.get(&rid))
                    .and_then(|r| r.members.keys().next().cloned())
                    .unwrap_or_default(),
                _ => String::new(),
            });
        }
        if kind == "departed" && spec.departing_unit.is_none() {
            spec.departing_unit = spec.remote_unit.clone();
        }
    }
    if let Some(s) = &spec.secret {
        let id = crate::state::parse_secret_ref(s)
            .ok_or_else(|| invalid(format!("secret URI {s:?} not valid")))?;
        spec.secret = Some(id);
    }
    Ok(spec)
}

/// The relations a unit can see during `spec`, with `relation-list` answers.
pub fn relation_views(st: &ModelState, unit: &str, spec: &HookSpec) -> BTreeMap<u64, RelationView> {
    let mut out = BTreeMap::new();
    let (app, _) = unit_key(unit);
    let Some(u) = st.unit(unit) else { return out };
    for rel in st.relations.values().filter(|r| r.involves(&app)) {
        let is_hook_rel = spec.relation == Some(rel.id);
        let local = u.agent.relations.get(&rel.id);
        let created = local.is_some_and(|l| l.created);
        if !created && !(is_hook_rel) {
            continue;
        }
        let Some(ep) = rel.endpoint_of(&app) else {
            continue;
        };
        let mut members: Vec<String> = local
            .map(|l| l.members.keys().cloned().collect())
            .unwrap_or_default();
        let kind = if is_hook_rel {
            spec.name.rsplit("-relation-").next().unwrap_or("")
        } else {
            ""
        };
        let remote = spec.remote_unit.clone().unwrap_or_default();
        match kind {
            "joined" if !remote.is_empty() && !members.contains(&remote) => members.push(remote),
            "departed" => members.retain(|m| *m != remote),
            "broken" => members.clear(),
            _ => {}
        }
        sort_units(&mut members);
        out.insert(
            rel.id,
            RelationView {
                endpoint: ep.endpoint.clone(),
                remote_app: rel.remote_app(&app).unwrap_or_default().to_string(),
                peer: rel.is_peer(),
                members,
                broken: kind == "broken",
            },
        );
    }
    out
}

/// The remote units `unit` should currently see in relation `rel`.
fn remote_members(st: &ModelState, unit: &Unit, rel: &Relation) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if rel.life == Life::Dying || unit.life == Life::Dying {
        return out;
    }
    let (app, _) = unit_key(&unit.name);
    // In a container-scoped relation a unit only sees the units on its own machine.
    let machine = st.machine_of(&unit.name);
    for ep in &rel.endpoints {
        if ep.app == app && !rel.is_peer() {
            continue;
        }
        let Some(a) = st.applications.get(&ep.app) else {
            continue;
        };
        for v in a.units.values() {
            if v.name != unit.name
                && v.life == Life::Alive
                && v.agent.relations.get(&rel.id).is_some_and(|r| r.created)
                && (!rel.is_container() || st.machine_of(&v.name) == machine)
            {
                out.insert(v.name.clone());
            }
        }
    }
    out
}

fn rel_hook(ep: &str, kind: &str, rel: &Relation, app: &str) -> HookSpec {
    HookSpec {
        relation: Some(rel.id),
        remote_app: rel.remote_app(app).map(str::to_string),
        remote_unit: Some(String::new()),
        ..HookSpec::simple(&format!("{ep}-relation-{kind}"))
    }
}

/// `<name>-storage-attached` or `<name>-storage-detaching` for instance `id` (`data/0`).
fn storage_hook(id: &str, instance: Option<&StorageInstance>, kind: &str) -> HookSpec {
    let name = id.split('/').next().unwrap_or(id);
    HookSpec {
        env: crate::storage::hook_env(id, instance),
        ..HookSpec::simple(&format!("{name}-storage-{kind}"))
    }
}

/// Computes the next hook a unit agent would run, Juju-style, from what it has seen.
pub fn next_hook(st: &ModelState, unit_name: &str) -> Option<(HookSpec, Source)> {
    let u = st.unit(unit_name)?;
    let (app_name, _) = unit_key(unit_name);
    let app = st.applications.get(&app_name)?;
    let ag = &u.agent;
    if ag.error.is_some() {
        return None;
    }
    let computed = |h: HookSpec| Some((h, Source::Computed));
    // On machines storage is attached before install, and whenever `storage-add` adds some.
    if u.life == Life::Alive
        && let Some((id, instance)) = u
            .storage
            .iter()
            .find(|(id, _)| !ag.storage_attached.contains(*id))
    {
        return computed(storage_hook(id, Some(instance), "attached"));
    }
    if !ag.installed {
        if u.life == Life::Dying {
            return None;
        }
        return computed(HookSpec::simple("install"));
    }
    let leader = app.leader.as_deref() == Some(unit_name);
    if u.life == Life::Alive {
        for rel in st.relations.values().filter(|r| {
            r.involves(&app_name) && r.life == Life::Alive && st.relation_valid_for(unit_name, r)
        }) {
            if !ag.relations.get(&rel.id).is_some_and(|r| r.created) {
                let ep = rel.endpoint_of(&app_name)?;
                return computed(rel_hook(&ep.endpoint, "created", rel, &app_name));
            }
        }
        if leader && ag.leader_term_seen < app.leader_term {
            return computed(HookSpec::simple("leader-elected"));
        }
        if !leader && ag.leader_settings_seen < app.leader_settings_version {
            return computed(HookSpec::simple("leader-settings-changed"));
        }
        if ag.config_seen < app.config_version {
            return computed(HookSpec::simple("config-changed"));
        }
        if !ag.started {
            return computed(HookSpec::simple("start"));
        }
    }
    if let Some(h) = ag.queue.front() {
        return Some((h.clone(), Source::Queue));
    }
    if ag.started || u.life == Life::Dying {
        for (rid, local) in &ag.relations {
            let Some(rel) = st.relations.get(rid) else {
                continue;
            };
            let Some(ep) = rel.endpoint_of(&app_name) else {
                continue;
            };
            let ep = ep.endpoint.clone();
            if let Some(v) = &local.changed_pending {
                let mut h = rel_hook(&ep, "changed", rel, &app_name);
                h.remote_unit = Some(v.clone());
                return computed(h);
            }
            let remote = remote_members(st, u, rel);
            let mut members: Vec<String> = local.members.keys().cloned().collect();
            sort_units(&mut members);
            for m in &members {
                if !remote.contains(m) {
                    let mut h = rel_hook(&ep, "departed", rel, &app_name);
                    h.remote_unit = Some(m.clone());
                    h.departing_unit = Some(if u.life == Life::Dying {
                        unit_name.to_string()
                    } else {
                        m.clone()
                    });
                    return computed(h);
                }
            }
            if (rel.life == Life::Dying || u.life == Life::Dying) && !rel.is_peer() {
                let mut h = rel_hook(&ep, "broken", rel, &app_name);
                h.remote_unit = None;
                return computed(h);
            }
            if !ag.started {
                continue;
            }
            let mut remote_sorted: Vec<String> = remote.iter().cloned().collect();
            sort_units(&mut remote_sorted);
            for v in &remote_sorted {
                if !local.members.contains_key(v) {
                    let mut h = rel_hook(&ep, "joined", rel, &app_name);
                    h.remote_unit = Some(v.clone());
                    return computed(h);
                }
            }
            for v in &remote_sorted {
                let version = rel.unit_data.get(v).map_or(0, |b| b.version);
                if local.members.get(v).is_some_and(|seen| version > *seen) {
                    let mut h = rel_hook(&ep, "changed", rel, &app_name);
                    h.remote_unit = Some(v.clone());
                    return computed(h);
                }
            }
            if let Some(remote_app) = rel.remote_app(&app_name) {
                let version = rel.app_data.get(remote_app).map_or(0, |b| b.version);
                if version > local.app_version {
                    return computed(rel_hook(&ep, "changed", rel, &app_name));
                }
            }
        }
    }
    if u.life == Life::Alive && ag.started {
        for sec in st.secrets.values() {
            if sec.owner.includes(unit_name) {
                continue;
            }
            if let Some(c) = sec.consumers.get(unit_name)
                && c.revision > 0
                && sec.latest > c.revision.max(c.notified)
                && sec.granted_to(unit_name, &app_name)
            {
                return computed(HookSpec {
                    secret: Some(sec.id.clone()),
                    ..HookSpec::simple("secret-changed")
                });
            }
        }
        for sec in st
            .secrets
            .values()
            .filter(|s| s.owner.managed_by(unit_name, leader))
        {
            for r in sec.revisions.keys() {
                if *r < sec.latest
                    && !sec.remove_notified.contains(r)
                    && !sec
                        .consumers
                        .iter()
                        .any(|(cu, c)| c.revision == *r && !sec.owner.includes(cu))
                {
                    return computed(HookSpec {
                        secret: Some(sec.id.clone()),
                        secret_revision: Some(*r),
                        ..HookSpec::simple("secret-remove")
                    });
                }
            }
        }
    }
    if u.life == Life::Dying && ag.relations.is_empty() {
        if ag.started && !ag.stopped {
            return computed(HookSpec::simple("stop"));
        }
        // Storage detaches after stop, before remove.
        if let Some(id) = ag.storage_attached.iter().next() {
            return computed(storage_hook(id, u.storage.get(id), "detaching"));
        }
        // A principal is only removed once its subordinates are gone.
        if !st.subordinates_of(unit_name).is_empty() {
            return None;
        }
        return computed(HookSpec::simple("remove"));
    }
    None
}

/// Records that `spec` completed on `unit` (or was skipped with `resolve --no-retry`).
pub fn mark_done(st: &mut ModelState, unit: &str, spec: &HookSpec, queued: bool) {
    let (app_name, n) = unit_key(unit);
    let Some(app) = st.applications.get(&app_name) else {
        return;
    };
    let (term, lsv, cfg) = (
        app.leader_term,
        app.leader_settings_version,
        app.config_version,
    );
    let addr = st.unit_address(unit);
    let rel_versions = spec
        .relation
        .and_then(|rid| st.relations.get(&rid))
        .map(|rel| {
            let remote_app = rel.remote_app(&app_name).unwrap_or_default().to_string();
            let app_v = rel.app_data.get(&remote_app).map_or(0, |b| b.version);
            let unit_v = spec
                .remote_unit
                .as_ref()
                .and_then(|ru| rel.unit_data.get(ru))
                .map_or(0, |b| b.version);
            (app_v, unit_v)
        });
    let latest = spec
        .secret
        .as_ref()
        .and_then(|s| st.secrets.get(s))
        .map(|s| s.latest);
    let kind = spec
        .name
        .rsplit("-relation-")
        .next()
        .unwrap_or("")
        .to_string();
    let is_rel = spec.relation.is_some() && spec.name.contains("-relation-");
    if let Some(u) = st.unit_mut(unit) {
        if queued {
            u.agent.queue.pop_front();
        }
        let ag = &mut u.agent;
        match spec.name.as_str() {
            "install" => ag.installed = true,
            "start" => ag.started = true,
            "stop" => ag.stopped = true,
            "leader-elected" => {
                ag.leader_term_seen = term;
                ag.leader_settings_seen = lsv;
            }
            "leader-settings-changed" => ag.leader_settings_seen = lsv,
            "config-changed" => ag.config_seen = cfg,
            _ => {}
        }
        if let Some(id) = spec.env.get("JUJU_STORAGE_ID") {
            if spec.name.ends_with("-storage-attached") {
                ag.storage_attached.insert(id.clone());
            } else if spec.name.ends_with("-storage-detaching") {
                ag.storage_attached.remove(id);
            }
        }
        if is_rel && let Some(rid) = spec.relation {
            let remote = spec.remote_unit.clone().unwrap_or_default();
            let (app_v, unit_v) = rel_versions.unwrap_or((0, 0));
            match kind.as_str() {
                "created" => {
                    ag.relations.entry(rid).or_default().created = true;
                }
                "joined" => {
                    let r = ag.relations.entry(rid).or_default();
                    r.members.insert(remote.clone(), 0);
                    r.changed_pending = Some(remote);
                }
                "changed" => {
                    let r = ag.relations.entry(rid).or_default();
                    if remote.is_empty() {
                        r.app_version = app_v;
                    } else {
                        r.members.insert(remote.clone(), unit_v);
                        if r.changed_pending.as_deref() == Some(remote.as_str()) {
                            r.changed_pending = None;
                        }
                    }
                }
                "departed" => {
                    if let Some(r) = ag.relations.get_mut(&rid) {
                        r.members.remove(&remote);
                        if r.changed_pending.as_deref() == Some(remote.as_str()) {
                            r.changed_pending = None;
                        }
                    }
                }
                "broken" => {
                    ag.relations.remove(&rid);
                }
                _ => {}
            }
        }
    }
    // Entering scope: Juju seeds the unit's bag with its addresses.
    if is_rel
        && kind == "created"
        && let Some(rid) = spec.relation
        && let Some(rel) = st.relations.get_mut(&rid)
    {
        let bag = rel.unit_data.entry(unit.to_string()).or_default();
        let mut changed = false;
        for (k, v) in [
            ("egress-subnets", format!("{addr}/32")),
            ("ingress-address", addr.clone()),
            ("private-address", addr.clone()),
        ] {
            if !bag.data.contains_key(k) {
                bag.data.insert(k.to_string(), v);
                changed = true;
            }
        }
        if changed {
            bag.version += 1;
        }
    }
    match spec.name.as_str() {
        "secret-changed" => {
            if let (Some(id), Some(latest)) = (&spec.secret, latest)
                && let Some(sec) = st.secrets.get_mut(id)
            {
                let c = sec.consumers.entry(unit.to_string()).or_default();
                c.notified = c.notified.max(latest);
            }
        }
        "secret-remove" => {
            if let (Some(id), Some(r)) = (&spec.secret, spec.secret_revision)
                && let Some(sec) = st.secrets.get_mut(id)
                && sec.revisions.contains_key(&r)
            {
                sec.remove_notified.insert(r);
            }
        }
        "remove" => {
            if let Some(a) = st.applications.get_mut(&app_name) {
                a.units.remove(&n);
            }
        }
        _ => {}
    }
}

/// Garbage-collects what teardown left behind and keeps leadership valid.
pub fn tidy(st: &mut ModelState) {
    // A subordinate dies with its principal, or when no alive container-scoped relation links its
    // application to its principal's application any more (remove-relation, remove-app).
    let doomed: Vec<String> = st
        .applications
        .values()
        .flat_map(|a| a.units.values())
        .filter(|u| u.life == Life::Alive)
        .filter_map(|u| {
            let principal = u.principal.as_deref()?;
            let app = u.name.split('/').next().unwrap_or_default();
            let p_app = principal.split('/').next().unwrap_or_default();
            let principal_alive = st.unit(principal).is_some_and(|p| p.life == Life::Alive);
            let linked = st.relations.values().any(|r| {
                r.life == Life::Alive
                    && r.is_container()
                    && !r.is_peer()
                    && r.involves(app)
                    && r.involves(p_app)
            });
            (!principal_alive || !linked).then(|| u.name.clone())
        })
        .collect();
    for name in doomed {
        if let Some(u) = st.unit_mut(&name) {
            u.life = Life::Dying;
        }
    }
    // Units that never installed need no teardown hooks.
    for app in st.applications.values_mut() {
        app.units.retain(|_, u| {
            !(u.life == Life::Dying && !u.agent.installed && u.agent.error.is_none())
        });
    }
    // Leadership: a dying or vanished leader hands over to the first alive unit.
    for app in st.applications.values_mut() {
        let ok = app
            .leader
            .as_ref()
            .and_then(|l| split_unit(l))
            .and_then(|(_, n)| app.units.get(&n))
            .is_some_and(|u| u.life == Life::Alive);
        if !ok {
            let next = app
                .units
                .values()
                .find(|u| u.life == Life::Alive)
                .map(|u| u.name.clone());
            if next.is_some() || app.leader.is_some() {
                if next != app.leader {
                    app.leader_term += 1;
                    app.leader_settings_version += 1;
                }
                app.leader = next;
            }
        }
    }
    // Peer relations end silently (no relation-broken) once the unit has departed everyone.
    let rel_info: BTreeMap<u64, (bool, Life)> = st
        .relations
        .values()
        .map(|r| (r.id, (r.is_peer(), r.life)))
        .collect();
    for app in st.applications.values_mut() {
        for u in app.units.values_mut() {
            let dying = u.life == Life::Dying;
            u.agent.relations.retain(|rid, r| match rel_info.get(rid) {
                None => false,
                Some((peer, life)) => {
                    !(*peer
                        && (dying || *life == Life::Dying)
                        && r.members.is_empty()
                        && r.changed_pending.is_none())
                }
            });
        }
    }
    // Relations nobody is in any more.
    let held: BTreeSet<u64> = st
        .applications
        .values()
        .flat_map(|a| a.units.values())
        .flat_map(|u| u.agent.relations.keys().copied())
        .collect();
    let apps: BTreeSet<String> = st.applications.keys().cloned().collect();
    st.relations.retain(|id, r| {
        let orphan = r.endpoints.iter().any(|e| !apps.contains(&e.app));
        !((r.life == Life::Dying || orphan) && !held.contains(id))
    });
    // Bags of units that are gone and that no unit still sees as a member.
    let units: BTreeSet<String> = st.unit_names().into_iter().collect();
    let mut seen: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for u in st.applications.values().flat_map(|a| a.units.values()) {
        for (rid, r) in &u.agent.relations {
            seen.entry(*rid)
                .or_default()
                .extend(r.members.keys().cloned());
        }
    }
    for rel in st.relations.values_mut() {
        let s = seen.get(&rel.id);
        rel.unit_data
            .retain(|name, _| units.contains(name) || s.is_some_and(|s| s.contains(name)));
    }
    // Secrets: grants die with their relation; owners' secrets die with the owner.
    let rel_ids: BTreeSet<u64> = st.relations.keys().copied().collect();
    st.secrets.retain(|_, s| match s.owner.kind.as_str() {
        "unit" => units.contains(&s.owner.name),
        "model" => true,
        _ => apps.contains(&s.owner.name),
    });
    for sec in st.secrets.values_mut() {
        // A user secret's grant to an application is tied to no relation.
        sec.grants
            .retain(|g| g.relation.is_none_or(|r| rel_ids.contains(&r)));
        let grants = sec.grants.clone();
        let owner = sec.owner.clone();
        sec.consumers.retain(|u, _| {
            units.contains(u)
                && (owner.includes(u)
                    || grants.iter().any(|g| {
                        u.split('/').next() == Some(g.app.as_str())
                            && g.unit.as_ref().is_none_or(|x| x == u)
                    }))
        });
    }
    // Applications with no units left.
    st.applications
        .retain(|_, a| !(a.life == Life::Dying && a.units.is_empty()));
}
