//! The `filesystem_info` relation interface: a port of
//! `charms.filesystem_client.v0.filesystem_info` (LIBPATCH 3), wire-compatible with Python peers.
//!
//! A filesystem server (provider) publishes one `endpoint` URI describing an NFS export, a
//! CephFS share or a Lustre filesystem; for CephFS the cephx key is kept in a Juju secret the
//! URI names. A client (requirer) mounts what the URI describes, and unmounts when the
//! relation goes away. Both sides are plugins: add [`FilesystemProvider`] or
//! [`FilesystemRequirer`] to a [`Charm`](charm::Charm).
//!
//! | side | events | state queries | writes |
//! | --- | --- | --- | --- |
//! | requirer | [`MountFilesystem`], [`UmountFilesystem`] | [`info`](FilesystemRequirer::info), [`endpoint_uri`](FilesystemRequirer::endpoint_uri), [`endpoints`](FilesystemRequirer::endpoints) | nothing |
//! | provider | none | [`published`](FilesystemProvider::published) | [`set_info`](FilesystemProvider::set_info) |
//!
//! The wire format, the URI grammar included, is in [`wire`]; the README lists every
//! divergence from the Python library.
//!
//! ```
//! use charm::{Charm, Ctx, Error, EventKind, Event};
//! use charm_testing::{Harness, Relation, Secret, State};
//! use filesystem_info::{CephfsInfo, FilesystemInfo, FilesystemProvider, FilesystemRequirer, Key, MountFilesystem};
//!
//! // The server publishes its share when configured.
//! fn publish(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
//!     let share = FilesystemInfo::Cephfs(CephfsInfo {
//!         fsid: "123-abc".into(),
//!         name: "fs1".into(),
//!         path: "/vol/a b".into(),
//!         monitor_hosts: vec!["10.0.0.1:6789".into(), "10.0.0.2:6789".into()],
//!         user: "fsuser".into(),
//!         key: Key::new("R//appdqz4NP4Bxcc5XWrg=="),
//!     });
//!     FilesystemProvider::new("filesystem", "server-peers").set_info(ctx, &share)?;
//!     Ok(())
//! }
//! let mut server = Charm::new();
//! server
//!     .plugin(FilesystemProvider::new("filesystem", "server-peers"))
//!     .on(EventKind::ConfigChanged, publish);
//! let server = Harness::new(
//!     server,
//!     "name: server\nprovides:\n  filesystem: {interface: filesystem_info}\npeers:\n  server-peers: {interface: server_peers}\n",
//! );
//! let state = State::default()
//!     .leader(true)
//!     .relation(Relation::peer("server-peers", 0, "server"))
//!     .relation(Relation::new("filesystem", 1, "client"));
//! let out = server.run(Event::ConfigChanged, state);
//! assert!(out.ok());
//! let endpoint = out.state.get_relation(1).local_app_data["endpoint"].clone();
//! let secret = out.state.get_secret("auth");
//! assert_eq!(
//!     endpoint,
//!     format!(
//!         "cephfs://fsuser@(10.0.0.1%3A6789%2C10.0.0.2%3A6789)/vol/a%20b?fsid=123-abc&name=fs1&auth={}&auth-rev=1",
//!         secret.id.replace(':', "%3A")
//!     )
//! );
//!
//! // The client reads the key from the secret and mounts (here it only remembers the monitors).
//! fn mount(ctx: &mut Ctx, event: &MountFilesystem) -> Result<(), Error> {
//!     if let Some(FilesystemInfo::Cephfs(ceph)) = FilesystemRequirer::new("filesystem").info(ctx, &event.relation)? {
//!         ctx.store("monitors", &ceph.monitor_hosts.join(","))?;
//!     }
//!     Ok(())
//! }
//! let mut client = Charm::new();
//! client.plugin(FilesystemRequirer::new("filesystem")).on_event(mount);
//! let client = Harness::new(client, "name: client\nrequires:\n  filesystem: {interface: filesystem_info, limit: 1}\n");
//! let rel = Relation::new("filesystem", 1, "server").remote_app_data([("endpoint", endpoint)]);
//! let granted = Secret::granted(&secret.id, secret.revisions[&1].clone());
//! let out = client.run(rel.changed(None), State::default().relation(rel).secret(granted));
//! assert_eq!(out.emitted::<MountFilesystem>().len(), 1);
//! assert_eq!(out.state.stored["monitors"], "10.0.0.1:6789,10.0.0.2:6789");
//! ```

pub mod error;
pub mod events;
pub mod provider;
pub mod requirer;
pub mod wire;

pub use error::FilesystemInfoError;
pub use events::{MountFilesystem, UmountFilesystem};
pub use provider::FilesystemProvider;
pub use requirer::{Endpoint, FilesystemRequirer};
pub use wire::{
    CephfsAuth, CephfsEndpoint, CephfsInfo, EndpointUri, FilesystemInfo, Key, LustreInfo, NfsInfo,
    Scheme, SecretId, WireError,
};

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
