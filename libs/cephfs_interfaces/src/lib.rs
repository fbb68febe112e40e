//! The `cephfs_share` relation interface: a port of `charms.storage_libs.v0.cephfs_interfaces`
//! (LIBPATCH 2), wire-compatible with Python peers.
//!
//! A CephFS client (requirer) asks for a share by name; the server (provider) answers with the
//! share info (Ceph cluster id, filesystem, path, monitors) and the cephx credentials in a Juju
//! secret granted to the relation. Both sides are plugins: add [`CephFsRequirer`] or
//! [`CephFsProvider`] to a [`Charm`](charm::Charm) and handle their typed events with
//! [`Charm::on_event`](charm::Charm::on_event), or query the state directly
//! ([`CephFsRequirer::mount_info`], [`CephFsProvider::requests`]) from a reconcile function.
//!
//! | side | events | state queries | writes |
//! | --- | --- | --- | --- |
//! | requirer | [`ServerConnected`], [`MountShare`], [`UmountShare`] | [`share_info`](CephFsRequirer::share_info), [`auth_info`](CephFsRequirer::auth_info), [`mount_info`](CephFsRequirer::mount_info) | [`request_share`](CephFsRequirer::request_share) |
//! | provider | [`ShareRequested`] | [`requests`](CephFsProvider::requests), [`requested_name`](CephFsProvider::requested_name) | [`set_share`](CephFsProvider::set_share) |
//!
//! The wire format is in [`wire`]; the README lists every divergence from the Python library.
//!
//! ```
//! use cephfs_interfaces::{AuthInfo, CephFsProvider, CephFsRequirer, MountShare, ShareInfo, ShareRequested};
//! use charm::{Charm, Ctx, Error};
//! use charm_testing::{Harness, Relation, Secret, State};
//!
//! const ENDPOINT: &str = "cephfs-share";
//!
//! // The server answers every request with its share and credentials.
//! fn serve(ctx: &mut Ctx, request: &ShareRequested) -> Result<(), Error> {
//!     let share = ShareInfo {
//!         fsid: "123456789-0abc-defg-hijk-lmnopqrstuvw".into(),
//!         name: "filesystem".into(),
//!         path: "/data".into(),
//!         monitor_hosts: vec!["192.168.1.1:6789".into()],
//!     };
//!     let auth = AuthInfo::new("user", "R//appdqz4NP4Bxcc5XWrg==");
//!     CephFsProvider::new(ENDPOINT).set_share(ctx, &request.relation, &share, &auth)?;
//!     Ok(())
//! }
//! let mut server = Charm::new();
//! server.plugin(CephFsProvider::new(ENDPOINT)).on_event(serve);
//! let server = Harness::new(server, "name: server\nprovides:\n  cephfs-share: {interface: cephfs_share}\n");
//!
//! let rel = Relation::new(ENDPOINT, 1, "client").remote_app_data([("name", "/data")]);
//! let out = server.run(rel.changed(None), State::default().leader(true).relation(rel));
//! assert!(out.ok());
//! let served = out.state.get_relation(1).local_app_data.clone();
//! assert!(served["share_info"].starts_with(r#"{"fsid": "123456789-0abc-defg-hijk-lmnopqrstuvw", "name""#));
//! assert_eq!(served["auth-rev"], "1");
//! let secret = out.state.get_secret(&served["auth"]);
//!
//! // The client mounts what it was given (here it only remembers the path).
//! fn mount(ctx: &mut Ctx, event: &MountShare) -> Result<(), Error> {
//!     if let Some(info) = CephFsRequirer::new(ENDPOINT).mount_info(ctx, &event.relation)? {
//!         ctx.store("mounted", &format!("{}@{}", info.auth.username, info.share.path))?;
//!     }
//!     Ok(())
//! }
//! let mut client = Charm::new();
//! client.plugin(CephFsRequirer::new(ENDPOINT)).on_event(mount);
//! let client = Harness::new(client, "name: client\nrequires:\n  cephfs-share: {interface: cephfs_share, limit: 1}\n");
//!
//! let rel = Relation::new(ENDPOINT, 1, "server").remote_app_data(served);
//! let granted = Secret::granted(&secret.id, secret.revisions[&1].clone());
//! let out = client.run(rel.changed(None), State::default().relation(rel).secret(granted));
//! assert_eq!(out.emitted::<MountShare>().len(), 1);
//! assert_eq!(out.state.stored["mounted"], "user@/data");
//! ```

pub mod diff;
pub mod error;
pub mod events;
pub mod provider;
pub mod requirer;
pub mod secrets;
pub mod wire;

pub use diff::Transaction;
pub use error::CephFsError;
pub use events::{MountShare, ServerConnected, ShareRequested, UmountShare};
pub use provider::{CephFsProvider, ShareRequest};
pub use requirer::{CephFsRequirer, MountInfo};
pub use secrets::{Pruned, prune_revision};
pub use wire::{AuthInfo, AuthRef, ShareInfo, WireError};

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
