//! The timeline (`timeline.jsonl`): one record per dispatch (hook or action) with what it changed
//! in the model, appended by the driver.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::state::{Bag, HookSpec, ModelState, Relation, Status};

/// A library event printed by a charm as `CHARM_EVENT {"event":"<Name>","fields":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharmEvent {
    /// The event name.
    pub event: String,
    /// Its fields.
    #[serde(default)]
    pub fields: Value,
}

/// One hook-tool invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Tool name.
    pub tool: String,
    /// Arguments (secret values redacted).
    pub args: Vec<String>,
    /// Exit code.
    pub exit: i32,
    /// Duration in microseconds, as measured by the tool itself.
    pub micros: u64,
}

/// One dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    /// Sequence number within the model.
    pub seq: u64,
    /// The unit.
    pub unit: String,
    /// `hook` (run by the agent), `manual` (`juju-local run`) or `action`.
    pub kind: String,
    /// What ran.
    pub hook: HookSpec,
    /// When it finished (RFC 3339).
    pub started: String,
    /// The dispatch exit code.
    pub exit_code: i32,
    /// `ok`, `failed` or `skipped` (no dispatch file).
    pub outcome: String,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether buffered changes were committed.
    pub committed: bool,
    /// Wall time of the dispatch in milliseconds.
    pub wall_ms: f64,
    /// Time spent inside hook tools, in milliseconds.
    pub tool_ms: f64,
    /// Number of hook-tool calls.
    pub tool_calls: usize,
    /// Peak RSS of the charm process and its waited-for children, KiB.
    pub max_rss_kb: u64,
    /// What changed in the model.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// Library events the charm reported.
    #[serde(default)]
    pub events: Vec<CharmEvent>,
    /// `juju-log` lines (level, message).
    #[serde(default)]
    pub juju_log: Vec<(String, String)>,
    /// Other stdout lines.
    #[serde(default)]
    pub stdout: Vec<String>,
    /// stderr lines.
    #[serde(default)]
    pub stderr: Vec<String>,
    /// Every hook-tool call.
    #[serde(default)]
    pub tools: Vec<ToolCall>,
}

/// Appends a record to a timeline file.
pub(crate) fn append(path: &Path, record: &HookRecord) -> Result<()> {
    let line = serde_json::to_string(record).map_err(|e| Error::Format {
        what: "timeline record".into(),
        message: e.to_string(),
    })?;
    crate::files::append_line(path, &line)
}

/// Reads a timeline file (missing means empty).
pub fn read(path: &Path) -> Result<Vec<HookRecord>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = crate::files::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Format {
                what: format!("timeline {} line {}", path.display(), i + 1),
                message: e.to_string(),
            })
        })
        .collect()
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

/// Describes the differences between two model states.
pub(crate) fn diff(before: &ModelState, after: &ModelState) -> Vec<Change> {
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
        let bags = |r: Option<&Relation>| -> BTreeMap<String, Bag> {
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
                            Some(u) => format!("{u} (rel {})", rel_name(g.relation)),
                            None => format!("{} (rel {})", g.app, rel_name(g.relation)),
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

/// A grant's relation for printing: its id, or `-` for an operator's grant of a user secret.
fn rel_name(relation: Option<u64>) -> String {
    relation.map_or_else(|| "-".to_string(), |r| r.to_string())
}
