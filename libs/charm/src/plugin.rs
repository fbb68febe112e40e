//! The one extension point: a [`Plugin`] registers handlers on a [`Charm`], and a relation
//! library's plugin declares the endpoint it serves with [`Charm::endpoint`].
//!
//! Every relation library registers the same way: a key made of its side and endpoint, methods
//! of the library value on the relation events of that endpoint (and on a few others:
//! `leader-elected`, secret hooks, its own events), and an endpoint that `metadata.yaml` must
//! declare with the library's interface and role. [`EndpointSpec`] says all of that once, and
//! [`Charm::endpoint`] registers the handlers and checks the metadata:
//!
//! ```
//! use charm::{Charm, Ctx, EndpointSpec, Error, Event, EventKind, Plugin, RelationEvent};
//!
//! #[derive(Clone)]
//! struct DbRequirer {
//!     endpoint: String,
//! }
//!
//! impl DbRequirer {
//!     fn spec(&self) -> EndpointSpec {
//!         EndpointSpec::requires("db-requirer", "pg", &self.endpoint)
//!     }
//!     fn on_changed(&self, _ctx: &mut Ctx, _event: &RelationEvent) -> Result<(), Error> {
//!         Ok(())
//!     }
//!     fn on_leader_elected(&self, _ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
//!         Ok(())
//!     }
//! }
//!
//! impl Plugin for DbRequirer {
//!     fn key(&self) -> Option<String> {
//!         Some(self.spec().key()) // "db-requirer:db"
//!     }
//!
//!     fn build(self, charm: &mut Charm) {
//!         charm
//!             .endpoint(self.spec(), &self)
//!             .on(EventKind::RelationChanged, Self::on_changed) // relation-changed@db
//!             .on_any(EventKind::LeaderElected, Self::on_leader_elected);
//!     }
//! }
//!
//! let mut charm = Charm::new();
//! charm.plugin(DbRequirer { endpoint: "db".into() });
//! ```

use crate::dispatch::Charm;
use crate::error::Error;
use crate::event::{EventKind, Filter, FromEvent};
use crate::meta::{Metadata, Role};
use crate::model::{Ctx, CustomEvent};
use crate::status::StatusCollector;

/// A charm library or a piece of charm code that registers handlers: the one extension point.
///
/// A plain `FnOnce(&mut Charm)` is a plugin. Libraries implement it for their provider and
/// requirer types; a plugin with a [`key`](Plugin::key) may be added only once.
pub trait Plugin {
    /// Registers handlers on the charm.
    fn build(self, charm: &mut Charm);

    /// A key that must be unique among the charm's plugins (e.g. `s3-requirer:s3-credentials`).
    /// It prefixes the names of the plugin's handlers in deferral records, so it must not change
    /// from one charm revision to the next.
    fn key(&self) -> Option<String> {
        None
    }
}

impl<F: FnOnce(&mut Charm)> Plugin for F {
    fn build(self, charm: &mut Charm) {
        self(charm)
    }
}

/// The endpoint a relation library's provider or requirer serves, as `metadata.yaml` must
/// declare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// The library side, e.g. `s3-requirer`; with the endpoint, it makes the plugin key.
    pub side: &'static str,
    /// The interface the endpoint must have, e.g. `s3`.
    pub interface: &'static str,
    /// The role the endpoint must have.
    pub role: Role,
    /// The endpoint's name in `metadata.yaml`, e.g. `s3-credentials`.
    pub endpoint: String,
}

impl EndpointSpec {
    /// A `provides` endpoint of `interface`.
    pub fn provides(side: &'static str, interface: &'static str, endpoint: &str) -> Self {
        EndpointSpec {
            side,
            interface,
            role: Role::Provides,
            endpoint: endpoint.to_string(),
        }
    }

    /// A `requires` endpoint of `interface`.
    pub fn requires(side: &'static str, interface: &'static str, endpoint: &str) -> Self {
        EndpointSpec {
            side,
            interface,
            role: Role::Requires,
            endpoint: endpoint.to_string(),
        }
    }

    /// The plugin key, `<side>:<endpoint>` (see [`Plugin::key`]).
    pub fn key(&self) -> String {
        format!("{}:{}", self.side, self.endpoint)
    }

    /// Checks that `meta` declares the endpoint with this interface and role; the error says
    /// what `metadata.yaml` has and what it needs.
    pub fn check(&self, meta: &Metadata) -> Result<(), String> {
        let needed = format!(
            "{} needs `{}: {}: {{interface: {}}}` in metadata.yaml",
            self.key(),
            self.role,
            self.endpoint,
            self.interface
        );
        match meta.endpoint(&self.endpoint) {
            None => Err(format!("{needed}; there is no such endpoint")),
            Some((role, _)) if role != self.role => {
                Err(format!("{needed}; it is declared under `{role}`"))
            }
            Some((_, found)) if found.interface != self.interface => {
                Err(format!("{needed}; its interface is {:?}", found.interface))
            }
            Some(_) => Ok(()),
        }
    }
}

/// Registers a library's handlers: methods of a copy of the library value, for the events of
/// its endpoint and a few others. Made by [`Charm::endpoint`].
pub struct EndpointHandlers<'c, T> {
    charm: &'c mut Charm,
    endpoint: String,
    library: &'c T,
}

impl Charm {
    /// Declares that the plugin being built serves `spec`'s endpoint, and returns the registrar
    /// of its handlers. When the charm has metadata, every dispatch checks the endpoint against
    /// it ([`EndpointSpec::check`]): a missing endpoint, or one of another interface or role,
    /// fails the hook with a message naming both (a relation on it could never work).
    pub fn endpoint<'c, T: Clone + 'static>(
        &'c mut self,
        spec: EndpointSpec,
        library: &'c T,
    ) -> EndpointHandlers<'c, T> {
        let endpoint = spec.endpoint.clone();
        self.declare_endpoint(spec);
        EndpointHandlers {
            charm: self,
            endpoint,
            library,
        }
    }
}

impl<T: Clone + 'static> EndpointHandlers<'_, T> {
    /// Runs `method` for `kind` events of this endpoint (`RelationChanged`:
    /// `<endpoint>-relation-changed`).
    pub fn on<E, M>(&mut self, kind: EventKind, method: M) -> &mut Self
    where
        E: FromEvent + 'static,
        M: Fn(&T, &mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        let filter = kind.on(self.endpoint.clone());
        self.charm.on_method(filter, self.library, method);
        self
    }

    /// Runs `method` for the Juju events that pass `filter`, on any endpoint (`leader-elected`,
    /// the secret hooks, a charm's refresh events).
    pub fn on_any<E, M>(&mut self, filter: impl Into<Filter>, method: M) -> &mut Self
    where
        E: FromEvent + 'static,
        M: Fn(&T, &mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        self.charm.on_method(filter, self.library, method);
        self
    }

    /// Runs `method` whenever the custom event `E` is emitted (a library's own steps).
    pub fn on_event<E, M>(&mut self, method: M) -> &mut Self
    where
        E: CustomEvent,
        M: Fn(&T, &mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        self.charm.on_event_method(self.library, method);
        self
    }

    /// Adds a collect-status step running `method`.
    pub fn collect_status<M>(&mut self, method: M) -> &mut Self
    where
        M: Fn(&T, &mut Ctx<'_>, &mut StatusCollector) -> Result<(), Error> + 'static,
    {
        let library = self.library.clone();
        self.charm
            .collect_status(move |ctx: &mut Ctx<'_>, statuses: &mut StatusCollector| {
                method(&library, ctx, statuses)
            });
        self
    }
}
