//! A faithful local stand-in for the Juju unit agent's side of the charm protocol.
//!
//! Juju runs a charm by executing its `dispatch` file with hook environment variables; the charm
//! talks back only by running hook tools (`relation-get`, `secret-add`, `status-set`, ...). This crate
//! provides both halves locally:
//!
//! * one binary, `juju-local`, which acts as every hook tool when invoked under the tool's name
//!   (the model's `tools/` directory holds a symlink per name, first on the charm's `PATH`), and as
//!   the driver CLI otherwise;
//! * a library ([`Model`]) with the same operations as the CLI, so Rust tests can deploy charms,
//!   relate them, change config and leadership, run actions and `settle`, while every hook still runs
//!   the real charm binary as a process with the real environment and the real hook tools.
//!
//! Juju's rules are enforced so that a charm which would fail on Juju fails here too: databag access
//! (leader-only application bags, read-only remote bags), relation-departed/broken semantics, the
//! commit-on-success of relation data, secrets, charm state and ports (a failed hook changes
//! nothing), secret ownership, grants, per-observer labels and revision tracking.
//!
//! Every dispatch is recorded in a timeline with its outcome, duration, hook-tool calls, peak RSS,
//! the databag changes it made and the library events the charm reported on stdout as
//! `CHARM_EVENT {"event":"<Name>","fields":{...}}`.
//!
//! # Example
//!
//! ```no_run
//! use juju_local::{DeployOptions, Model, ModelOptions};
//! use std::path::Path;
//!
//! # fn main() -> juju_local::Result<()> {
//! // In this crate's own tests the binary is env!("CARGO_BIN_EXE_juju-local").
//! let opts = ModelOptions::new("/path/to/juju-local");
//! let model = Model::init("/tmp/my-model", opts)?;
//! model.deploy(Path::new("charms/db"), DeployOptions { units: Some(2), ..Default::default() })?;
//! model.deploy(Path::new("charms/app"), DeployOptions::default())?;
//! let rel = model.relate("app:db", "db:db")?;
//! let report = model.settle(500)?;
//! assert!(report.errors.is_empty());
//! let state = model.state()?;
//! let bag = state.bag(rel, "db/0").unwrap_or_default();
//! println!("db/0 published {bag:?} after {} hooks", report.hooks_run);
//! // Credentials (by key, `plain:` auth, caches holding them) print as `<redacted, N chars>`.
//! let redaction = juju_local::Redaction::default();
//! print!("{}", juju_local::render_story(&model.timeline()?, false, &redaction));
//! # Ok(())
//! # }
//! ```
//!
//! # Public interface
//!
//! [`Model`] with [`ModelOptions`] and [`DeployOptions`]; the state file's types ([`state`]), the
//! timeline's records ([`timeline`]) and their printed forms ([`render_story`],
//! [`Redaction`]); scenario files ([`scenario`]); and [`main`], the whole binary. Everything else
//! is internal.
//!
//! # Layers
//!
//! Each module has one job, and imports only point down this table (a module never uses one on
//! its own row or above; `tests/layers.rs` checks it):
//!
//! | Row | Modules | Job |
//! |---|---|---|
//! | 11 | `cli` | the binary: a hook tool by name, else the driver commands |
//! | 10 | [`scenario`] | scenario files run on the `Model` API |
//! | 9 | `model` | the `Model` API: the CLI's verbs and the settle loop |
//! | 8 | `executor`, `relate`, `report`, `workload` | running one dispatch; endpoint matching; `status`/`show`; workload containers (Pebble daemons and their pollers) |
//! | 7 | `resolver`, `tools`, `process`, `action_params` | which hook next; the hook-tool side; child-process supervision (all the `unsafe`); action parameters |
//! | 6 | `commit`, `story` | applying a journal to the state; the printed timeline |
//! | 5 | `rules`, `redact` | Juju's rules (who may do what); what printed output hides |
//! | 4 | `hook_run`, `journal`, [`timeline`], `storage`, `resources` | the run files the driver shares with the tools; dispatch records; storage instances; file resources |
//! | 3 | [`state`] | `state.json` |
//! | 2 | `meta`, `flags`, `format`, `options` | charm metadata; gnuflag parsing; tool output formats; model options |
//! | 1 | `ids`, `files` | names and ids; files on disk (owner-only, atomic, locked) |
//! | 0 | `error`, `clock`, `base64`, `yaml` | foundations |
//!
//! The driver (rows 8 to 11) and the hook tools (row 7) never call each other: they share the
//! state file, the hook-run file and the journal (rows 3 and 4), and the rules (row 5).
//!
//! See the crate's `README.md` for the CLI, the file formats and what differs from a real controller.

mod action_params;
mod base64;
mod cli;
mod clock;
mod commit;
mod error;
mod executor;
mod files;
mod flags;
mod format;
mod hook_run;
mod ids;
mod journal;
mod meta;
mod model;
mod options;
mod process;
mod redact;
mod relate;
mod report;
mod resolver;
mod resources;
mod rules;
pub mod scenario;
pub mod state;
mod storage;
mod story;
pub mod timeline;
mod tools;
mod workload;
mod yaml;

pub use cli::main;
pub use error::{Error, Result};
pub use model::{Model, SettleReport};
pub use options::{
    DEFAULT_HOOK_TIMEOUT, DeployOptions, HOOK_TIMEOUT_ENV, ModelOptions, parse_hook_timeout,
};
pub use redact::Redaction;
pub use state::{ActionOutcome, HookSpec};
pub use story::{metrics_json, render_metrics, render_story};

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
