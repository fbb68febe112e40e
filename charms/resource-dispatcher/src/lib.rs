//! `resource-dispatcher`: the provider of the six `kubernetes_manifest` endpoints.
//!
//! - Each endpoint has a [`KubernetesManifestsProvider`]; when one reports [`ManifestsUpdated`],
//!   the endpoint is marked for re-reading.
//! - One `reconcile` step re-reads the marked endpoints (all of them on the first hook and on
//!   upgrade-charm), keeps a summary per endpoint in stored state, and finds conflicts: two
//!   manifests with the same kind, namespace and name.
//! - `collect_status` reports from the stored summary, without any hook tool: Blocked for bad data
//!   from a relation or for conflicts, Waiting for a relation whose secret is not readable yet,
//!   otherwise Active `N manifests from M apps`.
//! - The workload container `resource-dispatcher` (module [`workload`], the only one that talks
//!   to Pebble): every endpoint's manifests become `<folder>/<endpoint>/<namespace or
//!   _global>/<name>.yaml` files there, stale ones removed, and the dispatcher service's layer is
//!   added and replanned only when it differs. While the container cannot be reached the charm
//!   is Waiting and remembers which endpoints are not written; `pebble-ready` (a new or restarted
//!   container) writes everything again. Only the leader writes, as upstream: other units are
//!   Waiting `Waiting for leadership`, and `leader-elected` writes everything.
//! - Action `get-manifests` returns the aggregated manifests as YAML documents.

use charm::{
    ActionEvent, Charm, Classify, Ctx, Error, Event, Outcome, ResultExt, Status, StatusCollector,
};
use kubernetes_manifests::{KubernetesManifest, KubernetesManifestsProvider, ManifestsUpdated};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub mod workload;

use workload::{Folder, Workload, WorkloadError};

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
/// The workload stand-in for local runs (`workload/main.py`): what tests and the demo put at the
/// container's `/main.py`, where the image has upstream's service.
pub const WORKLOAD_STAND_IN: &str = include_str!("../workload/main.py");
/// `actions.yaml`.
pub const ACTIONS: &str = include_str!("../actions.yaml");

/// The six endpoints, in the order manifests are aggregated.
pub const ENDPOINTS: [&str; 6] = [
    "secrets",
    "service-accounts",
    "pod-defaults",
    "config-maps",
    "roles",
    "role-bindings",
];

/// Stored-state key: endpoints whose manifests must be re-read.
const DIRTY: &str = "dirty-endpoints";
/// Stored-state key: the summary of every endpoint.
const SUMMARY: &str = "summary";
/// Stored-state key: endpoints whose files the workload container does not hold yet.
const UNSYNCED: &str = "unsynced-endpoints";
/// Stored-state key: why the workload is not ready (a Waiting or Blocked status), if it is not.
const WORKLOAD: &str = "workload";

/// Upstream's status on a unit that is not the leader (only the leader writes files).
pub const WAITING_FOR_LEADERSHIP: &str = "Waiting for leadership";

/// The order upstream processes endpoints in when writing files (a conflict stops the rest).
pub const PROCESS_ORDER: [&str; 6] = [
    "config-maps",
    "secrets",
    "service-accounts",
    "pod-defaults",
    "roles",
    "role-bindings",
];

/// Upstream's default `target_namespace_label`.
pub const DEFAULT_LABEL: &str = "user.kubeflow.org/enabled";

/// The charm's config.
#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default = "default_label")]
    target_namespace_label: String,
}

fn default_label() -> String {
    DEFAULT_LABEL.to_string()
}

/// What the workload lacks, as kept between hooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct WorkloadProblem {
    /// Whether waiting can fix it (else Blocked).
    waiting: bool,
    /// The status message.
    message: String,
}

/// The identity of one received manifest, and who sent it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestKey {
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace` (none: every target namespace).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The application that sent it.
    pub app: String,
}

/// A relation whose manifests could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Whether waiting can fix it (else a human must: Blocked).
    pub waiting: bool,
    /// The typed error's message (names the relation and the app).
    pub message: String,
}

/// What one endpoint received, as kept between hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSummary {
    /// Every manifest's identity, in aggregation order.
    pub manifests: Vec<ManifestKey>,
    /// The relations that could not be read.
    pub problems: Vec<Problem>,
    /// How many relations the endpoint had when read (none: not known, as in state kept by an
    /// older revision). An endpoint read with none has nothing to write until a relation event
    /// marks it again, so a hook that writes everything need not ask Juju for its relations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relations: Option<usize>,
}

/// What every endpoint received, as kept between hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Per endpoint.
    pub endpoints: BTreeMap<String, EndpointSummary>,
    /// Conflicts found over all endpoints.
    pub conflicts: Vec<Conflict>,
}

/// Two or more manifests with the same kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The applications sending it, once per copy, in aggregation order.
    pub apps: Vec<String>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name)?,
            None => write!(f, "{} {}", self.kind, self.name)?,
        }
        let distinct: BTreeSet<&str> = self.apps.iter().map(String::as_str).collect();
        if let (1, Some(app)) = (distinct.len(), distinct.first()) {
            write!(f, " sent {} times by {app}", self.apps.len())
        } else {
            write!(f, " sent by {}", self.apps.join(" and "))
        }
    }
}

/// Finds manifests that share kind, namespace and name (the real charm compares namespace and
/// name per endpoint; with one kind per endpoint that is the same). A namespaced manifest and a
/// global one of the same name do not conflict, as upstream.
pub fn find_conflicts(keys: &[ManifestKey]) -> Vec<Conflict> {
    let mut groups: BTreeMap<(&str, Option<&str>, &str), Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for key in keys {
        let id = (
            key.kind.as_str(),
            key.namespace.as_deref(),
            key.name.as_str(),
        );
        let apps = groups.entry(id).or_default();
        if apps.is_empty() {
            order.push(id);
        }
        apps.push(key.app.clone());
    }
    order
        .into_iter()
        .filter_map(|id| {
            let apps = groups.get(&id)?;
            (apps.len() > 1).then(|| Conflict {
                kind: id.0.to_string(),
                namespace: id.1.map(str::to_string),
                name: id.2.to_string(),
                apps: apps.clone(),
            })
        })
        .collect()
}

/// Whether `part` can be a file or directory name under the manifests folder (upstream uses
/// names unchecked; a name from a remote app must not point elsewhere).
pub fn valid_path_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 253
        && part != "."
        && part != ".."
        && part != "_global"
        && !part.contains(['/', '\0'])
}

/// Reads one endpoint: its summary and the manifests that can become files; fails only for
/// errors a retry can help with (a hook tool failed).
fn read_endpoint(
    ctx: &mut Ctx,
    endpoint: &str,
) -> Result<(EndpointSummary, Vec<KubernetesManifest>), Error> {
    let received = KubernetesManifestsProvider::new(endpoint).manifests(ctx)?;
    let mut summary = EndpointSummary {
        relations: Some(received.relations.len()),
        ..EndpointSummary::default()
    };
    let mut manifests = Vec::new();
    for relation in received.relations {
        let app = relation.app.clone().unwrap_or_else(|| "?".to_string());
        match relation.result {
            Ok(items) => {
                for m in items {
                    let bad = std::iter::once(m.name())
                        .chain(m.namespace())
                        .find(|p| !valid_path_part(p));
                    if let Some(bad) = bad {
                        let shown: String = bad.chars().take(64).collect();
                        summary.problems.push(Problem {
                            waiting: false,
                            message: format!(
                                "relation {endpoint}:{} (app {app}): {} {shown:?} cannot be a file name",
                                relation.relation.id,
                                m.kind()
                            ),
                        });
                        continue;
                    }
                    summary.manifests.push(ManifestKey {
                        kind: m.kind().to_string(),
                        namespace: m.namespace().map(str::to_string),
                        name: m.name().to_string(),
                        app: app.clone(),
                    });
                    manifests.push(m);
                }
            }
            Err(e) => match e.outcome() {
                Outcome::Fail => return Err(Error::fail(e.to_string())),
                outcome => {
                    tracing::warn!("{e}");
                    summary.problems.push(Problem {
                        waiting: outcome == Outcome::Waiting,
                        message: e.to_string(),
                    });
                }
            },
        }
    }
    Ok((summary, manifests))
}

fn on_updated(ctx: &mut Ctx, event: &ManifestsUpdated) -> Result<(), Error> {
    let mut dirty: BTreeSet<String> = ctx.stored(DIRTY).ok().flatten().unwrap_or_default();
    dirty.insert(event.relation.endpoint.clone());
    ctx.store(DIRTY, &dirty)?;
    Ok(())
}

fn all_endpoints() -> BTreeSet<String> {
    ENDPOINTS.iter().map(|e| e.to_string()).collect()
}

/// One manifest's file content: YAML of the whole object (the service parses it).
fn manifest_yaml(m: &KubernetesManifest) -> Result<String, Error> {
    charm_yaml::to_string(&Value::Object(m.as_object().clone()))
        .or_fail("writing a manifest as YAML")
}

/// Re-reads the endpoints that changed, refreshes the stored summary, and brings the workload
/// container up to date (files, then the service layer).
fn reconcile(ctx: &mut Ctx) -> Result<(), Error> {
    let dirty: BTreeSet<String> = ctx.stored(DIRTY).ok().flatten().unwrap_or_default();
    let stored: Option<Summary> = ctx.stored(SUMMARY).ok().flatten();
    let everything = stored.is_none() || matches!(ctx.event(), Event::UpgradeCharm);
    let pebble_ready =
        matches!(ctx.event(), Event::PebbleReady(w) if w.container == workload::CONTAINER);
    let config_changed = matches!(ctx.event(), Event::ConfigChanged);
    // Juju fires leader-elected on the unit that gains leadership: the first hook where it may
    // write, so everything is written (its container may hold nothing of ours, or stale files).
    let leader_elected = matches!(ctx.event(), Event::LeaderElected);
    let mut unsynced: BTreeSet<String> = ctx
        .stored(UNSYNCED)
        .ok()
        .flatten()
        .unwrap_or_else(all_endpoints);
    if everything || pebble_ready || leader_elected {
        // A new or restarted container holds none of our files.
        unsynced = all_endpoints();
    }
    let previous: Option<WorkloadProblem> = ctx.stored(WORKLOAD).ok().flatten().flatten();
    // A non-leader's unwritten endpoints wait for leader-elected, not for every hook.
    let waits_for_leadership = previous.is_some_and(|p| p.message == WAITING_FOR_LEADERSHIP);
    let layer_due = everything
        || pebble_ready
        || leader_elected
        || config_changed
        || (!unsynced.is_empty() && !waits_for_leadership);
    if dirty.is_empty() && !layer_due {
        return Ok(());
    }
    // The framework's handle (metadata declares the container, so this fails only on a broken
    // charm); nothing is connected until the first call.
    let workload = Workload::new(ctx.container(workload::CONTAINER)?);
    // One listing of the manifests folder both tells whether Pebble answers and spares the
    // requests for endpoint folders that are not there.
    let folder = workload.probe();
    let up = folder.is_ok();
    // Only the leader writes into its container, as upstream (every unit still reads the
    // relations, for its status and get-manifests). Leadership is asked only when it decides
    // something: not while the container is down and nothing new came in (then the last answer
    // stands).
    let leader = if up || !dirty.is_empty() || everything || leader_elected {
        ctx.is_leader()?
    } else {
        !waits_for_leadership
    };
    let reachable = leader && up;
    let mut to_read = dirty.clone();
    if everything {
        to_read = all_endpoints();
    }
    let mut summary = stored.unwrap_or_default();
    let mut manifests: BTreeMap<String, Vec<KubernetesManifest>> = BTreeMap::new();
    if reachable {
        for endpoint in &unsynced {
            // Last read with no relation, and no relation event since: nothing to write (stale
            // files are still removed), without asking Juju again.
            let none = summary
                .endpoints
                .get(endpoint)
                .is_some_and(|s| s.relations == Some(0));
            if none && !to_read.contains(endpoint) {
                manifests.insert(endpoint.clone(), Vec::new());
            } else {
                to_read.insert(endpoint.clone());
            }
        }
    }
    for endpoint in ENDPOINTS {
        if to_read.contains(endpoint) {
            let (read, items) = read_endpoint(ctx, endpoint)?;
            summary.endpoints.insert(endpoint.to_string(), read);
            manifests.insert(endpoint.to_string(), items);
        }
    }
    let keys: Vec<ManifestKey> = ENDPOINTS
        .iter()
        .filter_map(|e| summary.endpoints.get(*e))
        .flat_map(|s| s.manifests.iter().cloned())
        .collect();
    summary.conflicts = find_conflicts(&keys);
    for conflict in &summary.conflicts {
        tracing::warn!("conflicting manifests: {conflict}");
    }
    ctx.store(SUMMARY, &summary)?;
    ctx.forget(DIRTY);
    if !leader {
        // Nothing of this unit's container is kept up to date: should it become the leader,
        // leader-elected writes everything.
        ctx.store(UNSYNCED, &all_endpoints())?;
        ctx.store(
            WORKLOAD,
            &Some(WorkloadProblem {
                waiting: true,
                message: WAITING_FOR_LEADERSHIP.into(),
            }),
        )?;
        return Ok(());
    }
    if !reachable {
        unsynced.extend(dirty);
        ctx.store(UNSYNCED, &unsynced)?;
        ctx.store(
            WORKLOAD,
            &Some(WorkloadProblem {
                waiting: true,
                message: "Container is not ready".into(),
            }),
        )?;
        return Ok(());
    }
    // The layer is checked when it may have changed or gone: not on every relation change.
    let check_layer = layer_due;
    let folder = folder.unwrap_or(Folder::Unknown);
    let problem = match sync_workload(
        ctx,
        &workload,
        &folder,
        &summary,
        &manifests,
        &mut unsynced,
        check_layer,
    ) {
        Ok(()) => None,
        Err(WorkloadError::NotReady(_)) => Some(WorkloadProblem {
            waiting: true,
            message: "Container is not ready".into(),
        }),
        Err(WorkloadError::Service(e)) => Some(WorkloadProblem {
            waiting: false,
            message: bounded(&format!("service {} did not start: {e}", workload::SERVICE)),
        }),
        Err(e) => {
            ctx.store(UNSYNCED, &unsynced)?;
            return Err(Error::fail(bounded(&format!("workload container: {e}"))));
        }
    };
    ctx.store(UNSYNCED, &unsynced)?;
    ctx.store(WORKLOAD, &problem)?;
    Ok(())
}

/// At most 200 characters of `text`, on one line (a status message).
fn bounded(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= 200 {
        return line.to_string();
    }
    let mut out: String = line.chars().take(199).collect();
    out.push('…');
    out
}

/// Writes the files of the endpoints just read, in upstream's order (an endpoint with a conflict
/// stops the rest, as upstream; the stale files of each are removed, then the files of all are
/// pushed in one request), then makes sure the service layer is there.
fn sync_workload(
    ctx: &mut Ctx,
    workload: &Workload,
    folder: &Folder,
    summary: &Summary,
    manifests: &BTreeMap<String, Vec<KubernetesManifest>>,
    unsynced: &mut BTreeSet<String>,
    check_layer: bool,
) -> Result<(), WorkloadError> {
    workload.ensure_folder(folder)?;
    let mut files = BTreeMap::new();
    let mut pruned = Vec::new();
    for endpoint in PROCESS_ORDER {
        let Some(items) = manifests.get(endpoint) else {
            continue;
        };
        let conflicted = summary.conflicts.iter().any(|c| {
            items.iter().any(|m| {
                m.kind() == c.kind && m.name() == c.name && m.namespace() == c.namespace.as_deref()
            })
        });
        if conflicted {
            break;
        }
        let mut desired = BTreeMap::new();
        for m in items {
            let Ok(text) = manifest_yaml(m) else {
                continue;
            };
            desired.insert(workload::file_path(endpoint, m.namespace(), m.name()), text);
        }
        let removed = workload.prune(folder, endpoint, &desired)?;
        if !removed.is_empty() {
            tracing::info!("{endpoint}: removed {}", removed.join(", "));
        }
        files.extend(desired);
        pruned.push(endpoint);
    }
    // The files of every endpoint written, in one request; an endpoint is synced once they are.
    workload.push_files(&files)?;
    for endpoint in pruned {
        unsynced.remove(endpoint);
    }
    if !check_layer {
        return Ok(());
    }
    let label = ctx
        .config::<Config>()
        .map(|c| c.target_namespace_label)
        .unwrap_or_else(|_| default_label());
    if workload.ensure_layer(&label)? {
        tracing::info!("Applying new pebble layer");
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The status the stored summary calls for.
pub fn summary_status(summary: &Summary) -> Status {
    let problems: Vec<&Problem> = ENDPOINTS
        .iter()
        .filter_map(|e| summary.endpoints.get(*e))
        .flat_map(|s| s.problems.iter())
        .collect();
    let more = |n: usize| {
        if n > 1 {
            format!(" (and {} more; see juju debug-log)", n - 1)
        } else {
            String::new()
        }
    };
    let blocked: Vec<&&Problem> = problems.iter().filter(|p| !p.waiting).collect();
    if let Some(first) = blocked.first() {
        return Status::blocked(format!("{}{}", first.message, more(blocked.len())));
    }
    if !summary.conflicts.is_empty() {
        return Status::blocked(conflict_message(&summary.conflicts));
    }
    if let Some(first) = problems.first() {
        return Status::waiting(format!("{}{}", first.message, more(problems.len())));
    }
    let keys: Vec<&ManifestKey> = summary
        .endpoints
        .values()
        .flat_map(|s| s.manifests.iter())
        .collect();
    let apps: BTreeSet<&str> = keys.iter().map(|k| k.app.as_str()).collect();
    Status::active(format!(
        "{} from {}",
        plural(keys.len(), "manifest"),
        plural(apps.len(), "app")
    ))
}

/// Python's `repr` of a string, as upstream's message shows names.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Upstream's Blocked message for conflicts: `Conflicting manifests (namespace=None name='x';
/// namespace='ns' name='y'). See debug logs.` (at most three listed).
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let mut parts: Vec<String> = conflicts
        .iter()
        .take(3)
        .map(|c| {
            let ns = c.namespace.as_deref().map_or("None".to_string(), py_repr);
            let name: String = c.name.chars().take(64).collect();
            format!("namespace={ns} name={}", py_repr(&name))
        })
        .collect();
    if conflicts.len() > 3 {
        parts.push("…".into());
    }
    format!(
        "Conflicting manifests ({}). See debug logs.",
        parts.join("; ")
    )
}

fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let summary: Summary = ctx.stored(SUMMARY).ok().flatten().unwrap_or_default();
    statuses.add_unit(summary_status(&summary));
    // The collector keeps the most severe: a relation problem (Blocked) wins over a container
    // that is not ready (Waiting), which wins over Active.
    let problem: Option<WorkloadProblem> = ctx.stored(WORKLOAD).ok().flatten().flatten();
    if let Some(p) = problem {
        statuses.add_unit(if p.waiting {
            Status::waiting(p.message)
        } else {
            Status::blocked(p.message)
        });
    }
    Ok(())
}

/// Parameters of `get-manifests`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct GetManifestsParams {
    #[serde(default)]
    show_secrets: bool,
}

/// A manifest as the action shows it: Secret data replaced unless asked for.
fn shown(manifest: &KubernetesManifest, show_secrets: bool) -> Value {
    let mut object = manifest.as_object().clone();
    if manifest.kind() == "Secret" && !show_secrets {
        for key in ["data", "stringData"] {
            if let Some(Value::Object(values)) = object.get_mut(key) {
                for v in values.values_mut() {
                    *v = Value::String("<redacted>".to_string());
                }
            }
        }
    }
    Value::Object(object)
}

fn get_manifests(ctx: &mut Ctx, _action: &ActionEvent) -> Result<(), Error> {
    let params: GetManifestsParams = ctx.action_params().or_fail("get-manifests parameters")?;
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut apps = BTreeSet::new();
    for endpoint in ENDPOINTS {
        let received = KubernetesManifestsProvider::new(endpoint).manifests(ctx)?;
        for relation in received.relations {
            match relation.result {
                Ok(items) => {
                    if !items.is_empty()
                        && let Some(app) = relation.app
                    {
                        apps.insert(app);
                    }
                    for m in &items {
                        documents.push(
                            charm_yaml::to_string(&shown(m, params.show_secrets))
                                .or_fail("writing a manifest as YAML")?,
                        );
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    let mut results = serde_json::json!({
        "count": documents.len().to_string(),
        "apps": apps.len().to_string(),
        "manifests": if documents.is_empty() { "[]\n".to_string() } else { documents.join("---\n") },
    });
    if !errors.is_empty()
        && let Some(map) = results.as_object_mut()
    {
        map.insert("errors".to_string(), Value::String(errors.join("\n")));
    }
    let count = documents.len();
    ctx.action_set(&results)
        .map_err(|e| Error::from(e).context(format!("get-manifests ({count} manifests)")))?;
    Ok(())
}

/// The charm: six providers, one reconcile step (which writes into the workload container), a
/// status, an action.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm.metadata(METADATA_JSON);
    for endpoint in ENDPOINTS {
        charm.plugin(
            KubernetesManifestsProvider::new(endpoint).refresh_on(charm::EventKind::UpgradeCharm),
        );
    }
    charm
        .on_event(on_updated)
        .reconcile(reconcile)
        .collect_status(status)
        .action("get-manifests", get_manifests);
    charm
}
