//! The `kubernetes_manifest` relation interface for Rust charms: a port of the Python library
//! `charms.resource_dispatcher.v0.kubernetes_manifests` (LIBPATCH 2), wire-compatible with it in
//! both directions.
//!
//! A requirer (a charm that wants objects created in user namespaces) sends Kubernetes manifests
//! to a provider (resource-dispatcher) inside a Juju secret; the provider reads the union of what
//! every related application sent. The whole wire contract is in [`wire`].
//!
//! - [`KubernetesManifest`]: one object, loaded from YAML with PyYAML's `safe_load` rules.
//! - [`KubernetesManifestsRequirer`]: sends a fixed or computed set of manifests on leader-elected,
//!   relation-created, upgrade-charm and the charm's refresh events. [`ManifestsSender`] sends on
//!   demand (the Python `KubernetesManifestRequirerWrapper`).
//! - [`KubernetesManifestsProvider`]: emits [`ManifestsUpdated`] when a relation's manifests may
//!   have changed and answers [`manifests`](KubernetesManifestsProvider::manifests) per relation,
//!   so one bad relation never hides the others.
//!
//! ```
//! use charm::{Charm, Ctx, Error};
//! use charm_testing::{Harness, Relation, Secret, State};
//! use kubernetes_manifests::{
//!     KubernetesManifest, KubernetesManifestsProvider, KubernetesManifestsRequirer, ManifestsUpdated,
//! };
//!
//! const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: dummy-sa-1\n";
//!
//! // The requirer charm sends one built-in manifest on `service-accounts`.
//! let mut requirer = Charm::new();
//! requirer.plugin(KubernetesManifestsRequirer::new(
//!     "service-accounts",
//!     vec![KubernetesManifest::new(SA)?],
//! ));
//! let requirer = Harness::new(
//!     requirer,
//!     "name: tester\nrequires:\n  service-accounts: {interface: kubernetes_manifest}\n",
//! );
//! let rel = Relation::new("service-accounts", 3, "dispatcher");
//! let out = requirer.run(rel.created(), State::default().leader(true).relation(rel));
//! assert!(out.ok());
//! let sent = out.state.get_relation(3).local_app_data.clone();
//! assert_eq!(sent["is_secret"], "true");
//! let secret = out.state.get_secret("manifest.service-accounts.3");
//! assert_eq!(
//!     secret.revisions[&1].get("manifests"),
//!     Some(r#"[{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dummy-sa-1"}}]"#)
//! );
//!
//! // The provider charm keeps the names it received.
//! fn on_updated(ctx: &mut Ctx, _event: &ManifestsUpdated) -> Result<(), Error> {
//!     let received = KubernetesManifestsProvider::new("service-accounts").manifests(ctx)?;
//!     let names: Vec<String> = received.manifests().map(|m| m.name().to_string()).collect();
//!     ctx.store("names", &names)?;
//!     Ok(())
//! }
//! let mut provider = Charm::new();
//! provider
//!     .plugin(KubernetesManifestsProvider::new("service-accounts"))
//!     .on_event(on_updated);
//! let provider = Harness::new(
//!     provider,
//!     "name: dispatcher\nprovides:\n  service-accounts: {interface: kubernetes_manifest}\n",
//! );
//! // Juju carries the bag and the granted secret across.
//! let rel = Relation::new("service-accounts", 3, "tester").remote_app_data(sent);
//! let state = State::default()
//!     .relation(rel.clone())
//!     .secret(Secret::granted(&secret.id, secret.revisions[&1].clone()));
//! let out = provider.run(rel.changed(None), state);
//! assert!(out.ok());
//! assert_eq!(out.state.stored["names"], serde_json::json!(["dummy-sa-1"]));
//! // The provider labelled the secret on its side, so `secret-changed` finds the relation.
//! assert!(out.state.secret_by("manifest.service-accounts.3").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See the crate's README for the wire format and the deliberate differences from the Python
//! library (all bug fixes that keep the wire format).

mod manifest;
mod provider;
mod requirer;
pub mod wire;

pub use manifest::{KubernetesManifest, ManifestError};
pub use provider::{
    KubernetesManifestsProvider, ListSource, ManifestsUpdated, ProviderError, ProviderErrorKind,
    ReceivedManifests, RelationManifests, UpdateCause,
};
pub use requirer::{
    KubernetesManifestsRequirer, ManifestsPayload, ManifestsSender, PruneOutcome, RequirerError,
    SendOutcome,
};
pub use wire::ListError;

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
