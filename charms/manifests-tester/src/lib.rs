//! `manifests-tester`: a requirer of the six `kubernetes_manifest` endpoints.
//!
//! - Two ServiceAccounts are built into the charm and always go to `service-accounts`.
//! - The `manifests` config option holds more manifests (YAML, several documents allowed); each is
//!   routed to the endpoint of its kind. A manifest of another kind, invalid YAML or a list too
//!   large for a Juju secret blocks the charm with a message naming the problem, and nothing is
//!   re-sent: what was sent before stays.
//! - The leader sends on config-changed, leader-elected and upgrade-charm (every endpoint), and on
//!   `<endpoint>-relation-created` (that relation). Each endpoint's [`ManifestsSender`] also prunes
//!   old secret revisions and removes a relation's secret when the relation is broken.
//! - Action `sent-manifests` lists what the leader currently publishes.

use charm::{
    ActionEvent, Charm, Ctx, Error, EventKind, ModelError, RelationEvent, ResultExt, Status,
    StatusCollector,
};
use kubernetes_manifests::{
    KubernetesManifest, ManifestError, ManifestsPayload, ManifestsSender, RequirerError,
};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
/// `actions.yaml`.
pub const ACTIONS: &str = include_str!("../actions.yaml");

/// The ServiceAccounts built into the charm, sent on `service-accounts`.
pub const STATIC_SERVICE_ACCOUNTS: [&str; 2] = [
    include_str!("manifests/service-account-1.yaml"),
    include_str!("manifests/service-account-2.yaml"),
];

/// Which endpoint each kind goes to, in endpoint order.
pub const ROUTES: [(&str, &str); 6] = [
    ("Secret", "secrets"),
    ("ServiceAccount", "service-accounts"),
    ("PodDefault", "pod-defaults"),
    ("ConfigMap", "config-maps"),
    ("Role", "roles"),
    ("RoleBinding", "role-bindings"),
];

/// Stored-state key: the problem that stopped the last send, if any.
const PROBLEM: &str = "problem";
/// Stored-state key: how many manifests each endpoint gets.
const PLANNED: &str = "planned";

/// The endpoint for a manifest kind.
pub fn endpoint_for_kind(kind: &str) -> Option<&'static str> {
    ROUTES.iter().find(|(k, _)| *k == kind).map(|(_, e)| *e)
}

/// Why the configured manifests cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The `manifests` option is not valid YAML, or a document is not a manifest.
    #[error("config manifests: {0}")]
    Config(ManifestError),
    /// A manifest of a kind no endpoint takes.
    #[error(
        "config manifests: manifest {index} has kind {kind:?}, which no endpoint takes (known kinds: Secret, ServiceAccount, PodDefault, ConfigMap, Role, RoleBinding)"
    )]
    UnknownKind {
        /// 1-based position among the configured manifests.
        index: usize,
        /// The kind.
        kind: String,
    },
    /// A built-in manifest is broken (a bug in the charm).
    #[error("built-in manifest: {0}")]
    Static(ManifestError),
    /// One endpoint's list does not fit in a Juju secret.
    #[error("endpoint {endpoint}: {source}")]
    TooLarge {
        /// The endpoint.
        endpoint: &'static str,
        /// The size error.
        source: RequirerError,
    },
}

/// Every endpoint's encoded list, ready to send.
#[derive(Debug)]
pub struct Plan {
    /// Per endpoint, in [`ROUTES`] order (endpoints with nothing to send get an empty list, which
    /// withdraws what was sent before).
    pub payloads: Vec<(&'static str, ManifestsPayload)>,
}

impl Plan {
    /// The payload of one endpoint.
    pub fn payload(&self, endpoint: &str) -> Option<&ManifestsPayload> {
        self.payloads
            .iter()
            .find(|(e, _)| *e == endpoint)
            .map(|(_, p)| p)
    }
}

/// Splits the config text into manifests, routes them, and encodes every endpoint's list.
pub fn plan(config_manifests: &str) -> Result<Plan, PlanError> {
    let mut routed: BTreeMap<&'static str, Vec<KubernetesManifest>> = BTreeMap::new();
    for text in STATIC_SERVICE_ACCOUNTS {
        let m = KubernetesManifest::new(text).map_err(PlanError::Static)?;
        routed.entry("service-accounts").or_default().push(m);
    }
    let configured =
        KubernetesManifest::all_from_yaml(config_manifests).map_err(PlanError::Config)?;
    for (i, m) in configured.into_iter().enumerate() {
        let Some(endpoint) = endpoint_for_kind(m.kind()) else {
            return Err(PlanError::UnknownKind {
                index: i + 1,
                kind: m.kind().to_string(),
            });
        };
        routed.entry(endpoint).or_default().push(m);
    }
    let mut payloads = Vec::new();
    for (_, endpoint) in ROUTES {
        let items = routed.remove(endpoint).unwrap_or_default();
        let payload = ManifestsPayload::new(&items)
            .map_err(|source| PlanError::TooLarge { endpoint, source })?;
        payloads.push((endpoint, payload));
    }
    Ok(Plan { payloads })
}

#[derive(Debug, Deserialize)]
struct Config {
    manifests: String,
}

/// The plan for the current config, or the problem as a status message.
fn current_plan(ctx: &mut Ctx) -> Result<Result<Plan, String>, Error> {
    let config: Config = match ctx.config() {
        Ok(c) => c,
        Err(e @ ModelError::Config(_)) => return Ok(Err(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    Ok(plan(&config.manifests).map_err(|e| e.to_string()))
}

/// Computes the plan, records the status, and (leader) sends to `only` or every relation.
fn publish(ctx: &mut Ctx, only: Option<&RelationEvent>) -> Result<(), Error> {
    let plan = match current_plan(ctx)? {
        Ok(plan) => plan,
        Err(problem) => {
            tracing::warn!("nothing sent: {problem}");
            ctx.store(PROBLEM, &problem)?;
            return Ok(());
        }
    };
    ctx.forget(PROBLEM);
    let planned: BTreeMap<&str, usize> = plan.payloads.iter().map(|(e, p)| (*e, p.len())).collect();
    ctx.store(PLANNED, &planned)?;
    if !ctx.is_leader()? {
        return Ok(());
    }
    match only {
        Some(event) => {
            let endpoint = event.relation.endpoint.as_str();
            if let Some(payload) = plan.payload(endpoint) {
                ManifestsSender::new(endpoint).send_payload_to(ctx, payload, &event.relation)?;
            }
        }
        None => {
            for (endpoint, payload) in &plan.payloads {
                ManifestsSender::new(*endpoint).send_payload(ctx, payload)?;
            }
        }
    }
    Ok(())
}

fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    if let Ok(Some(problem)) = ctx.stored::<String>(PROBLEM) {
        statuses.add_unit(Status::blocked(problem));
        return Ok(());
    }
    let planned: BTreeMap<String, usize> = ctx.stored(PLANNED).ok().flatten().unwrap_or_default();
    let total: usize = planned.values().sum();
    let parts: Vec<String> = ROUTES
        .iter()
        .filter_map(|(_, e)| {
            planned
                .get(*e)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {e}"))
        })
        .collect();
    statuses.add_unit(Status::active(if parts.is_empty() {
        "no manifests to send".to_string()
    } else {
        format!(
            "{total} manifest{} to send: {}",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }));
    Ok(())
}

fn sent_manifests(ctx: &mut Ctx, _action: &ActionEvent) -> Result<(), Error> {
    if !ctx.is_leader()? {
        // A Blocked error from an action handler becomes `action-fail <message>`.
        return Err(Error::blocked(
            "run sent-manifests on the leader: only it reads the application's secrets",
        ));
    }
    let mut results = serde_json::Map::new();
    for (_, endpoint) in ROUTES {
        let sender = ManifestsSender::new(endpoint);
        let mut lines = Vec::new();
        for relation in ctx.relations(endpoint)? {
            let sent = sender
                .sent_manifests(ctx, &relation)
                .or_fail("reading our secret")?;
            let shown = match sent {
                None => "nothing sent".to_string(),
                Some(items) if items.is_empty() => "[]".to_string(),
                Some(items) => items
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            lines.push(format!("{relation}: {shown}"));
        }
        if !lines.is_empty() {
            results.insert(
                endpoint.to_string(),
                serde_json::Value::String(lines.join("\n")),
            );
        }
    }
    ctx.action_set(&serde_json::Value::Object(results))?;
    Ok(())
}

/// The charm: config-driven and built-in manifests on six endpoints.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm.metadata(METADATA_JSON);
    for (_, endpoint) in ROUTES {
        charm.plugin(ManifestsSender::new(endpoint)).on(
            EventKind::RelationCreated.on(endpoint),
            |ctx: &mut Ctx, e: &RelationEvent| publish(ctx, Some(e)),
        );
    }
    for kind in [
        EventKind::ConfigChanged,
        EventKind::LeaderElected,
        EventKind::UpgradeCharm,
    ] {
        charm.on(kind, |ctx: &mut Ctx, _: &charm::Event| publish(ctx, None));
    }
    charm
        .collect_status(status)
        .action("sent-manifests", sent_manifests);
    charm
}
