//! Write Juju charms in Rust.
//!
//! A charm is a binary named `dispatch`. Juju runs it once per hook with the hook's context in
//! environment variables; it answers through hook tools (`relation-get`, `status-set`, ...). This
//! crate reads that context into a typed [`Event`], gives handlers a [`Ctx`] (the Juju model with
//! Juju's rules enforced and reads cached), runs them, and commits: one `relation-set` per bag,
//! one `status-set` per changed status, state saved next to the charm.
//!
//! ```no_run
//! use charm::{Charm, Ctx, Error, EventKind, RelationEvent, Status, StatusCollector, Bag};
//! use serde::Deserialize;
//! use std::process::ExitCode;
//!
//! #[derive(Deserialize)]
//! struct Config {
//!     greeting: String,
//! }
//!
//! // A plain function handles an event; `?` turns bad config into a Blocked status.
//! fn greet(ctx: &mut Ctx, rel: &RelationEvent) -> Result<(), Error> {
//!     let config: Config = ctx.config()?;
//!     ctx.set(&rel.relation, &Bag::LocalUnit, "greeting", &config.greeting)?;
//!     Ok(())
//! }
//!
//! fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
//!     match ctx.relations("peer-greeters")?.len() {
//!         0 => statuses.add_unit(Status::waiting("no one to greet")),
//!         n => statuses.add_unit(Status::active(format!("greeting {n} relations"))),
//!     }
//!     Ok(())
//! }
//!
//! fn main() -> ExitCode {
//!     Charm::new()
//!         .on(EventKind::RelationJoined.on("peer-greeters"), greet)
//!         .collect_status(status)
//!         .run()
//! }
//! ```
//!
//! A charm embeds its `metadata.yaml` as JSON, made at build time by the `charm-build` crate
//! (`build.rs`: `charm_build::embed_metadata()`), and passes it to [`Charm::metadata`]; the binary
//! then carries no YAML parser. Libraries for relation interfaces plug in with [`Charm::plugin`],
//! the same mechanism charm code uses, register their handlers with [`Charm::endpoint`], and emit
//! their own typed events ([`CustomEvent`], named `<library>.<event>`) that charms handle with
//! [`Charm::on_event`]. Test charms with the `charm-testing` crate (`charm_testing::Harness`).
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`env`](mod@env) | the dispatch environment, parsed ([`JujuEnv`]) |
//! | [`host`] | machine, zone, principal, proxies; Juju-version feature predicates |
//! | [`event`] | Juju's events as one enum, and handler filters |
//! | [`model`] | [`Ctx`]: relations, databags, secrets, config, status, actions, state |
//! | [`databag`] | typed bags: serde structs and per-field wire encodings |
//! | [`secret`] | secret ids, content and the secret hook tools' arguments |
//! | [`status`] | statuses and the collect-status step |
//! | [`port`] | ports a unit opens |
//! | [`network`] | a binding's network (`network-get`), typed |
//! | [`storage`] | storage from metadata, and attached instances (`storage-get`, ...) |
//! | [`cloud`] | the cloud spec and credential (`credential-get`) |
//! | [`goal_state`] | the units and relations Juju plans (`goal-state`) |
//! | [`app_status`] | the application's and its units' statuses (`status-get --application`) |
//! | [`container`] | workload containers and their Pebble ([`Ctx::container`]) |
//! | [`meta`] | the charm's metadata, embedded as JSON at build time |
//! | [`workload_meta`] | its Kubernetes parts: workload containers and resources |
//! | [`backend`] | the hook tools as a trait, and the real process backend |
//! | [`dispatch`] | the dispatcher ([`Charm`]): handlers, deferral, reconcile, collect-status |
//! | [`entry`] | a charm binary's entry point without std's runtime start-up ([`main!`]) |
//! | [`plugin`] | the extension point ([`Plugin`]) and the endpoint helper relation libraries use |
//! | [`state`] | state kept between hooks, and its on-disk format |
//! | [`error`] | handler errors and the outcome each leads to |
//! | [`log`] | `tracing` to `juju-log` |
//! | [`metrics`] | per-dispatch cost, when `CHARM_METRICS_FILE` is set |

pub mod app_status;
pub mod backend;
pub mod cloud;
pub mod container;
pub mod databag;
pub mod dispatch;
pub mod entry;
pub mod env;
pub mod error;
pub mod event;
pub mod goal_state;
pub mod host;
pub mod log;
pub mod meta;
pub mod metrics;
pub mod model;
pub mod network;
pub mod plugin;
pub mod port;
mod reach;
pub mod secret;
pub mod state;
pub mod status;
pub mod storage;
pub mod workload_meta;

/// The README's example charm, compiled as a doc-test so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExample;

pub use backend::{BagData, HookToolError, HookTools, LogLevel, ProcessBackend};
pub use container::{Container, ContainerError, ExecCommand, PebbleApi};
pub use dispatch::{Charm, DispatchReport, EmittedEvent};
pub use env::{EnvError, JujuEnv, JujuVersion};
pub use error::{Classify, Error, Outcome, ResultExt};
pub use event::{
    ActionEvent, Event, EventKind, Filter, FromEvent, Notice, PebbleCheckEvent, PebbleNoticeEvent,
    RelationEvent, RelationId, SecretEvent, StorageEvent, WorkloadEvent,
};
pub use meta::{Metadata, Role};
pub use model::{Bag, Ctx, CustomEvent, ModelError, Relation};
/// The Pebble client crate, for its layer, plan and API types.
pub use pebble;
pub use plugin::{EndpointHandlers, EndpointSpec, Plugin};
pub use port::Port;
pub use secret::{
    InvalidSecretId, NewSecret, RotatePolicy, SecretContent, SecretId, SecretInfo, SecretOwner,
    SecretRead, SecretUpdate,
};
pub use state::StoreKind;
pub use status::{Status, StatusCollector, StatusKind};
