//! The `s3` relation, v1 with v0 fallback: S3 connection info from a provider (e.g.
//! s3-integrator) to the charms that need a bucket, wire-compatible with the published
//! `object-storage-charmlib` 1.0.0 (v1, credentials in a Juju secret), the s3 library built into
//! s3-integrator 2/ (`lib-version`), and `charms.data_platform_libs.v0.s3` (LIBPATCH 5/6, v0).
//!
//! - The requirer's leader asks for the credentials in a secret (`requested-secrets`), writes both
//!   version keys and the bucket and path it names (v0: `bucket`, `relation-<id>` by default).
//! - The provider's leader answers in its app bag: bucket, endpoint and options, and the
//!   credentials in a secret of the relation's own (v1) or in plain (v0) ([`S3ConnectionInfo`];
//!   the wire format of both versions is in [`wire`]). Each relation speaks what its peer speaks,
//!   decided as the Python v1 library decides; a relation that started v0 stays v0.
//! - Library events: [`CredentialsRequested`] (provider), [`CredentialsChanged`] and
//!   [`CredentialsGone`] (requirer). None carries a credential; state queries
//!   ([`S3Requirer::connection_info`], [`S3Provider::relation_data`]) serve reconcile-style charms.
//!
//! Both sides are plugins: add them with [`Charm::plugin`](charm::Charm::plugin) and keep a clone
//! for queries and writes.
//!
//! ```
//! use charm::{Charm, Ctx, Error, Status, StatusCollector};
//! use charm_testing::{Harness, Relation, Secret, State};
//! use s3::{CredentialsChanged, CredentialsRequested, S3ConnectionInfo, S3Provider, S3Requirer};
//!
//! // A provider charm: answers every request with fixed credentials.
//! let provider = S3Provider::new("s3-credentials");
//! let mut charm = Charm::new();
//! let answer = provider.clone();
//! charm.plugin(provider).on_event(move |ctx: &mut Ctx, req: &CredentialsRequested| {
//!     let info = S3ConnectionInfo {
//!         endpoint: Some("https://s3.example.com".into()),
//!         ..S3ConnectionInfo::new("my-access-key", "my-secret-key", req.bucket.clone())
//!     };
//!     answer.update_connection_info(ctx, &req.relation, &info)?;
//!     Ok(())
//! });
//! let provider_ctx = Harness::new(charm, "name: s3\nprovides:\n  s3-credentials: {interface: s3}\n");
//!
//! // A requirer charm: shows the bucket it got.
//! let requirer = S3Requirer::new("s3-credentials").bucket("backups");
//! let mut charm = Charm::new();
//! let query = requirer.clone();
//! charm
//!     .plugin(requirer)
//!     .on_event(|_ctx: &mut Ctx, event: &CredentialsChanged| {
//!         tracing::info!("now using bucket {}", event.bucket);
//!         Ok(())
//!     })
//!     .collect_status(move |ctx: &mut Ctx, statuses: &mut StatusCollector| {
//!         for rel in query.relations(ctx)? {
//!             if let Some(info) = query.connection_info(ctx, &rel)? {
//!                 statuses.add_unit(Status::active(format!("bucket {}", info.bucket)));
//!             }
//!         }
//!         Ok(())
//!     });
//! let requirer_ctx = Harness::new(charm, "name: app\nrequires:\n  s3-credentials: {interface: s3}\n");
//!
//! // The requirer's leader asks for the credentials in a secret (relation-created), then for
//! // its bucket, with both version keys, when the relation joins...
//! let rel = Relation::new("s3-credentials", 7, "s3").remote_unit(0, [("", ""); 0]);
//! let out = requirer_ctx.run(rel.created(), State::default().leader(true).relation(rel.clone()));
//! let out = requirer_ctx.run(rel.joined(0), out.state);
//! let request = out.state.get_relation(7).local_app_data.clone();
//! assert_eq!(request["bucket"], "backups");
//! assert_eq!(request["version"], "1");
//! assert_eq!(request["requested-secrets"], r#"["access-key", "secret-key"]"#);
//!
//! // ...the provider's leader answers: the credentials in a secret granted to the relation...
//! let prel = Relation::new("s3-credentials", 7, "app").remote_app_data(request);
//! let out = provider_ctx.run(prel.changed(None), State::default().leader(true).relation(prel));
//! let req = &out.emitted::<CredentialsRequested>()[0];
//! assert_eq!((req.bucket.as_str(), req.v1), ("backups", true));
//! let answer = out.state.get_relation(7).local_app_data.clone();
//! assert!(!answer.contains_key("secret-key"));
//! let secret = out.state.get_secret("s3-credentials.7.extra.secret");
//! assert_eq!(answer["secret-extra"], secret.id);
//!
//! // ...and every requirer unit gets typed connection info, whatever the version.
//! let granted = Secret::granted(&secret.id, secret.revisions[&1].clone());
//! let rel = rel.remote_app_data(answer);
//! let out = requirer_ctx.run(rel.changed(None), State::default().relation(rel).secret(granted));
//! assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
//! assert_eq!(out.state.unit_status, Some(Status::active("bucket backups")));
//! ```
//!
//! See the crate's `README.md` for the wire table, the fixes over the Python library and what is
//! left out.

mod digest;
pub mod error;
pub mod events;
pub mod provider;
pub mod requirer;
pub mod wire;

pub use error::S3Error;
pub use events::{CredentialsChanged, CredentialsGone, CredentialsRequested};
pub use provider::S3Provider;
pub use requirer::{BucketFn, ConnectionState, S3Requirer};
pub use wire::{S3ConnectionInfo, S3Key, S3Request, UriStyle};

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
