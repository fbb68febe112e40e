//! Microcluster token distributor: the `worker-cluster` interface, in Rust.
//!
//! A port of the Python library `charms.microcluster_token_distributor.v0.token_distributor`,
//! wire-compatible with every upstream LIBPATCH from 2 to 8: the distributor behaves as
//! LIBPATCH 8, the consumer works with distributors of 2 to 8 (see the crate README for the
//! versions spoken and every deliberate difference).
//!
//! - [`TokenDistributorProvider`] (Python `TokenDistributorProvides`): the distributor leader
//!   mirrors every consumer unit's `hostname` as a `mirror-<host>=empty` placeholder and copies the
//!   tokens the consumer communicator publishes.
//! - [`TokenConsumer`] (Python `TokenConsumer`): a microcluster charm. Its leader bootstraps the
//!   cluster; the communicator (lowest-named online voter) mints a token for every placeholder with
//!   `<command> add <host>`; every other unit joins with the token mirrored for it. It emits
//!   [`PreBootstrap`], [`Bootstrapped`], [`PreJoin`], [`Joined`] and [`TokenGenerated`], and proposes
//!   the Python library's statuses.
//!
//! The wire contract lives in [`wire`]; the CLI (run through [`CommandRunner`], replaceable in
//! tests) in [`cli`].
//!
//! ```
//! use charm::{Charm, Ctx, Error, Status};
//! use charm_testing::{Harness, Relation, State};
//! use token_distributor::{CommandOutput, Joined, TokenConsumer, TokenDistributorProvider};
//!
//! // A stand-in for `microovn cluster`: one node, freshly bootstrapped.
//! let cli = |argv: &[String]| -> std::io::Result<CommandOutput> {
//!     Ok(match argv[2].as_str() {
//!         "list" => CommandOutput::ok(r#"[{"name": "n0", "role": "voter", "status": "ONLINE"}]"#),
//!         _ => CommandOutput::ok(""),
//!     })
//! };
//! let consumer = TokenConsumer::new("cluster", ["microovn", "cluster"])
//!     .runner(cli)
//!     .hostname(|| Ok("n0".to_string()));
//! let mut node = Charm::new();
//! node.plugin(consumer)
//!     .on_event(|_ctx: &mut Ctx, e: &Joined| {
//!         tracing::info!("in the cluster (bootstrapper: {})", e.bootstrapper);
//!         Ok::<(), Error>(())
//!     });
//! let node = Harness::new(node, "name: node\nrequires:\n  cluster: {interface: worker-cluster}\n");
//!
//! // The distributor leader's mirror is up and holds a placeholder for n0: the leader bootstraps.
//! let rel = Relation::new("cluster", 1, "distributor")
//!     .remote_unit(0, [("mirror", "up"), ("mirror-n0", "empty")]);
//! let out = node.run(rel.changed(Some(0)), State::default().leader(true).relation(rel));
//! assert!(out.ok());
//! assert_eq!(out.emitted::<Joined>(), [&Joined { bootstrapper: true }]);
//! assert_eq!(out.state.unit_status, Some(Status::active("Cluster bootstrapped")));
//! // It is the communicator: its mirror goes up.
//! assert_eq!(out.state.get_relation(1).local_unit_data["mirror"], "up");
//!
//! // The distributor leader mirrors it, with a placeholder for each consumer hostname.
//! let mut distributor = Charm::new();
//! distributor.plugin(TokenDistributorProvider::new("microcluster-cluster"));
//! let distributor = Harness::new(
//!     distributor,
//!     "name: distributor\nprovides:\n  microcluster-cluster: {interface: worker-cluster}\n",
//! );
//! let rel = Relation::new("microcluster-cluster", 1, "node")
//!     .remote_unit(0, [("hostname", "n0"), ("mirror", "up")])
//!     .remote_unit(1, [("hostname", "n1")]);
//! let out = distributor.run(rel.changed(Some(1)), State::default().leader(true).relation(rel));
//! let mine = &out.state.get_relation(1).local_unit_data;
//! assert_eq!((mine["mirror"].as_str(), mine["mirror-n1"].as_str()), ("up", "empty"));
//! assert_eq!(out.state.get_relation(1).local_app_data["bootstrap-app"], "node");
//! ```

pub mod cli;
pub mod consumer;
pub mod error;
pub mod events;
pub mod hostname;
pub mod mirror;
pub mod provider;
pub mod wire;

pub use cli::{
    Cli, CliError, CommandOutput, CommandRunner, Member, MemberStatus, Members, PendingWait,
    ProcessRunner, Role, WaitError,
};
pub use consumer::{ConsumerState, Phase, TokenConsumer, status_text};
pub use error::TokenDistributorError;
pub use events::{Bootstrapped, Joined, PreBootstrap, PreJoin, TokenGenerated};
pub use hostname::HostnameError;
pub use mirror::{MirrorView, corroborate};
pub use provider::{MirrorSummary, TokenDistributorProvider};
pub use wire::{
    ConsumerUnitBag, MirrorEntries, MirrorFlag, MirrorValue, ProviderAppBag, ProviderUnitBag,
    Token, WireError,
};

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
