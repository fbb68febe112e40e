//! Relating applications: endpoint matching as Juju's `integrate` does it, and finding a
//! relation named on the command line.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::meta::{CharmMeta, Endpoint, Role};
use crate::state::{Life, ModelState, Relation, RelationEndpoint, endpoint_ref};

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// Adds a relation between two `app[:endpoint]` references, as `juju integrate` does: checks
/// both applications are alive, picks the one compatible endpoint pair (provides/requires, same
/// interface, container scope only with a subordinate; on ambiguity an implicit `juju-info`
/// endpoint loses), refuses duplicates and endpoint limits. Returns the new relation id.
pub fn relate(st: &mut ModelState, a: &str, b: &str) -> Result<u64> {
    let (app_a, ep_a) = endpoint_ref(a);
    let (app_b, ep_b) = endpoint_ref(b);
    let lookup = |app: &str| -> Result<(CharmMeta, Life)> {
        st.applications
            .get(app)
            .map(|x| (x.meta.clone(), x.life))
            .ok_or_else(|| Error::not_found("application", app))
    };
    let (ma, life_a) = lookup(&app_a)?;
    let (mb, life_b) = lookup(&app_b)?;
    if app_a == app_b {
        return Err(invalid(format!(
            "cannot relate application {app_a:?} to itself"
        )));
    }
    for (app, life) in [(&app_a, life_a), (&app_b, life_b)] {
        if life != Life::Alive {
            return Err(invalid(format!(
                "cannot add relation: application {app:?} is not alive"
            )));
        }
    }
    // Every charm also has the implicit `juju-info` provider endpoint.
    let (eps_a, eps_b) = (ma.relation_endpoints(), mb.relation_endpoints());
    for (app, ep, eps) in [(&app_a, &ep_a, &eps_a), (&app_b, &ep_b, &eps_b)] {
        if let Some(n) = ep
            && !eps.iter().any(|e| &e.name == n)
        {
            return Err(invalid(format!(
                "application {app:?} has no {n:?} relation"
            )));
        }
    }
    let subordinates = usize::from(ma.subordinate) + usize::from(mb.subordinate);
    let mut candidates = Vec::new();
    let mut scope_refused = false;
    for ea in eps_a
        .iter()
        .filter(|e| e.role != Role::Peer && ep_a.as_ref().is_none_or(|n| &e.name == n))
    {
        for eb in eps_b
            .iter()
            .filter(|e| e.role != Role::Peer && ep_b.as_ref().is_none_or(|n| &e.name == n))
        {
            let roles_ok = matches!(
                (ea.role, eb.role),
                (Role::Provider, Role::Requirer) | (Role::Requirer, Role::Provider)
            );
            if !roles_ok || ea.interface != eb.interface {
                continue;
            }
            // Juju's containerScopeOk: a container-scoped relation needs a subordinate.
            if (ea.is_container() || eb.is_container()) && subordinates == 0 {
                scope_refused = true;
                continue;
            }
            candidates.push((ea.clone(), eb.clone()));
        }
    }
    // As Juju's InferEndpoints: on ambiguity, discard candidates using an implicit endpoint.
    if candidates.len() > 1 {
        let explicit: Vec<(Endpoint, Endpoint)> = candidates
            .iter()
            .filter(|(x, y)| !ma.is_implicit(&x.name) && !mb.is_implicit(&y.name))
            .cloned()
            .collect();
        if explicit.len() == 1 {
            candidates = explicit;
        }
    }
    let (ea, eb) = match candidates.len() {
        0 => {
            let why = if scope_refused {
                " (a container-scoped relation requires at least one subordinate application)"
            } else {
                ""
            };
            return Err(invalid(format!(
                "no relations found: {a} and {b} have no compatible endpoints (provides/requires with the same interface){why}"
            )));
        }
        1 => candidates.remove(0),
        _ => {
            let list: Vec<String> = candidates
                .iter()
                .map(|(x, y)| format!("{app_a}:{} {app_b}:{}", x.name, y.name))
                .collect();
            return Err(invalid(format!(
                "ambiguous relation: {a} {b} could refer to {}",
                list.join("; ")
            )));
        }
    };
    let key = format!("{app_a}:{} {app_b}:{}", ea.name, eb.name);
    for r in st.relations.values() {
        let has =
            |app: &str, ep: &str| r.endpoints.iter().any(|e| e.app == app && e.endpoint == ep);
        if has(&app_a, &ea.name) && has(&app_b, &eb.name) {
            return Err(invalid(format!(
                "cannot add relation \"{key}\": relation {key} already exists"
            )));
        }
    }
    for (app, ep) in [(&app_a, &ea), (&app_b, &eb)] {
        if let Some(limit) = ep.limit {
            let count = st
                .relations
                .values()
                .filter(|r| {
                    r.life == Life::Alive
                        && r.endpoints
                            .iter()
                            .any(|e| &e.app == app && e.endpoint == ep.name)
                })
                .count();
            if count >= limit as usize {
                return Err(invalid(format!(
                    "cannot add relation \"{key}\": establishing a new relation for {app}:{} would exceed its maximum relation limit of {limit}",
                    ep.name
                )));
            }
        }
    }
    let mut endpoints = vec![
        RelationEndpoint {
            app: app_a.clone(),
            endpoint: ea.name.clone(),
            role: ea.role,
        },
        RelationEndpoint {
            app: app_b.clone(),
            endpoint: eb.name.clone(),
            role: eb.role,
        },
    ];
    endpoints.sort_by_key(|e| e.role != Role::Requirer);
    let id = st.next_relation_id;
    st.next_relation_id += 1;
    // If either endpoint has container scope, so does the relation (and both sides).
    let scope = if ea.is_container() || eb.is_container() {
        "container"
    } else {
        "global"
    };
    st.relations.insert(
        id,
        Relation {
            id,
            interface: ea.interface.clone(),
            endpoints,
            scope: scope.into(),
            life: Life::Alive,
            app_data: BTreeMap::new(),
            unit_data: BTreeMap::new(),
        },
    );
    Ok(id)
}

/// Finds the non-peer relation named by an id (`7`, `db:7`) or by one or two `app[:endpoint]`
/// references.
pub fn find_relation(st: &ModelState, a: &str, b: Option<&str>) -> Result<u64> {
    if b.is_none() {
        let trimmed = a.rsplit(':').next().unwrap_or(a);
        if let Ok(id) = trimmed.parse::<u64>() {
            return st
                .relations
                .contains_key(&id)
                .then_some(id)
                .ok_or_else(|| Error::not_found("relation", a));
        }
    }
    let (app_a, ep_a) = endpoint_ref(a);
    let other = b.map(endpoint_ref);
    let matches: Vec<u64> = st
        .relations
        .values()
        .filter(|r| {
            let side = |app: &str, ep: &Option<String>| {
                r.endpoints
                    .iter()
                    .any(|e| e.app == app && ep.as_ref().is_none_or(|n| &e.endpoint == n))
            };
            side(&app_a, &ep_a) && other.as_ref().is_none_or(|(x, y)| side(x, y)) && !r.is_peer()
        })
        .map(|r| r.id)
        .collect();
    match matches.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::not_found(
            "relation",
            format!("{a} {}", b.unwrap_or("")),
        )),
        _ => Err(invalid(format!(
            "ambiguous relation {a} {}",
            b.unwrap_or("")
        ))),
    }
}
