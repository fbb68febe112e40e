//! Running one dispatch (a hook or an action) on a unit, as the unit agent does: write the
//! [`HookRun`] for the tools, build the hook environment, run the charm's `dispatch` under
//! [`process`] supervision, apply the journal (immediate changes always, buffered ones only
//! after exit 0, checked as Juju's flush checks them), and record the dispatch in the timeline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::action_params::set_dotted;
use crate::clock::{now_secs, rfc3339};
use crate::commit::{self, Effects, Mode};
use crate::error::{Error, Result};
use crate::hook_run::{HOOK_RUN_ENV, HOOK_RUN_VERSION, HookRun};
use crate::ids::split_unit;
use crate::journal::{Op, ToolRecord, read_journal, read_journal_lenient};
use crate::options::{ModelOptions, format_secs};
use crate::process;
use crate::resolver::{relation_views, unit_key};
use crate::state::HookSpec;
use crate::state::{ActionOutcome, Life, ModelState, Status, Unit};
use crate::timeline::{CharmEvent, HookRecord, ToolCall};

/// The model a dispatch runs in.
#[derive(Debug, Clone, Copy)]
pub struct Executor<'a> {
    /// The model directory.
    pub dir: &'a Path,
    /// The model's options (environment, hook timeout).
    pub opts: &'a ModelOptions,
}

/// What the charm process did.
struct Ran {
    exit_code: i32,
    max_rss_kb: u64,
    timed_out: bool,
    /// No `dispatch` file: nothing ran.
    skipped: bool,
    stdout: String,
    stderr: String,
}

/// What applying the journal did.
struct Applied {
    fx: Effects,
    error: Option<String>,
    committed: bool,
}

impl Executor<'_> {
    /// The directory of hook-tool symlinks, first on every charm's `PATH`.
    pub fn tools_dir(&self) -> PathBuf {
        self.dir.join("tools")
    }

    /// Runs the dispatch for `spec` on `unit`, applies the journal, records the timeline, saves
    /// the state. `kind` is the timeline's `hook`, `manual` or `action`.
    pub fn execute(
        &self,
        st: &mut ModelState,
        unit: &str,
        spec: &HookSpec,
        kind: &str,
    ) -> Result<HookRecord> {
        st.next_hook_seq += 1;
        let seq = st.next_hook_seq;
        let u = st
            .unit(unit)
            .ok_or_else(|| Error::not_found("unit", unit))?
            .clone();
        let run_dir = self.dir.join("run");
        crate::files::create_private_dir(&run_dir)?;
        let run_path = run_dir.join(format!("{seq}.context.json"));
        let journal = run_dir.join(format!("{seq}.journal.jsonl"));
        let _ = std::fs::remove_file(&journal);
        crate::storage::ensure_dirs(&u)?;
        let run = self.hook_run(st, &u, spec, seq, journal.clone());
        st.save(self.dir)?;
        run.save(&run_path)?;

        let mut env = self.hook_env(st, &u, spec, &run, &run_path);
        let (app, _) = unit_key(unit);
        let sidecar = st
            .applications
            .get(&app)
            .is_some_and(|a| !a.meta.containers.is_empty());
        let pod = sidecar.then(|| pod_mount(&u, &mut env));
        let started = Instant::now();
        let ran = self.run_dispatch(&u, spec, env, pod.flatten())?;
        let wall = started.elapsed();

        // A killed process may have left a torn last line: keep what can be read.
        let records = if ran.timed_out {
            read_journal_lenient(&journal)
        } else {
            read_journal(&journal)?
        };
        let before = st.clone();
        let mut applied = apply_journal(st, &run, &records, &ran);
        if ran.timed_out {
            let what = if spec.is_action() { "action" } else { "hook" };
            let limit = self.opts.hook_timeout.map(format_secs).unwrap_or_default();
            let msg = format!("{what} {} on {unit} timed out after {limit} s", spec.name);
            if spec.is_action() {
                applied.fx.action_failed = Some(msg.clone());
            }
            applied.error = Some(msg);
        }
        // Juju's "installing charm software" ends with a successful start.
        if spec.name == "start"
            && applied.committed
            && let Some(uu) = st.unit_mut(unit)
            && uu.status == Status::new("maintenance", "installing charm software")
        {
            uu.status = Status::default();
        }
        let changes = crate::timeline::diff(&before, st);
        if let Some(id) = spec.action_id {
            let outcome = action_outcome(id, unit, spec, &ran, &mut applied);
            st.actions.insert(id, outcome);
        }
        let record = record(
            seq, unit, kind, spec, &ran, &applied, &records, wall, changes,
        );
        crate::timeline::append(&self.dir.join("timeline.jsonl"), &record)?;
        st.save(self.dir)?;
        if std::env::var_os("JUJU_LOCAL_KEEP_RUN").is_none() {
            let _ = std::fs::remove_file(&run_path);
            let _ = std::fs::remove_file(&journal);
        }
        Ok(record)
    }

    fn hook_run(
        &self,
        st: &ModelState,
        u: &Unit,
        spec: &HookSpec,
        seq: u64,
        journal: PathBuf,
    ) -> HookRun {
        let (app, _) = unit_key(&u.name);
        HookRun {
            version: HOOK_RUN_VERSION,
            model_dir: self.dir.to_path_buf(),
            journal,
            context_id: context_id(&u.name, spec, seq),
            unit: u.name.clone(),
            app,
            hook: spec.clone(),
            leader: st.is_leader(&u.name),
            dying: u.life == Life::Dying,
            relations: relation_views(st, &u.name, spec),
            started: now_secs(),
        }
    }

    /// The hook environment of spec §1.3, then the application's, the hook's and the model
    /// options' extra variables; the tools directory first on `PATH`.
    fn hook_env(
        &self,
        st: &ModelState,
        u: &Unit,
        spec: &HookSpec,
        run: &HookRun,
        run_path: &Path,
    ) -> BTreeMap<String, String> {
        let unit = u.name.as_str();
        let app_name = run.app.as_str();
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        let charm_dir = u.charm_dir.to_string_lossy().into_owned();
        let (dispatch_path, hook_name) = if spec.is_action() {
            (format!("actions/{}", spec.name), String::new())
        } else {
            (format!("hooks/{}", spec.name), spec.name.clone())
        };
        env.insert("JUJU_DISPATCH_PATH".into(), dispatch_path);
        env.insert("JUJU_HOOK_NAME".into(), hook_name);
        env.insert("JUJU_UNIT_NAME".into(), unit.into());
        env.insert("JUJU_MODEL_NAME".into(), st.name.clone());
        env.insert("JUJU_MODEL_UUID".into(), st.uuid.clone());
        env.insert("JUJU_VERSION".into(), st.juju_version.clone());
        env.insert("JUJU_CHARM_DIR".into(), charm_dir.clone());
        env.insert("CHARM_DIR".into(), charm_dir);
        env.insert("JUJU_CONTEXT_ID".into(), run.context_id.clone());
        env.insert(
            "JUJU_AGENT_SOCKET_ADDRESS".into(),
            format!(
                "@/var/lib/juju/agents/unit-{}/agent.socket",
                unit.replace('/', "-")
            ),
        );
        env.insert("JUJU_AGENT_SOCKET_NETWORK".into(), "unix".into());
        env.insert("JUJU_API_ADDRESSES".into(), "127.0.0.1:17070".into());
        env.insert("JUJU_SLA".into(), "unsupported".into());
        let machine = st.machine_of(unit);
        env.insert(
            "JUJU_MACHINE_ID".into(),
            split_unit(&machine)
                .map_or(u.number, |(_, n)| n)
                .to_string(),
        );
        env.insert(
            "JUJU_PRINCIPAL_UNIT".into(),
            u.principal.clone().unwrap_or_default(),
        );
        env.insert("JUJU_AVAILABILITY_ZONE".into(), String::new());
        env.insert("CLOUD_API_VERSION".into(), String::new());
        for p in ["HTTP", "HTTPS", "FTP", "NO"] {
            env.insert(format!("JUJU_CHARM_{p}_PROXY"), String::new());
        }
        if let Some(rid) = spec.relation
            && let Some(view) = run.relations.get(&rid)
        {
            env.insert("JUJU_RELATION".into(), view.endpoint.clone());
            env.insert(
                "JUJU_RELATION_ID".into(),
                format!("{}:{rid}", view.endpoint),
            );
            env.insert(
                "JUJU_REMOTE_UNIT".into(),
                spec.remote_unit.clone().unwrap_or_default(),
            );
            env.insert(
                "JUJU_REMOTE_APP".into(),
                spec.remote_app
                    .clone()
                    .unwrap_or_else(|| view.remote_app.clone()),
            );
            if let Some(d) = &spec.departing_unit {
                env.insert("JUJU_DEPARTING_UNIT".into(), d.clone());
            }
        }
        if let Some(id) = spec.action_id {
            env.insert("JUJU_ACTION_NAME".into(), spec.name.clone());
            env.insert("JUJU_ACTION_UUID".into(), id.to_string());
            env.insert("JUJU_ACTION_TAG".into(), format!("action-{id}"));
        }
        if let Some(sid) = &spec.secret {
            env.insert("JUJU_SECRET_ID".into(), format!("secret:{sid}"));
            // Each side sees its own label for the secret.
            let label = st.secrets.get(sid).and_then(|s| {
                if s.owner.includes(unit) {
                    s.label.clone()
                } else {
                    s.consumers.get(unit).and_then(|c| c.label.clone())
                }
            });
            env.insert("JUJU_SECRET_LABEL".into(), label.unwrap_or_default());
            if let Some(r) = spec.secret_revision.filter(|r| *r > 0) {
                env.insert("JUJU_SECRET_REVISION".into(), r.to_string());
            }
        }
        if let Some(app) = st.applications.get(app_name) {
            for (k, v) in &app.env {
                let value = v
                    .replace("{unit}", unit)
                    .replace("{app}", app_name)
                    .replace("{n}", &u.number.to_string())
                    .replace("{model}", &self.dir.to_string_lossy());
                env.insert(k.clone(), value);
            }
        }
        for (k, v) in &spec.env {
            env.insert(k.clone(), v.clone());
        }
        for (k, v) in &self.opts.env {
            env.insert(k.clone(), v.clone());
        }
        // A PATH in the model options replaces the driver's own (the tools dir still comes first).
        let base_path = env
            .remove("PATH")
            .or_else(|| std::env::var("PATH").ok())
            .unwrap_or_else(|| {
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
            });
        env.insert(
            "PATH".into(),
            format!("{}:{base_path}", self.tools_dir().to_string_lossy()),
        );
        for pass in ["HOME", "LANG", "TMPDIR", "LLVM_PROFILE_FILE"] {
            if let Ok(v) = std::env::var(pass) {
                env.entry(pass.into()).or_insert(v);
            }
        }
        env.insert(HOOK_RUN_ENV.into(), run_path.to_string_lossy().into_owned());
        env
    }

    /// Runs the unit's `dispatch` with exactly `env`, in its charm directory, supervised.
    fn run_dispatch(
        &self,
        u: &Unit,
        spec: &HookSpec,
        env: BTreeMap<String, String>,
        pod: Option<PathBuf>,
    ) -> Result<Ran> {
        let dispatch = u.charm_dir.join("dispatch");
        if !dispatch.exists() {
            return Ok(Ran {
                exit_code: if spec.is_action() { 1 } else { 0 },
                max_rss_kb: 0,
                timed_out: false,
                skipped: true,
                stdout: String::new(),
                stderr: String::new(),
            });
        }
        let mut command = Command::new(&dispatch);
        command.current_dir(&u.charm_dir).env_clear().envs(&env);
        if let Some(unit_dir) = &pod {
            process::in_pod_namespace(&mut command, unit_dir).map_err(|message| Error::Spawn {
                unit: u.name.clone(),
                hook: spec.name.clone(),
                message,
            })?;
        }
        let exit =
            process::run(command, self.opts.hook_timeout).map_err(|message| Error::Spawn {
                unit: u.name.clone(),
                hook: spec.name.clone(),
                message,
            })?;
        Ok(Ran {
            exit_code: exit.code,
            max_rss_kb: exit.max_rss_kb,
            timed_out: exit.timed_out,
            skipped: false,
            stdout: exit.stdout,
            stderr: exit.stderr,
        })
    }
}

/// Where a sidecar unit's hooks find their Pebble sockets: the unit directory mounted at `/charm`
/// in a mount namespace of their own (returned), or, where namespaces do not work (not root),
/// the pebble crate's documented override in `env` pointing at the host path.
fn pod_mount(u: &Unit, env: &mut BTreeMap<String, String>) -> Option<PathBuf> {
    // The unit directory holds the charm (`charm/`) and the containers (`containers/`).
    let unit_dir = u.charm_dir.parent()?.to_path_buf();
    if process::namespaces_work() {
        return Some(unit_dir);
    }
    env.insert(
        CONTAINERS_DIR_ENV.into(),
        unit_dir.join("containers").to_string_lossy().into_owned(),
    );
    None
}

/// The pebble crate's override of `/charm/containers` (for local models where the socket cannot
/// be mounted there).
pub const CONTAINERS_DIR_ENV: &str = "PEBBLE_CONTAINERS_DIR";

/// `JUJU_CONTEXT_ID`: unit, hook (or `run-action`) and sequence number.
fn context_id(unit: &str, spec: &HookSpec, seq: u64) -> String {
    let what = if spec.is_action() {
        "run-action"
    } else {
        &spec.name
    };
    format!("{unit}-{what}-{seq}")
}

/// Applies the journal as Juju flushes a hook context: immediate changes whatever happened,
/// buffered ones only after exit 0 and only if all of them pass the flush checks.
fn apply_journal(st: &mut ModelState, run: &HookRun, records: &[ToolRecord], ran: &Ran) -> Applied {
    let (immediate, buffered): (Vec<&Op>, Vec<&Op>) = records
        .iter()
        .flat_map(|r| &r.ops)
        .partition(|o| o.immediate());
    let fx = commit::apply(st, run, &immediate, Mode::Commit).unwrap_or_default();
    let mut error = None;
    let mut committed = false;
    if ran.timed_out {
        // The caller words the timeout.
    } else if ran.exit_code == 0 {
        let mut candidate = st.clone();
        match commit::apply(&mut candidate, run, &buffered, Mode::Commit) {
            Ok(_) => {
                *st = candidate;
                committed = true;
            }
            Err(m) => error = Some(format!("cannot apply changes: {m}")),
        }
    } else if ran.skipped {
        error = Some(format!("action not implemented on unit {:?}", run.unit));
    } else {
        error = Some(format!("exit status {}", ran.exit_code));
    }
    Applied {
        fx,
        error,
        committed,
    }
}

/// An action's outcome: `action-set` results nested at dots plus `return-code`, `stdout` and
/// `stderr`; failed when the charm said so, exited non-zero, or its changes did not commit.
fn action_outcome(
    id: u64,
    unit: &str,
    spec: &HookSpec,
    ran: &Ran,
    applied: &mut Applied,
) -> ActionOutcome {
    let fx = &mut applied.fx;
    if ran.exit_code != 0 && fx.action_failed.is_none() && !ran.skipped {
        fx.action_failed = Some(format!("exit status {}", ran.exit_code));
    }
    let mut results = serde_json::Map::new();
    for (k, v) in &fx.action_results {
        set_dotted(&mut results, k, Value::String(v.clone()));
    }
    let mut status = if fx.action_failed.is_some() || !applied.committed {
        "failed"
    } else {
        "completed"
    };
    let mut message = fx.action_failed.clone().unwrap_or_default();
    let mut return_code = ran.exit_code.to_string();
    let mut stderr = ran.stderr.clone();
    if ran.exit_code == 0 && !applied.committed {
        status = "failed";
        if message.is_empty() {
            message = "committing requested changes failed".into();
        }
        if let Some(e) = &applied.error {
            stderr = if stderr.is_empty() {
                e.clone()
            } else {
                format!("{stderr}\n{e}")
            };
        }
        return_code = "1".into();
    }
    if ran.skipped {
        message = format!("action not implemented on unit {unit:?}");
    }
    results.insert("return-code".into(), Value::String(return_code));
    if !ran.stdout.is_empty() {
        results.insert("stdout".into(), Value::String(ran.stdout.clone()));
    }
    if !stderr.is_empty() {
        results.insert("stderr".into(), Value::String(stderr));
    }
    ActionOutcome {
        id,
        unit: unit.into(),
        action: spec.name.clone(),
        params: spec.action_params.clone().unwrap_or(Value::Null),
        status: status.into(),
        message,
        results: Value::Object(results),
        logs: fx.action_logs.clone(),
    }
}

/// The timeline record of a dispatch; stdout lines `CHARM_EVENT {...}` become library events.
#[allow(clippy::too_many_arguments)]
fn record(
    seq: u64,
    unit: &str,
    kind: &str,
    spec: &HookSpec,
    ran: &Ran,
    applied: &Applied,
    records: &[ToolRecord],
    wall: std::time::Duration,
    changes: Vec<crate::timeline::Change>,
) -> HookRecord {
    let mut events = Vec::new();
    let mut log = Vec::new();
    for line in ran.stdout.lines() {
        if let Some(rest) = line.strip_prefix("CHARM_EVENT ")
            && let Ok(ev) = serde_json::from_str::<CharmEvent>(rest)
        {
            events.push(ev);
            continue;
        }
        log.push(line.to_string());
    }
    let tools: Vec<ToolCall> = records
        .iter()
        .map(|r| ToolCall {
            tool: r.tool.clone(),
            args: r.args.clone(),
            exit: r.exit,
            micros: r.micros,
        })
        .collect();
    let tool_micros: u64 = records.iter().map(|r| r.micros).sum();
    // An action's failure is the action's, not the unit's.
    let failed = !spec.is_action() && !applied.committed && !ran.skipped;
    let outcome = if ran.skipped && !spec.is_action() {
        "skipped"
    } else if applied.committed {
        "ok"
    } else {
        "failed"
    };
    let error = if failed || (spec.is_action() && applied.error.is_some()) {
        applied.error.clone()
    } else {
        None
    };
    HookRecord {
        seq,
        unit: unit.into(),
        kind: kind.into(),
        hook: spec.clone(),
        started: rfc3339(now_secs()),
        exit_code: ran.exit_code,
        outcome: outcome.into(),
        error,
        committed: applied.committed,
        wall_ms: wall.as_secs_f64() * 1000.0,
        tool_ms: tool_micros as f64 / 1000.0,
        tool_calls: records.len(),
        max_rss_kb: ran.max_rss_kb,
        changes,
        events,
        juju_log: applied.fx.logs.clone(),
        stdout: log,
        stderr: ran.stderr.lines().map(str::to_string).collect(),
        tools,
    }
}
