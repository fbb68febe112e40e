//! Juju's rules for a charm, written once as a table of cases ([`cases::CASES`]) and run against
//! every implementation of the charm's side of Juju:
//!
//! | Runner | Implementation | Through |
//! |---|---|---|
//! | `tests/harness.rs` | the in-memory harness (`charm-testing`) | the raw `HookTools` of a harness run |
//! | `tests/juju_local.rs` | `juju-local`'s hook tools and commit | the `rules-probe` charm in a local model, raw `HookTools` over the real process backend |
//! | `tests/framework.rs` | the framework's `Ctx` | the real `ProcessBackend` over stub hook tools |
//!
//! The first two must answer every case as Juju does. The framework must refuse by itself, before
//! the tool runs, whatever Juju would refuse for reasons a unit knows (its leadership, the hook it
//! runs in; see [`op::Op::refusal_is_local`]), and must pass everything else on to Juju.
//!
//! # The scene
//!
//! Every case starts from the same model:
//!
//! * `app` (units `app/0`, the leader, and `app/1`) and `remote` (`remote/0`, the leader, and
//!   `remote/1`), both the `rules-probe` charm;
//! * `db`: `app:db` related to `remote:served`; `peers`: `app`'s peer relation;
//! * every unit bag and application bag of both relations holds `who` = its owner's name;
//! * each unit of `app` has stored `who` = its name with `state-set`;
//! * the secrets of [`op::Secret`]: `app`'s own (2 revisions), `app/0`'s own, one of `remote`
//!   granted to `app` (2 revisions; `app/0` tracks the first, `app/1` never read it), one of
//!   `remote` not granted.

pub mod cases;
pub mod op;
pub mod probe;

/// The metadata of the `rules-probe` charm, as written (for the harness and the local model).
pub const PROBE_METADATA: &str = include_str!("../probe/metadata.yaml");

/// The same metadata as JSON, which is what the charm itself reads (`Charm::metadata`).
pub const PROBE_METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
