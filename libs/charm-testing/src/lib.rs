//! State-transition tests for charms, in the spirit of ops' Scenario.
//!
//! Build a [`State`] (leadership, config, relations with their bags, secrets, stored state,
//! deferred events), run one event through the charm in-process, and inspect the [`Output`]: the
//! new state, emitted library events, statuses, logs, action results and the transcript of
//! hook-tool calls. The in-memory Juju enforces the same rules as the real one: a follower writing
//! its app bag fails the same way. A failed hook leaves the state as it was, except what Juju
//! applies at once (statuses, logs, workload version).
//!
//! [`StubTools`] goes one level lower: stub hook-tool executables that record the exact argv a real
//! compiled charm sends, for tests of the binary itself.
//!
//! ```
//! use charm::{Bag, Charm, Ctx, Error, EventKind, RelationEvent, Status, StatusCollector};
//! use charm_testing::{Harness, Relation, State};
//!
//! fn greet(ctx: &mut Ctx, rel: &RelationEvent) -> Result<(), Error> {
//!     ctx.set(&rel.relation, &Bag::LocalApp, "greeting", "hello")?;
//!     Ok(())
//! }
//!
//! let mut charm = Charm::new();
//! charm
//!     .on(EventKind::RelationJoined.on("db"), greet)
//!     .collect_status(|_ctx: &mut Ctx, s: &mut StatusCollector| {
//!         s.add_unit(Status::active("ready"));
//!         Ok(())
//!     });
//! let harness = Harness::new(charm, "name: app\nrequires:\n  db: {interface: pg}\n");
//!
//! let db = Relation::new("db", 1, "pg").remote_unit(0, [("x", "1")]);
//! let out = harness.run(db.joined(0), State::default().leader(true).relation(db));
//! assert!(out.ok());
//! assert_eq!(out.state.get_relation(1).local_app_data["greeting"], "hello");
//! assert_eq!(out.state.unit_status, Some(Status::active("ready")));
//!
//! // A follower may not write its app bag: the hook fails and nothing is committed.
//! let db = Relation::new("db", 1, "pg").remote_unit(0, [("x", "1")]);
//! let out = harness.run(db.joined(0), State::default().relation(db));
//! assert!(!out.ok());
//! assert!(out.state.get_relation(1).local_app_data.is_empty());
//! ```

mod answers;
mod backend;
mod consistency;
mod container;
mod logs;
mod networks;
mod pebble;
mod state;
mod storages;
mod stubs;

pub use answers::ToolAnswer;
pub use backend::{ActionOutput, Call, Failure};
pub use container::{Container, ExecCall, ExecHandler, FsEntry};
pub use logs::capture_logs;
pub use networks::default_network;
pub use state::{Relation, Secret, State, bag};
pub use storages::StorageInstance;
pub use stubs::{HOOK_TOOLS, StubTools};

use backend::MockTools;
use charm::backend::LogLevel;
use charm::meta::{ConfigMeta, Metadata};
use charm::state::{MemoryStore, StateDoc};
use charm::{ActionEvent, Charm, CustomEvent, EmittedEvent, Event, JujuEnv, JujuVersion, Status};

/// A charm under test, with its metadata and config schema. Reusable across runs.
pub struct Harness {
    charm: Charm,
    meta: Metadata,
    app: String,
    unit: String,
    juju_version: JujuVersion,
    config_defaults: serde_json::Map<String, serde_json::Value>,
    config_meta: Option<ConfigMeta>,
    failures: Vec<Failure>,
    /// The containers the metadata declares.
    containers: std::collections::BTreeSet<String>,
}

impl Harness {
    /// A context for `charm` with this `metadata.yaml` text; the unit is `<name>/0`.
    ///
    /// # Panics
    /// If `metadata_yaml` is not valid metadata: that is a bug in the test itself.
    pub fn new(mut charm: Charm, metadata_yaml: &str) -> Self {
        let meta: Metadata = match charm_yaml::from_str(metadata_yaml) {
            Ok(meta) => meta,
            #[allow(clippy::panic)]
            Err(e) => panic!("the test's metadata.yaml is invalid: {e}"),
        };
        #[allow(clippy::panic)]
        if let Err(e) = charm::workload_meta::check(&meta) {
            panic!("the test's metadata.yaml is invalid: {e}");
        }
        let app = meta.name.clone();
        let containers = meta.containers.keys().cloned().collect();
        charm.metadata_parsed(meta.clone());
        Harness {
            charm,
            meta,
            unit: format!("{app}/0"),
            app,
            juju_version: JujuVersion {
                major: 3,
                minor: 6,
                patch: 14,
            },
            config_defaults: serde_json::Map::new(),
            config_meta: None,
            failures: Vec::new(),
            containers,
        }
    }

    /// Adds config defaults from this `config.yaml` text.
    ///
    /// # Panics
    /// If the text is not valid `config.yaml`.
    pub fn config_yaml(mut self, text: &str) -> Self {
        match charm_yaml::from_str::<ConfigMeta>(text) {
            Ok(config) => {
                self.config_defaults = config.defaults();
                self.config_meta = Some(config);
            }
            #[allow(clippy::panic)]
            Err(e) => panic!("the test's config.yaml is invalid: {e}"),
        }
        self
    }

    /// Names the application (default: the charm name), e.g. to run two apps of one charm.
    pub fn app(mut self, name: &str) -> Self {
        let n = self.unit.rsplit('/').next().unwrap_or("0").to_string();
        self.app = name.to_string();
        self.unit = format!("{name}/{n}");
        self
    }

    /// Runs as unit number `n` of the application.
    pub fn unit(mut self, n: u32) -> Self {
        self.unit = format!("{}/{n}", self.app);
        self
    }

    /// The Juju version the charm sees.
    pub fn juju_version(mut self, version: JujuVersion) -> Self {
        self.juju_version = version;
        self
    }

    /// Makes calls to `tool` fail `times` times (`None`: always) with this stderr and exit code 1.
    pub fn fail(mut self, tool: &str, stderr: &str, times: Option<u32>) -> Self {
        self.failures.push(Failure {
            tool: tool.to_string(),
            code: 1,
            stderr: stderr.to_string(),
            times,
        });
        self
    }

    /// This unit's name.
    pub fn unit_name(&self) -> &str {
        &self.unit
    }

    /// Runs one Juju event.
    pub fn run(&self, event: Event, state: State) -> Output {
        self.run_with(event, state, None)
    }

    /// Runs an action with these parameters (a JSON object).
    pub fn run_action(&self, name: &str, params: serde_json::Value, state: State) -> Output {
        let event = Event::Action(ActionEvent {
            name: name.to_string(),
            id: "1".to_string(),
        });
        self.run_with(event, state, Some(params))
    }

    /// Checks `state` and `event` against the charm's metadata (and config.yaml, when given):
    /// relations on undeclared endpoints, peer relations not declared as peers, endpoints over
    /// their `limit`, undeclared storage or more instances than it allows, networks of unknown
    /// bindings, config keys config.yaml does not declare, an event about a relation or storage the state
    /// does not hold. `Err` lists every mismatch. [`Harness::run`] runs it first.
    pub fn check(&self, event: &Event, state: &State) -> Result<(), String> {
        let problems = consistency::check(&self.meta, self.config_meta.as_ref(), state, event);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn run_with(&self, event: Event, state: State, params: Option<serde_json::Value>) -> Output {
        if let Err(problems) = self.check(&event, &state) {
            #[allow(clippy::panic)]
            {
                panic!("the test's State is inconsistent with the charm's metadata: {problems}")
            }
        }
        for container in &state.containers {
            #[allow(clippy::panic)]
            if !self.containers.contains(&container.name) {
                panic!(
                    "the state has container {:?}, which metadata.yaml does not declare",
                    container.name
                );
            }
            // Scenario's consistency rule: a check info describes a check of the plan.
            #[allow(clippy::panic)]
            if let Some(name) = container
                .check_infos
                .keys()
                .find(|name| !container.plan().checks.contains_key(*name))
            {
                panic!(
                    "container {:?} has check info {name:?}, which its plan does not define",
                    container.name
                );
            }
        }
        let pebbles: std::collections::BTreeMap<_, _> = state
            .containers
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    std::rc::Rc::new(pebble::FakePebble::new(c.clone())),
                )
            })
            .collect();
        let dispatch_path = match &event {
            Event::Action(a) => format!("actions/{}", a.name),
            other => format!("hooks/{}", other.hook_name()),
        };
        let juju = JujuEnv {
            unit: self.unit.clone(),
            app: self.app.clone(),
            model_name: "test".into(),
            model_uuid: "00000000-0000-4000-8000-000000000001".into(),
            juju_version: self.juju_version,
            charm_dir: std::path::PathBuf::from("/nonexistent-charm-dir"),
            dispatch_path,
            event: event.clone(),
            debug: false,
            host: state.host.clone(),
        };
        let mut store = MemoryStore {
            doc: StateDoc {
                stored: state.stored.clone(),
                deferred: state.deferred.clone(),
                next_seq: state.deferred.iter().map(|d| d.seq + 1).max().unwrap_or(0),
                last_status: charm::state::LastStatus {
                    unit: state.unit_status.clone(),
                    app: state.app_status.clone(),
                },
                ..StateDoc::default()
            },
        };
        let mut tools = MockTools {
            state: state.clone(),
            unit: self.unit.clone(),
            app: self.app.clone(),
            event,
            config_defaults: self.config_defaults.clone(),
            action_params: params,
            failures: self.failures.clone(),
            calls: Vec::new(),
            logs: Vec::new(),
            action: ActionOutput::default(),
            unit_status_history: Vec::new(),
            app_status_history: Vec::new(),
            removed_revisions: Vec::new(),
            flush_error: None,
            next_secret: u32::try_from(state.secrets.len()).unwrap_or(0),
            new_secrets: Vec::new(),
            tool_argv: Vec::new(),
            meta: self.meta.clone(),
            pebbles: pebbles.clone(),
        };
        let (report, mut logs) =
            capture_logs(|| self.charm.dispatch(&juju, &mut tools, &mut store));
        let mut result = report.result;
        if let (Ok(()), Some(problem)) = (&result, tools.flush_error.take()) {
            result = Err(charm::Error::fail(format!(
                "the hook failed when Juju committed it: {problem}"
            )));
        }
        logs.extend(tools.logs);
        // What the charm did to its containers happened, whether the hook failed or not.
        let mut exec_history = std::collections::BTreeMap::new();
        let containers: Vec<Container> = state
            .containers
            .iter()
            .map(|c| {
                let fake = &pebbles[&c.name];
                let history = fake.history.borrow().clone();
                if !history.is_empty() {
                    exec_history.insert(c.name.clone(), history);
                }
                fake.container.borrow().clone()
            })
            .collect();
        let out_state = if result.is_ok() {
            let mut s = tools.state;
            s.stored = store.doc.stored;
            s.deferred = store.doc.deferred;
            s.containers = containers;
            s
        } else {
            // Juju discards everything but what it applied at once.
            State {
                unit_status: tools.state.unit_status,
                app_status: tools.state.app_status,
                workload_version: tools.state.workload_version,
                containers,
                ..state
            }
        };
        Output {
            state: out_state,
            result,
            emitted: report.emitted,
            logs,
            calls: tools.calls,
            action: tools.action,
            unit_status_history: tools.unit_status_history,
            app_status_history: tools.app_status_history,
            removed_secret_revisions: tools.removed_revisions,
            handler_calls: report.handler_calls,
            tool_argv: tools.tool_argv,
            exec_history,
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Output {
    /// The model after the run (unchanged but for statuses when the hook failed).
    pub state: State,
    /// `Err` when the hook failed.
    pub result: Result<(), charm::Error>,
    /// Library events emitted, in order.
    pub emitted: Vec<EmittedEvent>,
    /// Log lines (`tracing` records at DEBUG and above, and direct `juju-log` calls). In production
    /// each `tracing` record at an enabled level (INFO by default) is one `juju-log` call; they are
    /// not in [`Output::calls`].
    pub logs: Vec<(LogLevel, String)>,
    /// Every hook-tool call, in order.
    pub calls: Vec<Call>,
    /// Action results, failure and logs.
    pub action: ActionOutput,
    /// Every unit status set during the run.
    pub unit_status_history: Vec<Status>,
    /// Every app status set during the run.
    pub app_status_history: Vec<Status>,
    /// `(secret id, revision)` of every `secret-remove`.
    pub removed_secret_revisions: Vec<(String, Option<u32>)>,
    /// Handler calls the dispatcher made.
    pub handler_calls: usize,
    /// `(tool, argv after the tool name)` of every hook tool run through the escape hatch
    /// (`Ctx::run_tool`), in order.
    pub tool_argv: Vec<(String, Vec<String>)>,
    /// The commands run in each container (containers that ran none are absent).
    pub exec_history: std::collections::BTreeMap<String, Vec<ExecCall>>,
}

impl Output {
    /// Whether the hook succeeded.
    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The emitted events of type `E`, in order.
    pub fn emitted<E: CustomEvent>(&self) -> Vec<&E> {
        self.emitted
            .iter()
            .filter_map(EmittedEvent::get::<E>)
            .collect()
    }

    /// The number of calls to `tool`.
    pub fn calls_to(&self, tool: &str) -> usize {
        self.calls.iter().filter(|c| c.tool == tool).count()
    }

    /// Whether any log line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.logs.iter().any(|(_, line)| line.contains(text))
    }

    /// The error message of a failed hook.
    pub fn error(&self) -> Option<&str> {
        self.result.as_ref().err().map(charm::Error::message)
    }
}
