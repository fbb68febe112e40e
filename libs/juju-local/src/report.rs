//! Human and JSON views of a model: `status` and `show`.

use serde_json::{Map, Value, json};

use crate::base64::b64_decode;
use crate::state::{Life, ModelState};

/// The `status` table.
pub fn status_text(st: &ModelState, pending: &[(String, String)]) -> String {
    let mut out = format!(
        "{:<12} {:<8} {}\n{:<12} {:<8} {}\n\n",
        "Model", "Juju", "UUID", st.name, st.juju_version, st.uuid
    );
    out.push_str(&format!(
        "{:<20} {:<12} {:>5}  {:<14} {:<20} {}\n",
        "App", "Status", "Units", "Leader", "Charm", "Message"
    ));
    for a in st.applications.values() {
        let life = if a.life == Life::Dying {
            " (dying)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<20} {:<12} {:>5}  {:<14} {:<20} {}\n",
            format!("{}{life}", a.name),
            a.status.status,
            a.units.len(),
            a.leader.as_deref().unwrap_or("-"),
            a.meta.name,
            a.status.message
        ));
    }
    out.push_str(&format!(
        "\n{:<16} {:<12} {:<10} {:<10} {:<18} {}\n",
        "Unit", "Workload", "Agent", "Version", "Ports", "Message"
    ));
    // Subordinate units are listed (indented) under their principal, as `juju status` does.
    for a in st.applications.values() {
        for u in a.units.values() {
            let orphan = u.principal.as_ref().is_some_and(|p| st.unit(p).is_none());
            if u.principal.is_some() && !orphan {
                continue;
            }
            out.push_str(&unit_row(st, u, ""));
            for sub in st.subordinates_of(&u.name) {
                if let Some(su) = st.unit(&sub) {
                    out.push_str(&unit_row(st, su, "  "));
                }
            }
        }
    }
    if !st.relations.is_empty() {
        out.push_str(&format!(
            "\n{:<4} {:<44} {:<16} {}\n",
            "Id", "Relation", "Interface", "Life"
        ));
        for r in st.relations.values() {
            let life = if r.life == Life::Dying {
                "dying"
            } else {
                "alive"
            };
            let kind = if r.is_peer() {
                " (peer)"
            } else if r.is_container() {
                " (container)"
            } else {
                ""
            };
            out.push_str(&format!(
                "{:<4} {:<44} {:<16} {}\n",
                r.id,
                format!("{}{kind}", r.key()),
                r.interface,
                life
            ));
        }
    }
    if !st.secrets.is_empty() {
        out.push_str(&format!(
            "\n{:<28} {:<22} {:>4}  {}\n",
            "Secret", "Owner", "Rev", "Label"
        ));
        for s in st.secrets.values() {
            out.push_str(&format!(
                "{:<28} {:<22} {:>4}  {}\n",
                s.uri(),
                format!("{} {}", s.owner.kind, s.owner.name),
                s.latest,
                s.label.as_deref().unwrap_or("")
            ));
        }
    }
    if !pending.is_empty() {
        out.push_str("\nPending hooks\n");
        for (u, h) in pending {
            out.push_str(&format!("  {u:<16} {h}\n"));
        }
    }
    out
}

/// One row of the units table, with `indent` before the unit name.
fn unit_row(st: &ModelState, u: &crate::state::Unit, indent: &str) -> String {
    let leader = crate::ids::split_unit(&u.name)
        .and_then(|(app, _)| st.applications.get(app))
        .and_then(|a| a.leader.as_deref());
    let star = if leader == Some(u.name.as_str()) {
        "*"
    } else {
        ""
    };
    let (workload, agent, message) = match &u.agent.error {
        Some(e) => (
            "error".to_string(),
            "idle".to_string(),
            format!("hook failed: {:?} ({})", e.hook.name, e.message),
        ),
        None => (
            u.status.status.clone(),
            if u.life == Life::Dying {
                "dying".into()
            } else {
                "idle".into()
            },
            u.status.message.clone(),
        ),
    };
    let ports: Vec<String> = u.ports.iter().map(|p| p.display()).collect();
    format!(
        "{:<16} {:<12} {:<10} {:<10} {:<18} {}\n",
        format!("{indent}{}{star}", u.name),
        workload,
        agent,
        u.workload_version,
        ports.join(","),
        message
    )
}

/// Everything in the model as JSON; secret content is redacted unless `reveal`.
pub fn show_json(st: &ModelState, pending: &[(String, String)], reveal: bool) -> Value {
    let mut apps = Map::new();
    for a in st.applications.values() {
        let mut units = Map::new();
        for u in a.units.values() {
            units.insert(
                u.name.clone(),
                json!({
                    "leader": a.leader.as_deref() == Some(u.name.as_str()),
                    "principal": u.principal,
                    "subordinates": st.subordinates_of(&u.name),
                    "life": u.life,
                    "status": u.status,
                    "workload-version": u.workload_version,
                    "ports": u.ports.iter().map(|p| if p.endpoint == "*" { p.display() } else { format!("{} ({})", p.display(), p.endpoint) }).collect::<Vec<_>>(),
                    "charm-state": u.charm_state,
                    "charm-dir": u.charm_dir,
                    "error": u.agent.error,
                    "queued": u.agent.queue,
                    "agent": {
                        "installed": u.agent.installed,
                        "started": u.agent.started,
                        "relations": u.agent.relations,
                    },
                }),
            );
        }
        apps.insert(
            a.name.clone(),
            json!({
                "charm": a.meta.name,
                "subordinate": a.meta.subordinate,
                "charm-source": a.charm_source,
                "life": a.life,
                "leader": a.leader,
                "status": a.status,
                "config": a.effective_config(),
                "leader-settings": a.leader_settings,
                "units": units,
            }),
        );
    }
    let relations: Vec<Value> = st
        .relations
        .values()
        .map(|r| {
            let bags =
                |m: &std::collections::BTreeMap<String, crate::state::Bag>| -> Map<String, Value> {
                    m.iter().map(|(k, b)| (k.clone(), json!(b.data))).collect()
                };
            json!({
                "id": r.id,
                "key": r.key(),
                "interface": r.interface,
                "peer": r.is_peer(),
                "life": r.life,
                "endpoints": r.endpoints,
                "scope": r.scope,
                "application-data": bags(&r.app_data),
                "unit-data": bags(&r.unit_data),
            })
        })
        .collect();
    let mut secrets = Map::new();
    for s in st.secrets.values() {
        let revisions: Map<String, Value> = s
            .revisions
            .iter()
            .map(|(n, r)| {
                let content: Map<String, Value> = r
                    .content
                    .iter()
                    .map(|(k, v)| {
                        let shown = if reveal {
                            String::from_utf8_lossy(&b64_decode(v).unwrap_or_default()).into_owned()
                        } else {
                            "<redacted>".into()
                        };
                        (k.clone(), Value::String(shown))
                    })
                    .collect();
                (
                    n.to_string(),
                    json!({"content": content, "created": r.created, "expire": r.expire}),
                )
            })
            .collect();
        secrets.insert(
            s.id.clone(),
            json!({
                "uri": s.uri(),
                "owner": s.owner,
                "label": s.label,
                "description": s.description,
                "rotate": s.rotate,
                "latest-revision": s.latest,
                "revisions": revisions,
                "grants": s.grants,
                "consumers": s.consumers,
            }),
        );
    }
    let pending: Map<String, Value> = pending
        .iter()
        .map(|(u, h)| (u.clone(), Value::String(h.clone())))
        .collect();
    json!({
        "model": {"name": st.name, "uuid": st.uuid, "juju-version": st.juju_version},
        "applications": apps,
        "relations": relations,
        "secrets": secrets,
        "actions": st.actions,
        "pending": pending,
    })
}
