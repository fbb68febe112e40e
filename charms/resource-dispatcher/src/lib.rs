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
//! - Action `get-manifests` returns the aggregated manifests as YAML documents.
//!
//! The real charm also applies the manifests to Kubernetes; this one has no cluster and only
//! aggregates.

use charm::{
    ActionEvent, Charm, Classify, Ctx, Error, Event, Outcome, ResultExt, Status, StatusCollector,
};
use kubernetes_manifests::{KubernetesManifest, KubernetesManifestsProvider, ManifestsUpdated};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
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
}

/// What every endpoint received, as kept between hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Per endpoint.
    pub endpoints: BTreeMap<String, EndpointSummary>,
    /// Conflicts found over all endpoints, as messages.
    pub conflicts: Vec<String>,
}

/// Two or more manifests with the same kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Reads one endpoint; fails only for errors a retry can help with (a hook tool failed).
fn read_endpoint(ctx: &mut Ctx, endpoint: &str) -> Result<EndpointSummary, Error> {
    let received = KubernetesManifestsProvider::new(endpoint).manifests(ctx)?;
    let mut summary = EndpointSummary::default();
    for relation in &received.relations {
        let app = relation.app.clone().unwrap_or_else(|| "?".to_string());
        match &relation.result {
            Ok(items) => summary.manifests.extend(items.iter().map(|m| ManifestKey {
                kind: m.kind().to_string(),
                namespace: m.namespace().map(str::to_string),
                name: m.name().to_string(),
                app: app.clone(),
            })),
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
    Ok(summary)
}

fn on_updated(ctx: &mut Ctx, event: &ManifestsUpdated) -> Result<(), Error> {
    let mut dirty: BTreeSet<String> = ctx.stored(DIRTY).ok().flatten().unwrap_or_default();
    dirty.insert(event.relation.endpoint.clone());
    ctx.store(DIRTY, &dirty)?;
    Ok(())
}

/// Re-reads the endpoints that changed and refreshes the stored summary.
fn reconcile(ctx: &mut Ctx) -> Result<(), Error> {
    let dirty: BTreeSet<String> = ctx.stored(DIRTY).ok().flatten().unwrap_or_default();
    let stored: Option<Summary> = ctx.stored(SUMMARY).ok().flatten();
    let everything = stored.is_none() || matches!(ctx.event(), Event::UpgradeCharm);
    if dirty.is_empty() && !everything {
        return Ok(());
    }
    let mut summary = stored.unwrap_or_default();
    for endpoint in ENDPOINTS {
        if everything || dirty.contains(endpoint) {
            let read = read_endpoint(ctx, endpoint)?;
            summary.endpoints.insert(endpoint.to_string(), read);
        }
    }
    let keys: Vec<ManifestKey> = ENDPOINTS
        .iter()
        .filter_map(|e| summary.endpoints.get(*e))
        .flat_map(|s| s.manifests.iter().cloned())
        .collect();
    summary.conflicts = find_conflicts(&keys)
        .iter()
        .map(Conflict::to_string)
        .collect();
    for conflict in &summary.conflicts {
        tracing::warn!("conflicting manifests: {conflict}");
    }
    ctx.store(SUMMARY, &summary)?;
    ctx.forget(DIRTY);
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
    if let Some(first) = summary.conflicts.first() {
        return Status::blocked(format!(
            "conflicting manifests: {first}{}",
            more(summary.conflicts.len())
        ));
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

fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let summary: Summary = ctx.stored(SUMMARY).ok().flatten().unwrap_or_default();
    statuses.add_unit(summary_status(&summary));
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

/// The charm: six providers, one reconcile step, a status, an action.
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
