//! The dispatcher: handlers and plugins are registered on a [`Charm`], which runs one dispatch.
//!
//! Order of a dispatch (the same as ops):
//! 1. deferred events are re-run, oldest first (not in restricted contexts);
//! 2. the Juju event goes to every matching handler, in registration order; events a handler
//!    emits are handled as soon as that handler returns;
//! 3. reconcile functions run (for every state-changing event: not actions, `remove`, unknown hooks);
//! 4. collect-status: every component proposes statuses, the most severe wins, and `status-set`
//!    runs only if it differs from what this charm last set;
//! 5. staged databag writes are sent (one `relation-set` per bag) and state is saved.
//!
//! A handler error with [`Outcome::Fail`] stops the dispatch: nothing is sent or saved, and the
//! process exits non-zero so Juju retries the hook. Blocked and Waiting errors become statuses.

use crate::backend::{HookTools, LogLevel, ProcessBackend};
use crate::env::JujuEnv;
use crate::error::{Error, Outcome};
use crate::event::{Event, Filter, FromEvent};
use crate::log::{JujuLogSink, JujuLogSubscriber};
use crate::meta::Metadata;
use crate::model::{Ctx, CustomEvent, Emitted};
use crate::plugin::{EndpointSpec, Plugin};
use crate::state::{
    Deferred, DeferredEvent, FileStore, JujuStore, StateDoc, StateStore, StoreKind,
};
use crate::status::{Status, StatusCollector};
use deferral::{HandlerId, add_deferred, is_record_of, resolve};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::process::ExitCode;

mod deferral;

/// When set, [`Charm::run`] appends one JSON line of metrics per dispatch to this file.
pub const METRICS_ENV: &str = "CHARM_METRICS_FILE";

/// The most nested custom events allowed (an event whose handler emits an event, ...).
const MAX_EVENT_DEPTH: usize = 32;

type JujuHandler = Box<dyn Fn(&mut Ctx<'_>, &Event) -> Result<(), Error>>;
type CustomHandler = Box<dyn Fn(&mut Ctx<'_>, &dyn Any) -> Result<(), Error>>;
type Reconciler = Box<dyn Fn(&mut Ctx<'_>) -> Result<(), Error>>;
type Collector = Box<dyn Fn(&mut Ctx<'_>, &mut StatusCollector) -> Result<(), Error>>;
/// Rebuilds a deferred custom event, with the relation it needs to still exist.
type Restore = fn(
    serde_json::Value,
) -> Result<(Box<dyn Any>, Option<crate::event::RelationId>), serde_json::Error>;

struct JujuObserver {
    id: HandlerId,
    filter: Filter,
    call: JujuHandler,
}

struct CustomObserver {
    id: HandlerId,
    type_id: TypeId,
    call: CustomHandler,
}

/// An event emitted during a dispatch, after its handlers ran.
pub struct EmittedEvent {
    /// [`CustomEvent::NAME`].
    pub name: &'static str,
    /// The event serialised as JSON.
    pub data: serde_json::Value,
    /// The event itself (downcast with [`EmittedEvent::get`]).
    pub value: std::rc::Rc<dyn Any>,
}

impl EmittedEvent {
    /// The event as `E`, if it is one.
    pub fn get<E: CustomEvent>(&self) -> Option<&E> {
        self.value.downcast_ref()
    }
}

impl std::fmt::Debug for EmittedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.data)
    }
}

/// What one dispatch did.
#[derive(Debug)]
pub struct DispatchReport {
    /// `Err` when the hook failed (the process exits non-zero; nothing was committed).
    pub result: Result<(), Error>,
    /// Custom events emitted, in order.
    pub emitted: Vec<EmittedEvent>,
    /// Handler calls made (including re-runs of deferred events).
    pub handler_calls: usize,
    /// The state as saved (or as it was, when the dispatch failed).
    pub state: StateDoc,
}

/// A charm: its handlers, plugins and settings. Build it in `main` and call [`Charm::run`].
pub struct Charm {
    juju_observers: Vec<JujuObserver>,
    custom_observers: Vec<CustomObserver>,
    /// By event name and alias.
    restorers: HashMap<&'static str, Restore>,
    /// By event name and alias.
    event_types: HashMap<&'static str, TypeId>,
    /// Each event name and alias to the current name.
    event_names: HashMap<&'static str, &'static str>,
    /// Endpoints plugins serve, checked against the metadata at dispatch.
    endpoints: Vec<EndpointSpec>,
    reconcilers: Vec<Reconciler>,
    collectors: Vec<Collector>,
    plugin_keys: Vec<String>,
    build_errors: Vec<String>,
    /// Handlers per (name, filter): more than one cannot be told apart by a deferral record.
    id_counts: HashMap<(String, String), u32>,
    /// The key of the plugin being built, which prefixes its handlers' names.
    plugin_scope: Option<String>,
    meta: Option<Metadata>,
    store: StoreKind,
    log_level: tracing_core::Level,
}

impl Default for Charm {
    fn default() -> Self {
        Charm::new()
    }
}

impl Charm {
    /// An empty charm, without metadata until [`Charm::metadata`] gives it.
    pub fn new() -> Self {
        Charm {
            juju_observers: Vec::new(),
            custom_observers: Vec::new(),
            restorers: HashMap::new(),
            event_types: HashMap::new(),
            event_names: HashMap::new(),
            endpoints: Vec::new(),
            reconcilers: Vec::new(),
            collectors: Vec::new(),
            plugin_keys: Vec::new(),
            build_errors: Vec::new(),
            id_counts: HashMap::new(),
            plugin_scope: None,
            meta: None,
            store: StoreKind::Local,
            log_level: tracing_core::Level::INFO,
        }
    }

    /// The charm's `metadata.yaml` as JSON, embedded at build time by `charm-build`:
    /// `include_str!(concat!(env!("OUT_DIR"), "/metadata.json"))`. It enables endpoint checks
    /// and the peer read rule (see the [`meta`](crate::meta) module docs for a charm without it).
    /// Text that is not metadata JSON fails every dispatch, saying so.
    pub fn metadata(&mut self, json: &str) -> &mut Self {
        match Metadata::from_json(json) {
            Ok(meta) => self.meta = Some(meta),
            Err(e) => self.build_errors.push(format!(
                "the embedded metadata is not metadata.yaml as JSON (charm-build writes it): {e}"
            )),
        }
        self
    }

    /// Uses already parsed metadata (the test harness does this).
    pub fn metadata_parsed(&mut self, meta: Metadata) -> &mut Self {
        self.meta = Some(meta);
        self
    }

    /// Where state is kept: next to the charm (default) or in Juju.
    pub fn store(&mut self, kind: StoreKind) -> &mut Self {
        self.store = kind;
        self
    }

    /// The most verbose level sent to `juju-log` (default INFO; DEBUG when `JUJU_DEBUG` is set).
    pub fn log_level(&mut self, level: tracing_core::Level) -> &mut Self {
        self.log_level = level;
        self
    }

    /// Adds a plugin (a library's provider or requirer, or any `FnOnce(&mut Charm)`).
    pub fn plugin(&mut self, plugin: impl Plugin) -> &mut Self {
        let saved = self.plugin_scope.clone();
        if let Some(key) = plugin.key() {
            if self.plugin_keys.contains(&key) {
                self.build_errors
                    .push(format!("plugin {key} was added twice"));
                return self;
            }
            self.plugin_keys.push(key.clone());
            self.plugin_scope = Some(key);
        }
        plugin.build(self);
        self.plugin_scope = saved;
        self
    }

    /// `record` with a library event's former name (an alias) replaced by its current name, in
    /// the event and in the filter, so that records written before a rename still restore.
    fn current_names(&self, mut record: Deferred) -> Deferred {
        if let DeferredEvent::Custom { name, .. } = &mut record.event
            && let Some(current) = self.event_names.get(name.as_str())
            && *current != name.as_str()
        {
            if record.filter.as_deref() == Some(format!("event:{name}").as_str()) {
                record.filter = Some(format!("event:{current}"));
            }
            *name = current.to_string();
        }
        record
    }

    /// Records an endpoint a plugin serves (see [`Charm::endpoint`]).
    pub(crate) fn declare_endpoint(&mut self, spec: EndpointSpec) {
        self.endpoints.push(spec);
    }

    /// The identity of a handler of type `H` registered now (see the `state` module docs).
    fn handler_id<H>(&mut self, explicit: Option<&str>, filter: String) -> HandlerId {
        let type_name = std::any::type_name::<H>();
        let base = match explicit {
            Some(name) => {
                if name.is_empty() || name.chars().any(char::is_control) {
                    self.build_errors.push(format!(
                        "handler name {name:?} must be non-empty printable text"
                    ));
                }
                name
            }
            None => type_name,
        };
        let name = match &self.plugin_scope {
            Some(key) => format!("{key}/{base}"),
            None => base.to_string(),
        };
        let count = self
            .id_counts
            .entry((name.clone(), filter.clone()))
            .or_insert(0);
        *count += 1;
        if explicit.is_some() && *count == 2 {
            self.build_errors.push(format!(
                "two handlers are named {name:?} for {filter}: a deferred event could not tell them apart"
            ));
        }
        HandlerId {
            name,
            filter,
            type_name,
            plugin: self.plugin_scope.clone(),
        }
    }

    /// Why the handler may not defer: another handler has its name and filter.
    fn defer_refusal(&self, id: &HandlerId) -> Option<String> {
        let key = (id.name.clone(), id.filter.clone());
        let count = self.id_counts.get(&key).copied().unwrap_or(0);
        (count > 1).then(|| {
            format!(
                "handler {} on {} cannot defer: {count} handlers share that name and filter \
                 (e.g. closures written in one function for the same events), so a deferred event \
                 could not find it again after an upgrade; register it with Charm::on_named, or \
                 as a fn or method",
                id.name, id.filter
            )
        })
    }

    /// Runs `handler` for Juju events that pass `filter` and carry an `E` payload
    /// (`Event` for the whole event, `RelationEvent`, `SecretEvent`, `ActionEvent`, ...).
    pub fn on<E, H>(&mut self, filter: impl Into<Filter>, handler: H) -> &mut Self
    where
        E: FromEvent + 'static,
        H: Fn(&mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        let filter = filter.into();
        let id = self.handler_id::<H>(None, filter.to_string());
        self.push_observer(id, filter, handler)
    }

    /// [`Charm::on`] with an explicit name for deferral records: a deferred event finds this
    /// handler by `name` (and its filter) whatever the order of handlers in a later revision.
    /// Use it for a closure that defers; two handlers may not share a name and filter.
    pub fn on_named<E, H>(&mut self, name: &str, filter: impl Into<Filter>, handler: H) -> &mut Self
    where
        E: FromEvent + 'static,
        H: Fn(&mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        let filter = filter.into();
        let id = self.handler_id::<H>(Some(name), filter.to_string());
        self.push_observer(id, filter, handler)
    }

    /// Runs `method` of a copy of `receiver` for Juju events that pass `filter`: the way a
    /// library's plugin registers its handlers (`charm.on_method(filter, &self, Self::on_changed)`).
    /// The method's path names the handler in deferral records, so they survive reordering.
    pub fn on_method<T, E, M>(
        &mut self,
        filter: impl Into<Filter>,
        receiver: &T,
        method: M,
    ) -> &mut Self
    where
        T: Clone + 'static,
        E: FromEvent + 'static,
        M: Fn(&T, &mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        let filter = filter.into();
        let id = self.handler_id::<M>(None, filter.to_string());
        let receiver = receiver.clone();
        self.push_observer(id, filter, move |ctx: &mut Ctx<'_>, e: &E| {
            method(&receiver, ctx, e)
        })
    }

    fn push_observer<E, H>(&mut self, id: HandlerId, filter: Filter, handler: H) -> &mut Self
    where
        E: FromEvent + 'static,
        H: Fn(&mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        self.juju_observers.push(JujuObserver {
            id,
            filter,
            call: Box::new(move |ctx, event| match E::from_event(event) {
                Some(payload) => handler(ctx, payload),
                None => Ok(()),
            }),
        });
        self
    }

    /// Runs `handler` for the action `name`.
    pub fn action<H>(&mut self, name: &str, handler: H) -> &mut Self
    where
        H: Fn(&mut Ctx<'_>, &crate::event::ActionEvent) -> Result<(), Error> + 'static,
    {
        self.on(Filter::action(name), handler)
    }

    /// Runs `handler` whenever a custom event of type `E` is emitted.
    pub fn on_event<E, H>(&mut self, handler: H) -> &mut Self
    where
        E: CustomEvent,
        H: Fn(&mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        let id = self.handler_id::<H>(None, format!("event:{}", E::NAME));
        self.push_custom(id, handler)
    }

    /// [`Charm::on_event`] with an explicit name for deferral records (see [`Charm::on_named`]).
    pub fn on_event_named<E, H>(&mut self, name: &str, handler: H) -> &mut Self
    where
        E: CustomEvent,
        H: Fn(&mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        let id = self.handler_id::<H>(Some(name), format!("event:{}", E::NAME));
        self.push_custom(id, handler)
    }

    /// Runs `method` of a copy of `receiver` for the custom event `E` (the method's path names
    /// the handler, as with [`Charm::on_method`]).
    pub(crate) fn on_event_method<T, E, M>(&mut self, receiver: &T, method: M) -> &mut Self
    where
        T: Clone + 'static,
        E: CustomEvent,
        M: Fn(&T, &mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        let id = self.handler_id::<M>(None, format!("event:{}", E::NAME));
        let receiver = receiver.clone();
        self.push_custom(id, move |ctx: &mut Ctx<'_>, e: &E| {
            method(&receiver, ctx, e)
        })
    }

    fn push_custom<E, H>(&mut self, id: HandlerId, handler: H) -> &mut Self
    where
        E: CustomEvent,
        H: Fn(&mut Ctx<'_>, &E) -> Result<(), Error> + 'static,
    {
        // Deferred events are restored by name or by a former name: two event types may not
        // share one.
        for name in std::iter::once(E::NAME).chain(E::ALIASES.iter().copied()) {
            match self.event_types.get(name) {
                Some(existing) if *existing != TypeId::of::<E>() => {
                    self.build_errors.push(format!(
                        "two event types are named {name:?} (CustomEvent::NAME and ALIASES \
                         must be unique)"
                    ));
                }
                _ => {
                    self.event_types.insert(name, TypeId::of::<E>());
                    self.event_names.insert(name, E::NAME);
                    self.restorers.insert(name, |data| {
                        serde_json::from_value::<E>(data).map(|e| {
                            let relation = e.live_relation().cloned();
                            (Box::new(e) as Box<dyn Any>, relation)
                        })
                    });
                }
            }
        }
        self.custom_observers.push(CustomObserver {
            id,
            type_id: TypeId::of::<E>(),
            call: Box::new(move |ctx, value| match value.downcast_ref::<E>() {
                Some(event) => handler(ctx, event),
                None => Ok(()),
            }),
        });
        self
    }

    /// Runs `f` once per dispatch, after the event handlers, for every state-changing event.
    pub fn reconcile<H>(&mut self, f: H) -> &mut Self
    where
        H: Fn(&mut Ctx<'_>) -> Result<(), Error> + 'static,
    {
        self.reconcilers.push(Box::new(f));
        self
    }

    /// Adds a collect-status step: `f` proposes unit and app statuses at the end of every dispatch.
    pub fn collect_status<H>(&mut self, f: H) -> &mut Self
    where
        H: Fn(&mut Ctx<'_>, &mut StatusCollector) -> Result<(), Error> + 'static,
    {
        self.collectors.push(Box::new(f));
        self
    }

    /// Runs the charm for the hook Juju started this process for, and returns the exit code.
    ///
    /// Logging goes to `juju-log` (and to stderr when `JUJU_DEBUG` is set); every custom event
    /// emitted is printed to stdout as `CHARM_EVENT {"event": <name>, "fields": {...}}`, which Juju
    /// keeps in the unit's debug log and the local model turns into its timeline.
    pub fn run(&mut self) -> ExitCode {
        ExitCode::from(self.run_code())
    }

    /// [`Charm::run`], returning the exit code as a number (for [`main!`](crate::main!), whose
    /// C entry returns an `int`).
    pub fn run_code(&mut self) -> u8 {
        let started = std::time::Instant::now();
        let juju = match JujuEnv::from_env() {
            Ok(juju) => juju,
            Err(e) => {
                eprintln!("ERROR cannot read the dispatch environment: {e}");
                return 1;
            }
        };
        let level = if juju.debug {
            tracing_core::Level::DEBUG
        } else {
            self.log_level
        };
        let mut tools = ProcessBackend::new(juju.app.clone());
        let subscriber = JujuLogSubscriber::new(JujuLogSink::new(tools.clone()), level, juju.debug);
        let _ = tracing::subscriber::set_global_default(subscriber);
        let report = match self.store {
            StoreKind::Local => {
                self.dispatch(&juju, &mut tools, &mut FileStore::in_dir(&juju.charm_dir))
            }
            StoreKind::Juju => self.dispatch(&juju, &mut tools, &mut JujuStore),
        };
        for event in &report.emitted {
            let line = serde_json::json!({"event": event.name, "fields": event.data});
            println!("CHARM_EVENT {line}");
        }
        if let Some(path) = std::env::var_os(METRICS_ENV) {
            crate::metrics::append(
                std::path::Path::new(&path),
                &juju,
                started.elapsed(),
                tools.stats(),
                report.result.is_ok(),
            );
        }
        match report.result {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("ERROR {e}");
                1
            }
        }
    }

    /// Runs one dispatch against any backend and state store (the harness and `run` use this).
    pub fn dispatch(
        &self,
        juju: &JujuEnv,
        tools: &mut dyn HookTools,
        store: &mut dyn StateStore,
    ) -> DispatchReport {
        let loaded = match store.load(tools) {
            Ok(doc) => doc,
            Err(e) => {
                let message = format!("cannot load charm state: {e}");
                let _ = tools.juju_log(LogLevel::Error, &message);
                return DispatchReport {
                    result: Err(Error::fail(message)),
                    emitted: Vec::new(),
                    handler_calls: 0,
                    state: StateDoc::default(),
                };
            }
        };
        let mut run = Run {
            charm: self,
            emitted: Vec::new(),
            calls: 0,
            problems: Vec::new(),
        };
        let mut ctx = Ctx::new(juju, tools, self.meta.as_ref(), loaded.clone());
        let result = run.all(&mut ctx);
        let result = result.and_then(|()| ctx.flush().map_err(Error::from));
        let status_set_now = ctx.status_set_now;
        let state = ctx.state.clone();
        match result {
            Ok(()) => {
                let saved = if state != loaded {
                    store.save(tools, &state)
                } else {
                    Ok(())
                };
                let result =
                    saved.map_err(|e| Error::fail(format!("cannot save charm state: {e}")));
                if let Err(e) = &result {
                    let _ = tools.juju_log(LogLevel::Error, e.message());
                }
                DispatchReport {
                    result,
                    emitted: run.emitted,
                    handler_calls: run.calls,
                    state,
                }
            }
            Err(e) => {
                let _ = tools.juju_log(
                    LogLevel::Error,
                    &format!("{} failed: {e}", juju.event.hook_name()),
                );
                if let Event::Action(_) = juju.event {
                    let message =
                        crate::status::truncate(e.message(), crate::model::MAX_ACTION_MESSAGE);
                    let _ = tools.action_fail(&message);
                }
                // Statuses are applied at once by Juju: forget what we think was last set.
                let mut kept = loaded;
                if status_set_now {
                    kept.last_status = Default::default();
                    let _ = store.save(tools, &kept);
                }
                DispatchReport {
                    result: Err(e),
                    emitted: run.emitted,
                    handler_calls: run.calls,
                    state: kept,
                }
            }
        }
    }
}

/// The bookkeeping of one dispatch.
struct Run<'c> {
    charm: &'c Charm,
    emitted: Vec<EmittedEvent>,
    calls: usize,
    /// Blocked and Waiting errors from handlers: they become statuses.
    problems: Vec<Status>,
}

impl Run<'_> {
    fn all(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        if !self.charm.build_errors.is_empty() {
            return Err(Error::fail(self.charm.build_errors.join("; ")));
        }
        if let Some(meta) = ctx.metadata() {
            let wrong: Vec<String> = (self.charm.endpoints.iter())
                .filter_map(|spec| spec.check(meta).err())
                .collect();
            if !wrong.is_empty() {
                return Err(Error::fail(wrong.join("; ")));
            }
        }
        let event = ctx.env().event.clone();
        let is_action = matches!(event, Event::Action(_));
        if !event.is_restricted() {
            self.reemit(ctx)?;
        }
        for observer in &self.charm.juju_observers {
            if !observer.filter.matches(&event) {
                continue;
            }
            let record = DeferredEvent::Juju(event.clone());
            if ctx
                .state
                .deferred
                .iter()
                .any(|d| is_record_of(d, &observer.id) && d.event == record)
            {
                // Already re-run from the deferred queue in this dispatch (ops' de-duplication).
                continue;
            }
            if self.call_juju(ctx, observer, &event)? {
                add_deferred(&mut ctx.state, &observer.id, record);
            }
        }
        if event.is_state_changing() {
            for reconcile in &self.charm.reconcilers {
                ctx.current = Some(event.clone());
                self.calls += 1;
                let result = reconcile(ctx);
                ctx.defer_requested = false;
                self.absorb(result)?;
                self.drain(ctx, 0)?;
            }
        }
        if is_action {
            // An action reports its problems to the user running it, not as a unit status.
            let problems: Vec<Status> = self.problems.drain(..).collect();
            if let Some(first) = problems.first() {
                ctx.action_fail(&first.message)?;
            }
        }
        if !event.is_restricted() {
            self.collect_status(ctx)?;
        }
        Ok(())
    }

    /// Re-runs deferred (event, handler) pairs, oldest first, each by the handler that deferred it.
    fn reemit(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let notices: Vec<Deferred> = std::mem::take(&mut ctx.state.deferred)
            .into_iter()
            .map(|record| self.charm.current_names(record))
            .collect();
        let mut kept: Vec<Deferred> = Vec::new();
        for (i, notice) in notices.iter().enumerate() {
            let again = match &notice.event {
                DeferredEvent::Juju(event) => {
                    let found = resolve(
                        &self.charm.juju_observers,
                        |o| &o.id,
                        |o| o.filter.matches(event),
                        notice,
                    );
                    let observer = match found {
                        Ok(observer) => observer,
                        Err(why) => {
                            tracing::warn!(
                                handler = notice.observer.as_str(),
                                "dropping a deferred {}: {why}",
                                event.hook_name()
                            );
                            continue;
                        }
                    };
                    if let Some(rel) = event.relation()
                        && !relation_is_live(ctx, &rel.relation)
                    {
                        tracing::warn!(relation = %rel.relation, "dropping a deferred {}: the relation is gone", event.hook_name());
                        continue;
                    }
                    match self.call_juju(ctx, observer, event) {
                        Ok(again) => again.then_some(&observer.id),
                        Err(e) => {
                            // Keep the queue intact: the hook fails and nothing is saved anyway.
                            kept.extend(notices[i..].iter().cloned());
                            ctx.state.deferred = kept;
                            return Err(e);
                        }
                    }
                }
                DeferredEvent::Custom { name, data } => {
                    let Some(restore) = self.charm.restorers.get(name.as_str()) else {
                        tracing::warn!(
                            event = name.as_str(),
                            "dropping a deferred {name}: no handler takes this event any more"
                        );
                        continue;
                    };
                    let type_id = self.charm.event_types.get(name.as_str()).copied();
                    let found = resolve(
                        &self.charm.custom_observers,
                        |o| &o.id,
                        |o| Some(o.type_id) == type_id,
                        notice,
                    );
                    let observer = match found {
                        Ok(observer) => observer,
                        Err(why) => {
                            tracing::warn!(
                                handler = notice.observer.as_str(),
                                "dropping a deferred {name}: {why}"
                            );
                            continue;
                        }
                    };
                    let (value, relation) = match restore(data.clone()) {
                        Ok(v) => v,
                        Err(e) => {
                            tracing::warn!(
                                event = name.as_str(),
                                "dropping a deferred event that no longer decodes: {e}"
                            );
                            continue;
                        }
                    };
                    if let Some(rel) = relation
                        && !relation_is_live(ctx, &rel)
                    {
                        tracing::warn!(
                            relation = %rel,
                            "dropping a deferred {name}: the relation is gone"
                        );
                        continue;
                    }
                    self.call_custom(ctx, observer, &*value, 0)?
                        .then_some(&observer.id)
                }
            };
            if let Some(id) = again {
                // Kept in its place, and written in the current form (an older record is upgraded).
                kept.push(Deferred {
                    seq: notice.seq,
                    observer: id.name.clone(),
                    filter: Some(id.filter.clone()),
                    event: notice.event.clone(),
                });
            }
        }
        let fresh = std::mem::take(&mut ctx.state.deferred);
        kept.extend(fresh);
        kept.sort_by_key(|d| d.seq);
        ctx.state.deferred = kept;
        Ok(())
    }

    /// Calls one Juju-event handler; returns whether it deferred.
    fn call_juju(
        &mut self,
        ctx: &mut Ctx<'_>,
        observer: &JujuObserver,
        event: &Event,
    ) -> Result<bool, Error> {
        ctx.current = Some(event.clone());
        ctx.defer_requested = false;
        ctx.defer_refusal = self.charm.defer_refusal(&observer.id);
        self.calls += 1;
        let result = (observer.call)(ctx, event);
        ctx.defer_refusal = None;
        let deferred = std::mem::take(&mut ctx.defer_requested);
        self.absorb(result)?;
        self.drain(ctx, 0)?;
        Ok(deferred)
    }

    /// Calls one custom-event handler; returns whether it deferred.
    fn call_custom(
        &mut self,
        ctx: &mut Ctx<'_>,
        observer: &CustomObserver,
        value: &dyn Any,
        depth: usize,
    ) -> Result<bool, Error> {
        ctx.defer_requested = false;
        ctx.defer_refusal = self.charm.defer_refusal(&observer.id);
        let saved = ctx.current.take();
        self.calls += 1;
        let result = (observer.call)(ctx, value);
        ctx.defer_refusal = None;
        ctx.current = saved;
        let deferred = std::mem::take(&mut ctx.defer_requested);
        self.absorb(result)?;
        self.drain(ctx, depth + 1)?;
        Ok(deferred)
    }

    /// Runs the handlers of events emitted by the last handler, depth first.
    fn drain(&mut self, ctx: &mut Ctx<'_>, depth: usize) -> Result<(), Error> {
        if ctx.emitted.is_empty() {
            return Ok(());
        }
        if depth > MAX_EVENT_DEPTH {
            return Err(Error::fail(
                "custom events nested too deep (an event loop?)",
            ));
        }
        let batch: Vec<Emitted> = std::mem::take(&mut ctx.emitted);
        for emitted in batch {
            // Recorded before its handlers run, so a failing handler does not hide the event.
            self.emitted.push(EmittedEvent {
                name: emitted.name,
                data: emitted.data.clone(),
                value: emitted.value.clone(),
            });
            for observer in self
                .charm
                .custom_observers
                .iter()
                .filter(|o| o.type_id == emitted.type_id)
            {
                if self.call_custom(ctx, observer, &*emitted.value, depth)? {
                    let record = DeferredEvent::Custom {
                        name: emitted.name.to_string(),
                        data: emitted.data.clone(),
                    };
                    add_deferred(&mut ctx.state, &observer.id, record);
                }
            }
        }
        Ok(())
    }

    /// Applies the error policy to a handler result.
    fn absorb(&mut self, result: Result<(), Error>) -> Result<(), Error> {
        match result {
            Ok(()) => Ok(()),
            Err(e) => match e.outcome() {
                Outcome::Fail => Err(e),
                Outcome::Blocked => {
                    tracing::warn!("blocked: {e}");
                    self.problems.push(Status::blocked(e.message()));
                    Ok(())
                }
                Outcome::Waiting => {
                    tracing::info!("waiting: {e}");
                    self.problems.push(Status::waiting(e.message()));
                    Ok(())
                }
            },
        }
    }

    fn collect_status(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let mut collector = StatusCollector::default();
        for status in self.problems.drain(..) {
            collector.add_unit(status);
        }
        for collect in &self.charm.collectors {
            self.calls += 1;
            match collect(ctx, &mut collector) {
                Ok(()) => {}
                Err(e) => match e.outcome() {
                    Outcome::Fail => return Err(e),
                    Outcome::Blocked => collector.add_unit(Status::blocked(e.message())),
                    Outcome::Waiting => collector.add_unit(Status::waiting(e.message())),
                },
            }
        }
        ctx.converge_status(collector.unit_status(), collector.app_status())?;
        Ok(())
    }
}

/// Whether a relation still exists (and is not the one breaking in this dispatch).
fn relation_is_live(ctx: &mut Ctx<'_>, relation: &crate::event::RelationId) -> bool {
    ctx.relations(&relation.endpoint)
        .map(|ids| ids.contains(relation))
        .unwrap_or(false)
}
