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
//! let bag = juju_local::model::bag(&state, rel, "db/0").unwrap_or_default();
//! println!("db/0 published {bag:?} after {} hooks", report.hooks_run);
//! // Credentials (by key, `plain:` auth, caches holding them) print as `<redacted, N chars>`.
//! let redaction = juju_local::redact::Redaction::default();
//! print!("{}", juju_local::timeline::render_story(&model.timeline()?, false, &redaction));
//! # Ok(())
//! # }
//! ```
//!
//! See the crate's `README.md` for the CLI, the file formats and what differs from a real controller.

pub mod cli;
pub mod commit;
pub mod context;
pub mod error;
pub mod flags;
pub mod format;
pub mod meta;
pub mod model;
pub mod redact;
pub mod report;
pub mod scenario;
pub mod state;
pub mod timeline;
pub mod tools;
pub mod util;

pub use error::{Error, Result};
pub use model::{ActionOutcome, DeployOptions, Model, ModelOptions, SettleReport};

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
