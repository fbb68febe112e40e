//! The library helper (`Charm::endpoint`), the endpoint check against metadata, charms without
//! metadata, and deferral records written before a library was rewritten or its events renamed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::state::{Deferred, DeferredEvent, MemoryStore};
use charm::{
    Bag, Charm, Ctx, CustomEvent, EndpointSpec, Error, Event, EventKind, JujuEnv, ModelError,
    Plugin, ProcessBackend, RelationEvent, Role,
};
use charm_testing::{Harness, Relation, State, StubTools};
use serde::{Deserialize, Serialize};

const META: &str = "name: app
requires:
  db: {interface: pg}
provides:
  web: {interface: http}
";

/// A relation library as the six real ones are written: methods, a spec, the helper.
#[derive(Clone)]
struct DbRequirer {
    endpoint: String,
}

impl DbRequirer {
    fn new(endpoint: &str) -> Self {
        DbRequirer {
            endpoint: endpoint.to_string(),
        }
    }

    fn spec(&self) -> EndpointSpec {
        EndpointSpec::requires("db-requirer", "pg", &self.endpoint)
    }

    fn on_changed(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        note(ctx, &format!("changed {}", event.relation))?;
        if !ctx.stored::<bool>("gate")?.unwrap_or(false) {
            ctx.defer()?;
        }
        Ok(())
    }

    fn on_leader_elected(&self, ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
        note(ctx, "leader-elected")?;
        ctx.emit(Ready { step: 1 });
        Ok(())
    }

    fn on_ready(&self, ctx: &mut Ctx, event: &Ready) -> Result<(), Error> {
        note(ctx, &format!("ready {}", event.step))
    }
}

impl Plugin for DbRequirer {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on_any(EventKind::LeaderElected, Self::on_leader_elected)
            .on_event(Self::on_ready);
    }
}

/// A library event that was once called `Ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ready {
    step: u32,
}

impl CustomEvent for Ready {
    const NAME: &'static str = "db.ready";
    const ALIASES: &'static [&'static str] = &["Ready"];
}

fn note(ctx: &mut Ctx, what: &str) -> Result<(), Error> {
    let mut log: Vec<String> = ctx.stored("log")?.unwrap_or_default();
    log.push(what.to_string());
    ctx.store("log", &log)
        .map_err(|e| Error::fail(e.to_string()))
}

fn log_of(state: &State) -> Vec<String> {
    state
        .stored
        .get("log")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn charm() -> Charm {
    let mut charm = Charm::new();
    charm.plugin(DbRequirer::new("db"));
    charm
}

fn db() -> Relation {
    Relation::new("db", 1, "pg")
}

#[test]
fn the_helper_registers_methods_on_the_endpoint_and_keys_them_by_the_plugin() {
    assert_eq!(DbRequirer::new("db").spec().key(), "db-requirer:db");
    let harness = Harness::new(charm(), META);
    let web = Relation::new("web", 2, "browser");
    let state = State::default().relation(db()).relation(web.clone());
    // Another endpoint's relation-changed is not the library's.
    let out = harness.run(web.changed(None), state.clone());
    assert!(out.ok(), "{:?}", out.error());
    assert!(log_of(&out.state).is_empty());
    let out = harness.run(db().changed(None), state.clone());
    assert_eq!(log_of(&out.state), ["changed db:1"]);
    // The deferral record names the method under the plugin key, with the endpoint's filter.
    let record = &out.state.deferred[0];
    assert_eq!(
        record.observer,
        "db-requirer:db/plugin::DbRequirer::on_changed"
    );
    assert_eq!(record.filter.as_deref(), Some("relation-changed@db"));
    // on_any and on_event: any endpoint, and the library's own events.
    let out = harness.run(Event::LeaderElected, state);
    assert_eq!(log_of(&out.state), ["leader-elected", "ready 1"]);
    assert_eq!(out.emitted[0].name, "db.ready");
}

#[test]
fn an_endpoint_the_metadata_lacks_or_declares_otherwise_fails_every_hook_saying_why() {
    for (meta, why) in [
        ("name: app\n", "there is no such endpoint"),
        (
            "name: app\nrequires:\n  db: {interface: mysql}\n",
            "its interface is \"mysql\"",
        ),
        (
            "name: app\nprovides:\n  db: {interface: pg}\n",
            "it is declared under `provides`",
        ),
    ] {
        let out = Harness::new(charm(), meta).run(Event::UpdateStatus, State::default());
        let error = out.error().unwrap_or_default().to_string();
        assert!(
            error.contains("db-requirer:db needs `requires: db: {interface: pg}` in metadata.yaml")
                && error.contains(why),
            "{meta}: {error}"
        );
    }
    let out = Harness::new(charm(), META).run(Event::UpdateStatus, State::default());
    assert!(out.ok(), "{:?}", out.error());
}

#[test]
fn endpoint_specs_check_role_and_interface() {
    let meta = charm::Metadata::from_json(
        r#"{"name": "app", "requires": {"db": {"interface": "pg"}}, "provides": {"web": {"interface": "http"}}}"#,
    )
    .unwrap();
    assert_eq!(EndpointSpec::requires("x", "pg", "db").check(&meta), Ok(()));
    assert_eq!(
        EndpointSpec::provides("x", "http", "web").check(&meta),
        Ok(())
    );
    let spec = EndpointSpec::provides("x", "pg", "db");
    assert_eq!(spec.role, Role::Provides);
    assert!(
        spec.check(&meta)
            .unwrap_err()
            .contains("declared under `requires`")
    );
}

/// A dispatch through the real backend and stub hook tools, with no harness metadata.
fn dispatch_with_stubs(charm: &Charm, stubs: &StubTools, event: Event) -> charm::DispatchReport {
    let hook = event.hook_name();
    let env = JujuEnv {
        unit: "app/1".into(),
        app: "app".into(),
        model_name: "m".into(),
        model_uuid: String::new(),
        juju_version: charm::JujuVersion::parse("3.6.14").unwrap(),
        charm_dir: stubs.root().to_path_buf(),
        dispatch_path: format!("hooks/{hook}"),
        event,
        debug: false,
        host: Default::default(),
    };
    let mut tools = ProcessBackend::new("app").with_tools_dir(stubs.bin());
    charm.dispatch(&env, &mut tools, &mut MemoryStore::default())
}

#[test]
fn a_charm_without_metadata_skips_the_checks_and_leaves_the_peer_rule_to_juju() {
    let stubs = StubTools::new().unwrap();
    stubs.answer("is-leader", "false").unwrap();
    stubs.answer("relation-ids", r#"["peers:3"]"#).unwrap();
    stubs
        .answer("relation-get", r#"{"shared": "yes"}"#)
        .unwrap();
    let read_app_bag = |ctx: &mut Ctx, _: &Event| {
        let rel = ctx.relations("peers")?.remove(0);
        let bag = ctx.read(&rel, &Bag::LocalApp)?;
        ctx.store("shared", &bag.get("shared"))?;
        Ok(())
    };
    // No metadata: the library's endpoint is not checked, and the follower's read of its app bag
    // goes to Juju (here: the stub answers, as Juju does on a peer relation).
    let mut charm = Charm::new();
    charm
        .plugin(DbRequirer::new("db"))
        .on(EventKind::UpdateStatus, read_app_bag);
    let report = dispatch_with_stubs(&charm, &stubs, Event::UpdateStatus);
    assert!(report.result.is_ok(), "{:?}", report.result);
    assert_eq!(report.state.stored["shared"], "yes");
    let calls = stubs.calls();
    assert!(
        calls
            .iter()
            .any(|c| c[0] == "relation-get" && c.contains(&"--app".to_string())),
        "{calls:?}"
    );
    // With metadata saying it is not a peer relation, the model refuses before any tool runs.
    charm.metadata(
        r#"{"name": "app", "requires": {"db": {"interface": "pg"}, "peers": {"interface": "x"}}}"#,
    );
    stubs.clear_calls();
    let report = dispatch_with_stubs(&charm, &stubs, Event::UpdateStatus);
    let error = report.result.unwrap_err();
    assert!(
        error.message().contains("only the leader can read"),
        "{error}"
    );
    assert!(!stubs.calls().iter().any(|c| c[0] == "relation-get"));
}

#[test]
fn metadata_that_is_not_json_fails_every_dispatch_saying_so() {
    let stubs = StubTools::new().unwrap();
    let mut charm = Charm::new();
    charm.metadata("name: app\nrequires:\n  db: {interface: pg}\n");
    let error = dispatch_with_stubs(&charm, &stubs, Event::UpdateStatus)
        .result
        .unwrap_err();
    assert!(
        error.message().contains("not metadata.yaml as JSON"),
        "{error}"
    );
    // The same document as JSON is fine.
    let mut charm = Charm::new();
    charm.metadata(r#"{"name": "app", "requires": {"db": {"interface": "pg"}}}"#);
    assert!(
        dispatch_with_stubs(&charm, &stubs, Event::UpdateStatus)
            .result
            .is_ok()
    );
}

#[test]
fn unknown_endpoints_are_refused_only_with_metadata() {
    let stubs = StubTools::new().unwrap();
    stubs.answer("relation-ids", "[]").unwrap();
    let mut charm = Charm::new();
    charm.on(EventKind::UpdateStatus, |ctx: &mut Ctx, _: &Event| {
        match ctx.relations("nope") {
            Err(ModelError::UnknownEndpoint(e)) => ctx.store("unknown", &e)?,
            Ok(ids) => ctx.store("ids", &ids.len())?,
            Err(e) => return Err(e.into()),
        }
        Ok(())
    });
    let report = dispatch_with_stubs(&charm, &stubs, Event::UpdateStatus);
    assert_eq!(report.state.stored.get("ids"), Some(&serde_json::json!(0)));
    charm.metadata(r#"{"name": "app"}"#);
    let report = dispatch_with_stubs(&charm, &stubs, Event::UpdateStatus);
    assert_eq!(
        report.state.stored.get("unknown"),
        Some(&serde_json::json!("nope"))
    );
}

/// A record as an older revision of the library wrote it: the handler was a closure in
/// `Plugin::build`, named after the trait's old path.
fn closure_record(filter: &str, event: DeferredEvent) -> Deferred {
    Deferred {
        seq: 4,
        observer: "db-requirer:db/<plugin::DbRequirer as charm::charm::Plugin>::build::{{closure}}"
            .into(),
        filter: Some(filter.into()),
        event,
    }
}

#[test]
fn a_record_of_a_rewritten_library_handler_goes_to_the_plugins_handler_for_that_filter() {
    let harness = Harness::new(charm(), META);
    let rel = db();
    let state = State {
        deferred: vec![closure_record(
            "relation-changed@db",
            DeferredEvent::Juju(rel.changed(None)),
        )],
        ..State::default().relation(rel)
    };
    let out = harness.run(Event::UpdateStatus, state);
    assert!(out.ok(), "{:?}", out.error());
    // Re-run by the method, which deferred again: the record is rewritten under its name.
    assert_eq!(log_of(&out.state), ["changed db:1"]);
    assert_eq!(out.state.deferred.len(), 1);
    assert_eq!(
        out.state.deferred[0].observer,
        "db-requirer:db/plugin::DbRequirer::on_changed"
    );
    assert_eq!(out.state.deferred[0].seq, 4);
    // A record of another plugin (key) is never handed to this one.
    let mut record = closure_record(
        "relation-changed@db",
        DeferredEvent::Juju(db().changed(None)),
    );
    record.observer = record.observer.replace("db-requirer:db", "db-provider:db");
    let state = State {
        deferred: vec![record],
        ..State::default().relation(db())
    };
    let out = harness.run(Event::UpdateStatus, state);
    assert!(log_of(&out.state).is_empty());
    assert!(out.state.deferred.is_empty());
    assert!(out.logged("dropping a deferred"), "{:?}", out.logs);
}

#[test]
fn a_record_of_the_plugin_is_dropped_when_two_of_its_handlers_share_the_filter() {
    let mut charm = charm();
    charm.plugin(|charm: &mut Charm| {
        // Registered under no key: not the library's.
        charm.on(
            EventKind::RelationChanged.on("db"),
            |ctx: &mut Ctx, _: &RelationEvent| note(ctx, "charm's own"),
        );
    });
    let harness = Harness::new(charm, META);
    let state = State {
        deferred: vec![closure_record(
            "relation-changed@db",
            DeferredEvent::Juju(db().changed(None)),
        )],
        ..State::default().relation(db())
    };
    // The charm's own handler is not the plugin's: the library's method still takes it.
    let out = harness.run(Event::UpdateStatus, state.clone());
    assert_eq!(log_of(&out.state), ["changed db:1"]);

    #[derive(Clone)]
    struct Twice(DbRequirer);
    impl Plugin for Twice {
        fn key(&self) -> Option<String> {
            Some(self.0.spec().key())
        }
        fn build(self, charm: &mut Charm) {
            charm
                .endpoint(self.0.spec(), &self.0)
                .on(EventKind::RelationChanged, DbRequirer::on_changed)
                .on(
                    EventKind::RelationChanged,
                    |_: &DbRequirer, ctx: &mut Ctx, _: &RelationEvent| note(ctx, "second"),
                );
        }
    }
    let mut charm = Charm::new();
    charm.plugin(Twice(DbRequirer::new("db")));
    let out = Harness::new(charm, META).run(Event::UpdateStatus, state);
    assert!(log_of(&out.state).is_empty(), "{:?}", log_of(&out.state));
    assert!(out.state.deferred.is_empty());
}

#[test]
fn a_deferred_library_event_under_its_former_name_restores_and_is_renamed() {
    #[derive(Clone)]
    struct Gated(DbRequirer);
    impl Gated {
        fn on_ready(&self, ctx: &mut Ctx, event: &Ready) -> Result<(), Error> {
            note(ctx, &format!("ready {}", event.step))?;
            if !ctx.stored::<bool>("gate")?.unwrap_or(false) {
                ctx.defer()?;
            }
            Ok(())
        }
    }
    impl Plugin for Gated {
        fn key(&self) -> Option<String> {
            Some(self.0.spec().key())
        }
        fn build(self, charm: &mut Charm) {
            charm
                .endpoint(self.0.spec(), &self)
                .on_event(Self::on_ready);
        }
    }
    let mut charm = Charm::new();
    charm.plugin(Gated(DbRequirer::new("db")));
    let harness = Harness::new(charm, META);
    // Written by a revision where the event was `Ready` and the handler a closure.
    let old = closure_record(
        "event:Ready",
        DeferredEvent::Custom {
            name: "Ready".into(),
            data: serde_json::json!({"step": 7}),
        },
    );
    let out = harness.run(
        Event::UpdateStatus,
        State {
            deferred: vec![old],
            ..State::default()
        },
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(log_of(&out.state), ["ready 7"]);
    let record = &out.state.deferred[0];
    assert_eq!(record.filter.as_deref(), Some("event:db.ready"));
    assert_eq!(
        record.event,
        DeferredEvent::Custom {
            name: "db.ready".into(),
            data: serde_json::json!({"step": 7}),
        }
    );
    assert!(
        record.observer.starts_with("db-requirer:db/plugin::")
            && record.observer.ends_with("::Gated::on_ready"),
        "{}",
        record.observer
    );
    // Once the gate opens, it runs and is gone.
    let out = harness.run(
        Event::UpdateStatus,
        out.state.stored("gate", serde_json::json!(true)),
    );
    assert_eq!(log_of(&out.state), ["ready 7", "ready 7"]);
    assert!(out.state.deferred.is_empty());
}

#[test]
fn an_alias_that_is_another_events_name_is_a_build_error() {
    #[derive(Debug, Serialize, Deserialize)]
    struct Other;
    impl CustomEvent for Other {
        const NAME: &'static str = "Ready";
    }
    let mut charm = charm();
    charm.on_event(|_: &mut Ctx, _: &Other| Ok(()));
    let out = Harness::new(charm, META).run(Event::UpdateStatus, State::default());
    assert!(
        out.error()
            .unwrap_or_default()
            .contains("two event types are named \"Ready\""),
        "{:?}",
        out.error()
    );
}
