//! The driver: a model directory, the operations of the CLI, and the hook runner.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::commit::{self, Change, Mode};
use crate::context::{
    CONTEXT_ENV, CONTEXT_VERSION, HookContext, Op, RelationView, read_journal, read_journal_lenient,
};
use crate::error::{Error, Result};
use crate::meta::{CharmMeta, Endpoint, Role, parse_config_arg};
use crate::redact::Redaction;
use crate::state::{
    AgentState, Application, HookFailure, HookSpec, Life, ModelState, Relation, RelationEndpoint,
    Status, Unit,
};
use crate::timeline::{CharmEvent, HookRecord, ToolCall};
use crate::util::{FileLock, now_secs, rfc3339, split_unit};

/// The default bound on one charm process (hook or action): 60 seconds.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variable giving the hook timeout in seconds (`0`: no limit).
pub const HOOK_TIMEOUT_ENV: &str = "JUJU_LOCAL_HOOK_TIMEOUT";

/// Parses a hook timeout in seconds (decimals allowed); `0` means no limit.
pub fn parse_hook_timeout(text: &str) -> Result<Option<Duration>> {
    let invalid = || {
        bad(format!(
            "invalid hook timeout {text:?}: expected a number of seconds (0 for no limit)"
        ))
    };
    let secs: f64 = text.trim().parse().map_err(|_| invalid())?;
    if secs == 0.0 {
        return Ok(None);
    }
    if !secs.is_finite() || secs < 0.0 {
        return Err(invalid());
    }
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|_| invalid())
}

/// Formats a timeout for messages: `60`, `1.5`.
fn format_secs(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// How a model finds the hook-tool binary and names itself.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// The `juju-local` binary; the tools directory links every hook-tool name to it.
    pub tool_binary: PathBuf,
    /// The model name used by `init` (`JUJU_MODEL_NAME`).
    pub name: String,
    /// Extra environment variables passed to every dispatch. A `PATH` here replaces the
    /// driver's own `PATH` after the hook-tools directory.
    pub env: BTreeMap<String, String>,
    /// How long one charm process (hook or action) may run before it and its process group are
    /// killed with SIGKILL and the hook fails with `hook <name> on <unit> timed out after N s`.
    /// `None`: no limit.
    pub hook_timeout: Option<Duration>,
}

impl ModelOptions {
    /// Options using `tool_binary`, the model name `local` and the hook timeout from
    /// `$JUJU_LOCAL_HOOK_TIMEOUT` when it is set and valid, else [`DEFAULT_HOOK_TIMEOUT`].
    pub fn new(tool_binary: impl Into<PathBuf>) -> ModelOptions {
        let hook_timeout = std::env::var(HOOK_TIMEOUT_ENV)
            .ok()
            .and_then(|v| parse_hook_timeout(&v).ok())
            .unwrap_or(Some(DEFAULT_HOOK_TIMEOUT));
        ModelOptions {
            tool_binary: tool_binary.into(),
            name: "local".into(),
            env: BTreeMap::new(),
            hook_timeout,
        }
    }
}

/// Options for [`Model::deploy`].
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// The application name (defaults to the charm name).
    pub app: Option<String>,
    /// Number of units (defaults to 1).
    pub units: Option<u32>,
    /// Initial config values as `key=value` strings.
    pub config: Vec<(String, String)>,
    /// Extra environment for every hook of every unit of the app. `{unit}` (e.g. `node/1`),
    /// `{app}`, `{n}` (the unit number) and `{model}` (the model directory) in values are
    /// replaced per unit, which lets one
    /// machine stand in for several (e.g. `MICROCLUSTER_NODE_NAME=node-{n}`).
    pub env: Vec<(String, String)>,
}

/// The result of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// The action id.
    pub id: u64,
    /// The unit it ran on.
    pub unit: String,
    /// The action name.
    pub action: String,
    /// The validated parameters.
    pub params: Value,
    /// `completed` or `failed`.
    pub status: String,
    /// The failure message, if any.
    #[serde(default)]
    pub message: String,
    /// Results: `action-set` values (nested at dots) plus `return-code`, `stdout`, `stderr`.
    pub results: Value,
    /// `action-log` messages.
    #[serde(default)]
    pub logs: Vec<String>,
}

/// What `settle` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettleReport {
    /// Number of hooks run.
    pub hooks_run: usize,
    /// Units left in error, with the failed hook.
    pub errors: Vec<(String, String)>,
}

/// A local model in a directory.
#[derive(Debug, Clone)]
pub struct Model {
    dir: PathBuf,
    opts: ModelOptions,
}

/// Where the next hook for a unit comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Computed,
    Queue,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

fn unit_key(name: &str) -> (String, u32) {
    match split_unit(name) {
        Some((a, n)) => (a.to_string(), n),
        None => (name.to_string(), 0),
    }
}

fn sort_units(v: &mut [String]) {
    v.sort_by_key(|a| unit_key(a));
}

fn copy_dir(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst).map_err(|e| Error::io("cannot create", dst, e))?;
    let entries = std::fs::read_dir(src).map_err(|e| Error::io("cannot read", src, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot read", src, e))?;
        let path = entry.path();
        let target = dst.join(entry.file_name());
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("cannot stat", &path, e))?;
        if ft.is_symlink() {
            let link =
                std::fs::read_link(&path).map_err(|e| Error::io("cannot read link", &path, e))?;
            let _ = std::fs::remove_file(&target);
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| Error::io("cannot create link", &target, e))?;
        } else if ft.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| Error::io("cannot copy", &path, e))?;
        }
    }
    Ok(())
}

/// Sets a nested value in `root` at the dotted `key`.
fn set_dotted(root: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = root;
    for p in parts {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(serde_json::Map::new());
        }
        let Value::Object(m) = entry else { return };
        cur = m;
    }
    cur.insert(last.to_string(), value);
}

/// Parses an action parameter given as `key=value` (YAML scalar semantics, dotted keys nest).
fn parse_param_value(s: &str) -> Value {
    charm_yaml::from_str::<Value>(s)
        .ok()
        .filter(|v| !v.is_null() || s.trim() == "null" || s.trim() == "~")
        .unwrap_or_else(|| Value::String(s.to_string()))
}

fn json_type_ok(kind: &str, v: &Value) -> bool {
    match kind {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => true,
    }
}

/// Validates action params against the action's schema and fills in defaults.
fn validate_params(
    spec: &crate::meta::ActionSpec,
    mut params: serde_json::Map<String, Value>,
) -> Result<Value> {
    for r in &spec.required {
        if !params.contains_key(r) {
            return Err(bad(format!(
                "validation failed: (root) : \"{r}\" property is missing and required"
            )));
        }
    }
    for (k, v) in &params {
        match spec.params.get(k) {
            None if !spec.additional_properties => {
                return Err(bad(format!(
                    "validation failed: (root) : additional property \"{k}\" is not allowed"
                )));
            }
            None => {}
            Some(schema) => {
                let kinds: Vec<String> = match schema.get("type") {
                    Some(Value::String(t)) => vec![t.clone()],
                    Some(Value::Array(ts)) => ts
                        .iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                if !kinds.is_empty() && !kinds.iter().any(|t| json_type_ok(t, v)) {
                    return Err(bad(format!(
                        "validation failed: (root).{k} : must be of type {}, given {v}",
                        kinds.join(" or ")
                    )));
                }
                if let Some(Value::Array(allowed)) = schema.get("enum")
                    && !allowed.contains(v)
                {
                    return Err(bad(format!(
                        "validation failed: (root).{k} : must be one of {}",
                        Value::Array(allowed.clone())
                    )));
                }
            }
        }
    }
    for (k, schema) in &spec.params {
        if !params.contains_key(k)
            && let Some(d) = schema.get("default")
        {
            params.insert(k.clone(), d.clone());
        }
    }
    Ok(Value::Object(params))
}

/// Runs a process, waits for it with `wait4`, and returns (exit code, peak RSS in KiB).
#[allow(unsafe_code)]
fn wait_rusage(pid: u32) -> std::io::Result<(i32, u64)> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers; all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own un-reaped child (std's `Child` never waited on it); `status` and
        // `usage` are live, exclusively borrowed locals that wait4 writes into before returning.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    };
    // ru_maxrss is in KiB on Linux and covers the child and the descendants it waited for.
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}

/// Blocks until child `pid` has exited, without reaping it (`waitid` with `WNOWAIT`), so its pid
/// and process-group id stay reserved until [`wait_rusage`] reaps it.
#[allow(unsafe_code)]
fn wait_exited_unreaped(pid: libc::pid_t) -> std::io::Result<()> {
    let id = libc::id_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    loop {
        // SAFETY: `siginfo_t` is a plain C struct; all-zero bytes are a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `id` is our own un-reaped child; `info` is a live, exclusively borrowed local
        // that waitid writes into before returning. WNOWAIT leaves the child waitable.
        let r = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Sends SIGKILL to the process group `pgid` (the charm process started as its group leader).
#[allow(unsafe_code)]
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: plain syscall with integer arguments. The caller guarantees the group leader is an
    // un-reaped child of ours, so `pgid` cannot name a recycled group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Waits for the charm process `pid` (a process-group leader) for at most `timeout`; on expiry
/// kills its whole process group with SIGKILL. Returns (exit code, peak RSS in KiB, timed out).
fn wait_child(pid: u32, timeout: Option<Duration>) -> std::io::Result<(i32, u64, bool)> {
    let Some(limit) = timeout else {
        let (code, rss) = wait_rusage(pid)?;
        return Ok((code, rss, false));
    };
    let pgid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // The watchdog only signals while the child is un-reaped: we join it before reaping.
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
            kill_group(pgid);
            true
        } else {
            false
        }
    });
    let waited = wait_exited_unreaped(pgid);
    let _ = done_tx.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    if waited.is_err() {
        // Do not leave a runaway process behind when waiting itself failed.
        kill_group(pgid);
    }
    let (code, rss) = wait_rusage(pid)?;
    waited?;
    Ok((code, rss, timed_out))
}

fn read_pipe<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

impl Model {
    /// Creates a fresh model in `dir` (which may exist but must not hold a model).
    pub fn init(dir: impl Into<PathBuf>, opts: ModelOptions) -> Result<Model> {
        let dir: PathBuf = dir.into();
        crate::util::create_private_dir(&dir)?;
        let dir = dir
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve", &dir, e))?;
        if dir.join("state.json").exists() {
            return Err(Error::ModelExists(dir));
        }
        let model = Model { dir, opts };
        let _lock = model.lock()?;
        ModelState::new(&model.opts.name).save(&model.dir)?;
        model.ensure_tools()?;
        Ok(model)
    }

    /// Opens an existing model.
    pub fn open(dir: impl Into<PathBuf>, opts: ModelOptions) -> Result<Model> {
        let dir: PathBuf = dir.into();
        if !dir.join("state.json").exists() {
            return Err(Error::NoModel(dir));
        }
        let dir = dir
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve", &dir, e))?;
        let model = Model { dir, opts };
        ModelState::load(&model.dir)?;
        Ok(model)
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the committed model state.
    pub fn state(&self) -> Result<ModelState> {
        ModelState::load(&self.dir)
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.dir.join("lock"))
    }

    fn tools_dir(&self) -> PathBuf {
        self.dir.join("tools")
    }

    /// Creates (or refreshes) the directory of hook-tool symlinks.
    fn ensure_tools(&self) -> Result<()> {
        let dir = self.tools_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        let target = self
            .opts
            .tool_binary
            .canonicalize()
            .map_err(|e| Error::io("cannot find tool binary", &self.opts.tool_binary, e))?;
        for name in crate::tools::TOOL_NAMES {
            let link = dir.join(name);
            if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
                continue;
            }
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&target, &link)
                .map_err(|e| Error::io("cannot create link", &link, e))?;
        }
        Ok(())
    }

    fn mutate<T>(&self, f: impl FnOnce(&mut ModelState) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        let mut st = self.state()?;
        let out = f(&mut st)?;
        self.ensure_subordinates(&mut st)?;
        tidy(&mut st);
        st.save(&self.dir)?;
        Ok(out)
    }

    // ------------------------------------------------------------------ model operations

    /// Deploys a charm directory; queues install, leader-elected, config-changed and start.
    pub fn deploy(&self, charm_dir: &Path, opts: DeployOptions) -> Result<String> {
        let meta = CharmMeta::load(charm_dir)?;
        let source = charm_dir
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve", charm_dir, e))?;
        let dispatch = source.join("dispatch");
        if !dispatch.exists() {
            return Err(Error::Charm {
                path: source,
                message: "no dispatch file".into(),
            });
        }
        let name = opts.app.clone().unwrap_or_else(|| meta.name.clone());
        if !crate::util::is_app_name(&name) {
            return Err(bad(format!("invalid application name {name:?}")));
        }
        self.mutate(|st| {
            if st.applications.contains_key(&name) {
                return Err(bad(format!("application {name:?} already exists")));
            }
            let mut config = BTreeMap::new();
            for (k, v) in &opts.config {
                let opt = meta
                    .config
                    .get(k)
                    .ok_or_else(|| bad(format!("unknown option {k:?}")))?;
                let value = parse_config_arg(&opt.kind, v)
                    .map_err(|m| bad(format!("option {k:?}: {m}")))?;
                config.insert(k.clone(), value);
            }
            st.next_app_index += 1;
            let app = Application {
                name: name.clone(),
                index: st.next_app_index,
                charm_source: source.clone(),
                meta: meta.clone(),
                config,
                config_version: 1,
                leader: None,
                leader_term: 0,
                leader_settings: BTreeMap::new(),
                leader_settings_version: 1,
                status: Status::default(),
                next_unit: 0,
                units: BTreeMap::new(),
                life: Life::Alive,
                env: opts.env.iter().cloned().collect(),
            };
            st.applications.insert(name.clone(), app);
            for ep in meta.endpoints.iter().filter(|e| e.role == Role::Peer) {
                let id = st.next_relation_id;
                st.next_relation_id += 1;
                st.relations.insert(
                    id,
                    Relation {
                        id,
                        interface: ep.interface.clone(),
                        endpoints: vec![RelationEndpoint {
                            app: name.clone(),
                            endpoint: ep.name.clone(),
                            role: Role::Peer,
                        }],
                        scope: ep.scope.clone(),
                        life: Life::Alive,
                        app_data: BTreeMap::new(),
                        unit_data: BTreeMap::new(),
                    },
                );
            }
            // Juju deploys a subordinate with no units (`-n 1`, the default, means none).
            let n = match (meta.subordinate, opts.units) {
                (true, None | Some(0 | 1)) => 0,
                (true, Some(_)) => {
                    return Err(bad(
                        "cannot use --num-units or --to with subordinate application",
                    ));
                }
                (false, n) => n.unwrap_or(1),
            };
            for _ in 0..n {
                self.add_unit_to(st, &name)?;
            }
            Ok(name.clone())
        })
    }

    fn add_unit_to(&self, st: &mut ModelState, app_name: &str) -> Result<String> {
        let app = st
            .applications
            .get_mut(app_name)
            .ok_or_else(|| Error::not_found("application", app_name))?;
        if app.life == Life::Dying {
            return Err(bad(format!("application {app_name:?} is dying")));
        }
        let n = app.next_unit;
        app.next_unit += 1;
        let name = format!("{app_name}/{n}");
        let charm_dir = self
            .dir
            .join("units")
            .join(format!("{app_name}-{n}"))
            .join("charm");
        if charm_dir.exists() {
            std::fs::remove_dir_all(&charm_dir)
                .map_err(|e| Error::io("cannot clean", &charm_dir, e))?;
        }
        copy_dir(&app.charm_source, &charm_dir)?;
        app.units.insert(
            n,
            Unit {
                name: name.clone(),
                number: n,
                charm_dir,
                principal: None,
                status: Status::new("waiting", "agent initialising"),
                workload_version: String::new(),
                ports: Vec::new(),
                charm_state: BTreeMap::new(),
                life: Life::Alive,
                since: rfc3339(now_secs()),
                agent: AgentState::default(),
            },
        );
        if app.leader.is_none() {
            app.leader = Some(name.clone());
            app.leader_term += 1;
        }
        Ok(name)
    }

    /// Creates the missing subordinate units: one per principal unit that has entered the scope
    /// of an alive container-scoped relation (relation-created done) with an alive subordinate
    /// application and has no unit of that application yet, as Juju's principal agents do.
    fn ensure_subordinates(&self, st: &mut ModelState) -> Result<()> {
        let mut wanted: Vec<(String, String)> = Vec::new();
        for rel in st
            .relations
            .values()
            .filter(|r| r.life == Life::Alive && r.is_container() && !r.is_peer())
        {
            for (p_ep, s_ep) in [(0, 1), (1, 0)] {
                let (Some(p_ep), Some(s_ep)) = (rel.endpoints.get(p_ep), rel.endpoints.get(s_ep))
                else {
                    continue;
                };
                let (Some(pa), Some(sa)) = (
                    st.applications.get(&p_ep.app),
                    st.applications.get(&s_ep.app),
                ) else {
                    continue;
                };
                if pa.meta.subordinate
                    || !sa.meta.subordinate
                    || pa.life != Life::Alive
                    || sa.life != Life::Alive
                {
                    continue;
                }
                for pu in pa.units.values() {
                    let in_scope = pu.agent.relations.get(&rel.id).is_some_and(|r| r.created);
                    let has_sub = sa
                        .units
                        .values()
                        .any(|x| x.principal.as_deref() == Some(pu.name.as_str()));
                    let pair = (sa.name.clone(), pu.name.clone());
                    if pu.life == Life::Alive && in_scope && !has_sub && !wanted.contains(&pair) {
                        wanted.push(pair);
                    }
                }
            }
        }
        for (sub_app, principal) in wanted {
            let name = self.add_unit_to(st, &sub_app)?;
            if let Some(u) = st.unit_mut(&name) {
                u.principal = Some(principal);
            }
        }
        Ok(())
    }

    /// Adds `count` units to a principal application (subordinate units come from relations).
    pub fn add_unit(&self, app: &str, count: u32) -> Result<Vec<String>> {
        self.mutate(|st| {
            let a = st
                .applications
                .get(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            if a.meta.subordinate {
                return Err(bad(format!(
                    "cannot add units to subordinate application {app:?}: relate it to a principal application instead"
                )));
            }
            (0..count).map(|_| self.add_unit_to(st, app)).collect()
        })
    }

    /// Sets config values (`key=value`, validated against `config.yaml`) and resets `reset` keys.
    pub fn config(&self, app: &str, values: &[(String, String)], reset: &[String]) -> Result<()> {
        self.mutate(|st| {
            let a = st
                .applications
                .get_mut(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            let before = a.effective_config();
            for (k, v) in values {
                let opt = a
                    .meta
                    .config
                    .get(k)
                    .ok_or_else(|| bad(format!("unknown option {k:?}")))?;
                let value = parse_config_arg(&opt.kind, v)
                    .map_err(|m| bad(format!("option {k:?}: {m}")))?;
                a.config.insert(k.clone(), value);
            }
            for k in reset {
                if !a.meta.config.contains_key(k) {
                    return Err(bad(format!("unknown option {k:?}")));
                }
                a.config.remove(k);
            }
            if a.effective_config() != before {
                a.config_version += 1;
            }
            Ok(())
        })
    }

    /// Moves leadership to `unit`: leader-elected there, leader-settings-changed on the others.
    pub fn set_leader(&self, unit: &str) -> Result<()> {
        self.mutate(|st| {
            let u = st
                .unit(unit)
                .ok_or_else(|| Error::not_found("unit", unit))?;
            if u.life == Life::Dying {
                return Err(bad(format!("unit {unit:?} is dying")));
            }
            let (app, _) = unit_key(unit);
            let a = st
                .applications
                .get_mut(&app)
                .ok_or_else(|| Error::not_found("application", &app))?;
            if a.leader.as_deref() != Some(unit) {
                a.leader = Some(unit.to_string());
                a.leader_term += 1;
                a.leader_settings_version += 1;
            }
            Ok(())
        })
    }

    /// Relates two endpoints (`app:endpoint` or `app` when unambiguous). Returns the relation id.
    pub fn relate(&self, a: &str, b: &str) -> Result<u64> {
        self.mutate(|st| relate(st, a, b))
    }

    /// Removes a relation (by id, or by the two endpoints): departed and broken hooks follow.
    pub fn remove_relation(&self, a: &str, b: Option<&str>) -> Result<u64> {
        self.mutate(|st| {
            let id = find_relation(st, a, b)?;
            if let Some(r) = st.relations.get_mut(&id) {
                if r.is_peer() {
                    return Err(bad("cannot remove a peer relation"));
                }
                r.life = Life::Dying;
            }
            Ok(id)
        })
    }

    /// Removes a unit: it departs its relations, gets relation-broken, stop and remove.
    pub fn remove_unit(&self, unit: &str) -> Result<()> {
        self.mutate(|st| {
            let u = st
                .unit_mut(unit)
                .ok_or_else(|| Error::not_found("unit", unit))?;
            if u.principal.is_some() {
                let (app, _) = unit_key(unit);
                return Err(bad(format!(
                    "unit {unit:?} is a subordinate, to remove use remove-relation. Note: this will remove all units of {app:?}"
                )));
            }
            // Its subordinates become dying with it (see `tidy`).
            u.life = Life::Dying;
            Ok(())
        })
    }

    /// Removes an application with all its units and relations.
    pub fn remove_app(&self, app: &str) -> Result<()> {
        self.mutate(|st| {
            let a = st
                .applications
                .get_mut(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            a.life = Life::Dying;
            for u in a.units.values_mut() {
                u.life = Life::Dying;
            }
            for r in st.relations.values_mut().filter(|r| r.involves(app)) {
                r.life = Life::Dying;
            }
            Ok(())
        })
    }

    /// Queues secret-rotate for the secret's owner.
    pub fn secret_rotate(&self, uri: &str) -> Result<String> {
        self.mutate(|st| {
            let sec = st
                .find_secret(uri)
                .ok_or_else(|| Error::not_found("secret", uri))?;
            let id = sec.id.clone();
            let target =
                owner_unit(st, &sec.owner).ok_or_else(|| bad("secret owner has no unit"))?;
            let spec = HookSpec {
                secret: Some(id),
                ..HookSpec::simple("secret-rotate")
            };
            if let Some(u) = st.unit_mut(&target) {
                u.agent.queue.push_back(spec);
            }
            Ok(target)
        })
    }

    /// Queues secret-expired (for `revision`, default the latest) for the secret's owner.
    pub fn secret_expire(&self, uri: &str, revision: Option<u32>) -> Result<String> {
        self.mutate(|st| {
            let sec = st
                .find_secret(uri)
                .ok_or_else(|| Error::not_found("secret", uri))?;
            let rev = revision.unwrap_or(sec.latest);
            if !sec.revisions.contains_key(&rev) {
                return Err(Error::not_found(
                    "secret revision",
                    format!("{}/{rev}", sec.id),
                ));
            }
            let id = sec.id.clone();
            let target =
                owner_unit(st, &sec.owner).ok_or_else(|| bad("secret owner has no unit"))?;
            let spec = HookSpec {
                secret: Some(id),
                secret_revision: Some(rev),
                ..HookSpec::simple("secret-expired")
            };
            if let Some(u) = st.unit_mut(&target) {
                u.agent.queue.push_back(spec);
            }
            Ok(target)
        })
    }

    /// Clears a unit's hook error: `retry` reruns the failed hook, otherwise it is skipped.
    pub fn resolve(&self, unit: &str, retry: bool) -> Result<()> {
        self.mutate(|st| {
            let u = st
                .unit_mut(unit)
                .ok_or_else(|| Error::not_found("unit", unit))?;
            let Some(failure) = u.agent.error.take() else {
                return Err(bad(format!("unit {unit:?} is not in error")));
            };
            if !retry {
                mark_done(st, unit, &failure.hook, failure.queued);
            }
            Ok(())
        })
    }

    /// The next hook each unit would run (for `status`).
    pub fn pending(&self) -> Result<Vec<(String, String)>> {
        let st = self.state()?;
        Ok(st
            .unit_names()
            .into_iter()
            .filter_map(|u| next_hook(&st, &u).map(|(h, _)| (u, h.describe())))
            .collect())
    }

    /// Runs queued hooks until nothing is pending (units in error are skipped), at most `max_hooks`.
    pub fn settle(&self, max_hooks: usize) -> Result<SettleReport> {
        let _lock = self.lock()?;
        self.ensure_tools()?;
        let mut report = SettleReport::default();
        let mut cursor: Option<String> = None;
        loop {
            let mut st = self.state()?;
            tidy(&mut st);
            let units = st.unit_names();
            let start = cursor
                .as_ref()
                .and_then(|c| units.iter().position(|u| u == c).map(|i| i + 1))
                .unwrap_or(0);
            let order = units.iter().cycle().skip(start).take(units.len());
            let mut next = None;
            for u in order {
                if let Some((spec, source)) = next_hook(&st, u) {
                    next = Some((u.clone(), spec, source));
                    break;
                }
            }
            let Some((unit, spec, source)) = next else {
                st.save(&self.dir)?;
                break;
            };
            if report.hooks_run >= max_hooks {
                st.save(&self.dir)?;
                let pending: Vec<String> = units
                    .iter()
                    .filter_map(|u| {
                        next_hook(&st, u).map(|(h, _)| format!("{u}: {}", h.describe()))
                    })
                    .collect();
                return Err(Error::DidNotSettle(max_hooks, pending.join("; ")));
            }
            self.run_agent_hook(&mut st, &unit, &spec, source == Source::Queue)?;
            report.hooks_run += 1;
            cursor = Some(unit);
        }
        let st = self.state()?;
        for u in st.applications.values().flat_map(|a| a.units.values()) {
            if let Some(e) = &u.agent.error {
                report.errors.push((u.name.clone(), e.message.clone()));
            }
        }
        Ok(report)
    }

    /// Runs one hook on a unit by hand, outside the agent's bookkeeping. Relation hooks need
    /// `spec.relation`; the other event variables default sensibly.
    pub fn run_hook(&self, unit: &str, spec: HookSpec) -> Result<HookRecord> {
        let _lock = self.lock()?;
        self.ensure_tools()?;
        let mut st = self.state()?;
        st.unit(unit)
            .ok_or_else(|| Error::not_found("unit", unit))?;
        let spec = complete_spec(&st, unit, spec)?;
        let rec = self.execute(&mut st, unit, &spec, "manual")?;
        Ok(rec)
    }

    /// Runs an action on a unit with `key=value` parameters (YAML values, dotted keys nest).
    pub fn run_action(
        &self,
        unit: &str,
        action: &str,
        params: &[(String, String)],
    ) -> Result<ActionOutcome> {
        let mut map = serde_json::Map::new();
        for (k, v) in params {
            set_dotted(&mut map, k, parse_param_value(v));
        }
        self.run_action_json(unit, action, map)
    }

    /// Runs an action with parameters given as a JSON object.
    pub fn run_action_json(
        &self,
        unit: &str,
        action: &str,
        params: serde_json::Map<String, Value>,
    ) -> Result<ActionOutcome> {
        let _lock = self.lock()?;
        self.ensure_tools()?;
        let mut st = self.state()?;
        let u = st
            .unit(unit)
            .ok_or_else(|| Error::not_found("unit", unit))?;
        if u.life == Life::Dying {
            return Err(bad(format!("unit {unit:?} is dying")));
        }
        let (app, _) = unit_key(unit);
        let spec_def = st
            .applications
            .get(&app)
            .and_then(|a| a.meta.actions.get(action))
            .cloned()
            .ok_or_else(|| bad(format!("action {action:?} not defined on unit {unit:?}")))?;
        let params = validate_params(&spec_def, params)?;
        let id = st.next_action_id;
        st.next_action_id += 1;
        let spec = HookSpec {
            action_id: Some(id),
            action_params: Some(params),
            ..HookSpec::simple(action)
        };
        self.execute(&mut st, unit, &spec, "action")?;
        let st = self.state()?;
        st.actions
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found("action", id.to_string()))
    }

    /// The recorded timeline.
    pub fn timeline(&self) -> Result<Vec<HookRecord>> {
        crate::timeline::read(&self.dir.join("timeline.jsonl"))
    }

    /// Adds key patterns whose values printed output hides (kept in the model for `timeline`).
    pub fn add_redactions(&self, patterns: &[String]) -> Result<()> {
        if patterns.is_empty() {
            return Ok(());
        }
        self.mutate(|st| {
            for p in patterns {
                if !st.redact.contains(p) {
                    st.redact.push(p.clone());
                }
            }
            Ok(())
        })
    }

    /// What printed output of this model hides: everything of [`Redaction`]'s rules, or nothing
    /// with `reveal`.
    pub fn redaction(&self, reveal: bool) -> Result<Redaction> {
        if reveal {
            return Ok(Redaction::reveal_all());
        }
        Ok(Redaction::new(self.state()?.redact))
    }

    // ------------------------------------------------------------------ running hooks

    fn run_agent_hook(
        &self,
        st: &mut ModelState,
        unit: &str,
        spec: &HookSpec,
        queued: bool,
    ) -> Result<()> {
        // Juju shows "maintenance: installing charm software" while install runs.
        if spec.name == "install"
            && let Some(u) = st.unit_mut(unit)
            && u.status == Status::new("waiting", "agent initialising")
        {
            u.status = Status::new("maintenance", "installing charm software");
        }
        let rec = self.execute(st, unit, spec, "hook")?;
        let mut st2 = self.state()?;
        if rec.outcome == "failed" {
            if let Some(u) = st2.unit_mut(unit) {
                u.agent.error = Some(HookFailure {
                    hook: spec.clone(),
                    message: rec
                        .error
                        .clone()
                        .unwrap_or_else(|| format!("exit status {}", rec.exit_code)),
                    queued,
                });
            }
        } else {
            mark_done(&mut st2, unit, spec, queued);
            self.ensure_subordinates(&mut st2)?;
        }
        tidy(&mut st2);
        st2.save(&self.dir)?;
        *st = st2;
        Ok(())
    }

    /// Runs the dispatch for `spec` on `unit`, applies the journal, records the timeline, saves state.
    fn execute(
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
        let (app_name, _) = unit_key(unit);
        let leader = st.is_leader(unit);
        let run_dir = self.dir.join("run");
        crate::util::create_private_dir(&run_dir)?;
        let ctx_path = run_dir.join(format!("{seq}.context.json"));
        let journal = run_dir.join(format!("{seq}.journal.jsonl"));
        let _ = std::fs::remove_file(&journal);
        let hook_name = if spec.is_action() {
            String::new()
        } else {
            spec.name.clone()
        };
        let context_id = format!(
            "{unit}-{}-{seq}",
            if spec.is_action() {
                "run-action"
            } else {
                &spec.name
            }
        );
        let ctx = HookContext {
            version: CONTEXT_VERSION,
            model_dir: self.dir.clone(),
            journal: journal.clone(),
            context_id: context_id.clone(),
            unit: unit.to_string(),
            app: app_name.clone(),
            hook: spec.clone(),
            leader,
            dying: u.life == Life::Dying,
            relations: relation_views(st, unit, spec),
            started: now_secs(),
        };
        st.save(&self.dir)?;
        ctx.save(&ctx_path)?;

        let mut env: BTreeMap<String, String> = BTreeMap::new();
        let charm_dir = u.charm_dir.to_string_lossy().into_owned();
        let dispatch_path = if spec.is_action() {
            format!("actions/{}", spec.name)
        } else {
            format!("hooks/{}", spec.name)
        };
        env.insert("JUJU_DISPATCH_PATH".into(), dispatch_path);
        env.insert("JUJU_HOOK_NAME".into(), hook_name);
        env.insert("JUJU_UNIT_NAME".into(), unit.into());
        env.insert("JUJU_MODEL_NAME".into(), st.name.clone());
        env.insert("JUJU_MODEL_UUID".into(), st.uuid.clone());
        env.insert("JUJU_VERSION".into(), st.juju_version.clone());
        env.insert("JUJU_CHARM_DIR".into(), charm_dir.clone());
        env.insert("CHARM_DIR".into(), charm_dir);
        env.insert("JUJU_CONTEXT_ID".into(), context_id);
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
            && let Some(view) = ctx.relations.get(&rid)
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
        if let Some(app) = st.applications.get(&app_name) {
            for (k, v) in &app.env {
                let value = v
                    .replace("{unit}", unit)
                    .replace("{app}", &app_name)
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
        env.insert(CONTEXT_ENV.into(), ctx_path.to_string_lossy().into_owned());

        let started = Instant::now();
        let dispatch = u.charm_dir.join("dispatch");
        let mut stdout_text = String::new();
        let mut stderr_text = String::new();
        let mut timed_out = false;
        let (exit_code, max_rss_kb, skipped) = if !dispatch.exists() {
            (if spec.is_action() { 1 } else { 0 }, 0, true)
        } else {
            // Its own process group, so a timeout kills the dispatch and everything it started.
            let mut child = Command::new(&dispatch)
                .process_group(0)
                .current_dir(&u.charm_dir)
                .env_clear()
                .envs(&env)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| Error::Spawn {
                    unit: unit.into(),
                    hook: spec.name.clone(),
                    message: e.to_string(),
                })?;
            let out_rx = child.stdout.take().map(read_pipe);
            let err_rx = child.stderr.take().map(read_pipe);
            let (code, rss, expired) =
                wait_child(child.id(), self.opts.hook_timeout).map_err(|e| Error::Spawn {
                    unit: unit.into(),
                    hook: spec.name.clone(),
                    message: format!("wait: {e}"),
                })?;
            timed_out = expired;
            let grab = |rx: Option<mpsc::Receiver<Vec<u8>>>| -> String {
                rx.and_then(|r| r.recv_timeout(Duration::from_secs(5)).ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            };
            stdout_text = grab(out_rx);
            stderr_text = grab(err_rx);
            (code, rss, false)
        };
        let wall = started.elapsed();

        // Apply the journal: immediate changes always, buffered ones only after exit 0. A killed
        // process may have left a torn last line: keep what can be read.
        let records = if timed_out {
            read_journal_lenient(&journal)
        } else {
            read_journal(&journal)?
        };
        let before = st.clone();
        let immediate: Vec<&Op> = records
            .iter()
            .flat_map(|r| &r.ops)
            .filter(|o| o.immediate())
            .collect();
        let buffered: Vec<&Op> = records
            .iter()
            .flat_map(|r| &r.ops)
            .filter(|o| !o.immediate())
            .collect();
        let mut fx = commit::apply(st, &ctx, &immediate, Mode::Commit).unwrap_or_default();
        let mut error = None;
        let mut committed = false;
        if timed_out {
            let what = if spec.is_action() { "action" } else { "hook" };
            let limit = self.opts.hook_timeout.map(format_secs).unwrap_or_default();
            let msg = format!("{what} {} on {unit} timed out after {limit} s", spec.name);
            if spec.is_action() {
                fx.action_failed = Some(msg.clone());
            }
            error = Some(msg);
        } else if exit_code == 0 {
            let mut candidate = st.clone();
            match commit::apply(&mut candidate, &ctx, &buffered, Mode::Commit) {
                Ok(_) => {
                    *st = candidate;
                    committed = true;
                }
                Err(m) => error = Some(format!("cannot apply changes: {m}")),
            }
        } else if skipped {
            error = Some(format!("action not implemented on unit {unit:?}"));
        } else {
            error = Some(format!("exit status {exit_code}"));
        }
        if spec.name == "start"
            && committed
            && let Some(uu) = st.unit_mut(unit)
            && uu.status == Status::new("maintenance", "installing charm software")
        {
            uu.status = Status::default();
        }
        let changes: Vec<Change> = commit::diff(&before, st);

        // Split stdout into library events and log lines.
        let mut events = Vec::new();
        let mut log = Vec::new();
        for line in stdout_text.lines() {
            if let Some(rest) = line.strip_prefix("CHARM_EVENT ")
                && let Ok(ev) = serde_json::from_str::<CharmEvent>(rest)
            {
                events.push(ev);
                continue;
            }
            log.push(line.to_string());
        }
        let stderr_lines: Vec<String> = stderr_text.lines().map(str::to_string).collect();
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
        let failed = if spec.is_action() {
            false
        } else {
            !committed && !skipped
        };
        let outcome = if skipped && !spec.is_action() {
            "skipped"
        } else if committed {
            "ok"
        } else {
            "failed"
        };

        if let Some(id) = spec.action_id {
            if exit_code != 0 && fx.action_failed.is_none() && !skipped {
                fx.action_failed = Some(format!("exit status {exit_code}"));
            }
            let mut results = serde_json::Map::new();
            for (k, v) in &fx.action_results {
                set_dotted(&mut results, k, Value::String(v.clone()));
            }
            let mut status = if fx.action_failed.is_some() || !committed {
                "failed"
            } else {
                "completed"
            };
            let mut message = fx.action_failed.clone().unwrap_or_default();
            let mut return_code = exit_code.to_string();
            let mut stderr_res = stderr_text.clone();
            if exit_code == 0 && !committed {
                status = "failed";
                if message.is_empty() {
                    message = "committing requested changes failed".into();
                }
                if let Some(e) = &error {
                    stderr_res = if stderr_res.is_empty() {
                        e.clone()
                    } else {
                        format!("{stderr_res}\n{e}")
                    };
                }
                return_code = "1".into();
            }
            if skipped {
                message = format!("action not implemented on unit {unit:?}");
            }
            results.insert("return-code".into(), Value::String(return_code));
            if !stdout_text.is_empty() {
                results.insert("stdout".into(), Value::String(stdout_text.clone()));
            }
            if !stderr_res.is_empty() {
                results.insert("stderr".into(), Value::String(stderr_res));
            }
            st.actions.insert(
                id,
                ActionOutcome {
                    id,
                    unit: unit.into(),
                    action: spec.name.clone(),
                    params: spec.action_params.clone().unwrap_or(Value::Null),
                    status: status.into(),
                    message,
                    results: Value::Object(results),
                    logs: fx.action_logs.clone(),
                },
            );
        }

        let record = HookRecord {
            seq,
            unit: unit.into(),
            kind: kind.into(),
            hook: spec.clone(),
            started: rfc3339(now_secs()),
            exit_code,
            outcome: outcome.into(),
            error: if failed || (spec.is_action() && error.is_some()) {
                error
            } else {
                None
            },
            committed,
            wall_ms: wall.as_secs_f64() * 1000.0,
            tool_ms: tool_micros as f64 / 1000.0,
            tool_calls: records.len(),
            max_rss_kb,
            changes,
            events,
            juju_log: fx.logs.clone(),
            stdout: log,
            stderr: stderr_lines,
            tools,
        };
        crate::timeline::append(&self.dir.join("timeline.jsonl"), &record)?;
        st.save(&self.dir)?;
        if std::env::var_os("JUJU_LOCAL_KEEP_RUN").is_none() {
            let _ = std::fs::remove_file(&ctx_path);
            let _ = std::fs::remove_file(&journal);
        }
        Ok(record)
    }
}

/// The unit that receives owner-side secret hooks: the owning unit, or the owning app's leader.
fn owner_unit(st: &ModelState, owner: &crate::state::SecretOwner) -> Option<String> {
    if owner.kind == "unit" {
        return st.unit(&owner.name).map(|u| u.name.clone());
    }
    st.applications
        .get(&owner.name)
        .and_then(|a| a.leader.clone())
}

fn parse_endpoint_arg(s: &str) -> (String, Option<String>) {
    match s.split_once(':') {
        Some((a, e)) => (a.to_string(), Some(e.to_string())),
        None => (s.to_string(), None),
    }
}

fn relate(st: &mut ModelState, a: &str, b: &str) -> Result<u64> {
    let (app_a, ep_a) = parse_endpoint_arg(a);
    let (app_b, ep_b) = parse_endpoint_arg(b);
    let lookup = |app: &str| -> Result<(CharmMeta, Life)> {
        st.applications
            .get(app)
            .map(|x| (x.meta.clone(), x.life))
            .ok_or_else(|| Error::not_found("application", app))
    };
    let (ma, life_a) = lookup(&app_a)?;
    let (mb, life_b) = lookup(&app_b)?;
    if app_a == app_b {
        return Err(bad(format!(
            "cannot relate application {app_a:?} to itself"
        )));
    }
    for (app, life) in [(&app_a, life_a), (&app_b, life_b)] {
        if life != Life::Alive {
            return Err(bad(format!(
                "cannot add relation: application {app:?} is not alive"
            )));
        }
    }
    // Every charm also has the implicit `juju-info` provider endpoint.
    let (eps_a, eps_b) = (ma.relation_endpoints(), mb.relation_endpoints());
    for (app, ep, eps) in [(&app_a, &ep_a, &eps_a), (&app_b, &ep_b, &eps_b)] {
        if let Some(n) = ep
            && !eps.iter().any(|e| &e.name == n)
        {
            return Err(bad(format!("application {app:?} has no {n:?} relation")));
        }
    }
    let subordinates = usize::from(ma.subordinate) + usize::from(mb.subordinate);
    let mut candidates = Vec::new();
    let mut scope_refused = false;
    for ea in eps_a
        .iter()
        .filter(|e| e.role != Role::Peer && ep_a.as_ref().is_none_or(|n| &e.name == n))
    {
        for eb in eps_b
            .iter()
            .filter(|e| e.role != Role::Peer && ep_b.as_ref().is_none_or(|n| &e.name == n))
        {
            let roles_ok = matches!(
                (ea.role, eb.role),
                (Role::Provider, Role::Requirer) | (Role::Requirer, Role::Provider)
            );
            if !roles_ok || ea.interface != eb.interface {
                continue;
            }
            // Juju's containerScopeOk: a container-scoped relation needs a subordinate.
            if (ea.is_container() || eb.is_container()) && subordinates == 0 {
                scope_refused = true;
                continue;
            }
            candidates.push((ea.clone(), eb.clone()));
        }
    }
    // As Juju's InferEndpoints: on ambiguity, discard candidates using an implicit endpoint.
    if candidates.len() > 1 {
        let explicit: Vec<(Endpoint, Endpoint)> = candidates
            .iter()
            .filter(|(x, y)| !ma.is_implicit(&x.name) && !mb.is_implicit(&y.name))
            .cloned()
            .collect();
        if explicit.len() == 1 {
            candidates = explicit;
        }
    }
    let (ea, eb) = match candidates.len() {
        0 => {
            let why = if scope_refused {
                " (a container-scoped relation requires at least one subordinate application)"
            } else {
                ""
            };
            return Err(bad(format!(
                "no relations found: {a} and {b} have no compatible endpoints (provides/requires with the same interface){why}"
            )));
        }
        1 => candidates.remove(0),
        _ => {
            let list: Vec<String> = candidates
                .iter()
                .map(|(x, y)| format!("{app_a}:{} {app_b}:{}", x.name, y.name))
                .collect();
            return Err(bad(format!(
                "ambiguous relation: {a} {b} could refer to {}",
                list.join("; ")
            )));
        }
    };
    let key = format!("{app_a}:{} {app_b}:{}", ea.name, eb.name);
    for r in st.relations.values() {
        let has =
            |app: &str, ep: &str| r.endpoints.iter().any(|e| e.app == app && e.endpoint == ep);
        if has(&app_a, &ea.name) && has(&app_b, &eb.name) {
            return Err(bad(format!(
                "cannot add relation \"{key}\": relation {key} already exists"
            )));
        }
    }
    for (app, ep) in [(&app_a, &ea), (&app_b, &eb)] {
        if let Some(limit) = ep.limit {
            let count = st
                .relations
                .values()
                .filter(|r| {
                    r.life == Life::Alive
                        && r.endpoints
                            .iter()
                            .any(|e| &e.app == app && e.endpoint == ep.name)
                })
                .count();
            if count >= limit as usize {
                return Err(bad(format!(
                    "cannot add relation \"{key}\": establishing a new relation for {app}:{} would exceed its maximum relation limit of {limit}",
                    ep.name
                )));
            }
        }
    }
    let mut endpoints = vec![
        RelationEndpoint {
            app: app_a.clone(),
            endpoint: ea.name.clone(),
            role: ea.role,
        },
        RelationEndpoint {
            app: app_b.clone(),
            endpoint: eb.name.clone(),
            role: eb.role,
        },
    ];
    endpoints.sort_by_key(|e| e.role != Role::Requirer);
    let id = st.next_relation_id;
    st.next_relation_id += 1;
    // If either endpoint has container scope, so does the relation (and both sides).
    let scope = if ea.is_container() || eb.is_container() {
        "container"
    } else {
        "global"
    };
    st.relations.insert(
        id,
        Relation {
            id,
            interface: ea.interface.clone(),
            endpoints,
            scope: scope.into(),
            life: Life::Alive,
            app_data: BTreeMap::new(),
            unit_data: BTreeMap::new(),
        },
    );
    Ok(id)
}

fn find_relation(st: &ModelState, a: &str, b: Option<&str>) -> Result<u64> {
    if b.is_none() {
        let trimmed = a.rsplit(':').next().unwrap_or(a);
        if let Ok(id) = trimmed.parse::<u64>() {
            return st
                .relations
                .contains_key(&id)
                .then_some(id)
                .ok_or_else(|| Error::not_found("relation", a));
        }
    }
    let (app_a, ep_a) = parse_endpoint_arg(a);
    let other = b.map(parse_endpoint_arg);
    let matches: Vec<u64> = st
        .relations
        .values()
        .filter(|r| {
            let side = |app: &str, ep: &Option<String>| {
                r.endpoints
                    .iter()
                    .any(|e| e.app == app && ep.as_ref().is_none_or(|n| &e.endpoint == n))
            };
            side(&app_a, &ep_a) && other.as_ref().is_none_or(|(x, y)| side(x, y)) && !r.is_peer()
        })
        .map(|r| r.id)
        .collect();
    match matches.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::not_found(
            "relation",
            format!("{a} {}", b.unwrap_or("")),
        )),
        _ => Err(bad(format!("ambiguous relation {a} {}", b.unwrap_or("")))),
    }
}

/// Fills in relation variables for a hand-run hook.
fn complete_spec(st: &ModelState, unit: &str, mut spec: HookSpec) -> Result<HookSpec> {
    let (app, _) = unit_key(unit);
    if let Some((ep, _kind)) = spec.name.split_once("-relation-") {
        let ep = ep.to_string();
        let rid = match spec.relation {
            Some(r) => r,
            None => {
                let ids: Vec<u64> = st
                    .relations
                    .values()
                    .filter(|r| r.endpoint_of(&app).is_some_and(|e| e.endpoint == ep))
                    .map(|r| r.id)
                    .collect();
                match ids.as_slice() {
                    [id] => *id,
                    [] => return Err(bad(format!("no relation on endpoint {ep:?} of {unit}"))),
                    _ => {
                        return Err(bad(format!(
                            "several relations on endpoint {ep:?}: give --relation"
                        )));
                    }
                }
            }
        };
        let rel = st
            .relations
            .get(&rid)
            .ok_or_else(|| Error::not_found("relation", rid.to_string()))?;
        if rel.endpoint_of(&app).is_none_or(|e| e.endpoint != ep) {
            return Err(bad(format!(
                "relation {rid} is not on endpoint {ep:?} of {unit}"
            )));
        }
        spec.relation = Some(rid);
        if spec.remote_app.is_none() {
            spec.remote_app = rel.remote_app(&app).map(str::to_string);
        }
        let kind = spec.name.rsplit("-relation-").next().unwrap_or("");
        if spec.remote_unit.is_none() {
            spec.remote_unit = Some(match kind {
                "joined" | "changed" | "departed" => st
                    .unit(unit)
                    .and_then(|u| u.agent.relations.get(&rid))
                    .and_then(|r| r.members.keys().next().cloned())
                    .unwrap_or_default(),
                _ => String::new(),
            });
        }
        if kind == "departed" && spec.departing_unit.is_none() {
            spec.departing_unit = spec.remote_unit.clone();
        }
    }
    if let Some(s) = &spec.secret {
        let id = crate::state::parse_secret_ref(s)
            .ok_or_else(|| bad(format!("secret URI {s:?} not valid")))?;
        spec.secret = Some(id);
    }
    Ok(spec)
}

/// The relations a unit can see during `spec`, with `relation-list` answers.
fn relation_views(st: &ModelState, unit: &str, spec: &HookSpec) -> BTreeMap<u64, RelationView> {
    let mut out = BTreeMap::new();
    let (app, _) = unit_key(unit);
    let Some(u) = st.unit(unit) else { return out };
    for rel in st.relations.values().filter(|r| r.involves(&app)) {
        let is_hook_rel = spec.relation == Some(rel.id);
        let local = u.agent.relations.get(&rel.id);
        let created = local.is_some_and(|l| l.created);
        if !created && !(is_hook_rel) {
            continue;
        }
        let Some(ep) = rel.endpoint_of(&app) else {
            continue;
        };
        let mut members: Vec<String> = local
            .map(|l| l.members.keys().cloned().collect())
            .unwrap_or_default();
        let kind = if is_hook_rel {
            spec.name.rsplit("-relation-").next().unwrap_or("")
        } else {
            ""
        };
        let remote = spec.remote_unit.clone().unwrap_or_default();
        match kind {
            "joined" if !remote.is_empty() && !members.contains(&remote) => members.push(remote),
            "departed" => members.retain(|m| *m != remote),
            "broken" => members.clear(),
            _ => {}
        }
        sort_units(&mut members);
        out.insert(
            rel.id,
            RelationView {
                endpoint: ep.endpoint.clone(),
                remote_app: rel.remote_app(&app).unwrap_or_default().to_string(),
                peer: rel.is_peer(),
                members,
                broken: kind == "broken",
            },
        );
    }
    out
}

/// The remote units `unit` should currently see in relation `rel`.
fn remote_members(st: &ModelState, unit: &Unit, rel: &Relation) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if rel.life == Life::Dying || unit.life == Life::Dying {
        return out;
    }
    let (app, _) = unit_key(&unit.name);
    // In a container-scoped relation a unit only sees the units on its own machine.
    let machine = st.machine_of(&unit.name);
    for ep in &rel.endpoints {
        if ep.app == app && !rel.is_peer() {
            continue;
        }
        let Some(a) = st.applications.get(&ep.app) else {
            continue;
        };
        for v in a.units.values() {
            if v.name != unit.name
                && v.life == Life::Alive
                && v.agent.relations.get(&rel.id).is_some_and(|r| r.created)
                && (!rel.is_container() || st.machine_of(&v.name) == machine)
            {
                out.insert(v.name.clone());
            }
        }
    }
    out
}

fn rel_hook(ep: &str, kind: &str, rel: &Relation, app: &str) -> HookSpec {
    HookSpec {
        relation: Some(rel.id),
        remote_app: rel.remote_app(app).map(str::to_string),
        remote_unit: Some(String::new()),
        ..HookSpec::simple(&format!("{ep}-relation-{kind}"))
    }
}

/// Computes the next hook a unit agent would run, Juju-style, from what it has seen.
fn next_hook(st: &ModelState, unit_name: &str) -> Option<(HookSpec, Source)> {
    let u = st.unit(unit_name)?;
    let (app_name, _) = unit_key(unit_name);
    let app = st.applications.get(&app_name)?;
    let ag = &u.agent;
    if ag.error.is_some() {
        return None;
    }
    let computed = |h: HookSpec| Some((h, Source::Computed));
    if !ag.installed {
        if u.life == Life::Dying {
            return None;
        }
        return computed(HookSpec::simple("install"));
    }
    let leader = app.leader.as_deref() == Some(unit_name);
    if u.life == Life::Alive {
        for rel in st.relations.values().filter(|r| {
            r.involves(&app_name) && r.life == Life::Alive && st.relation_valid_for(unit_name, r)
        }) {
            if !ag.relations.get(&rel.id).is_some_and(|r| r.created) {
                let ep = rel.endpoint_of(&app_name)?;
                return computed(rel_hook(&ep.endpoint, "created", rel, &app_name));
            }
        }
        if leader && ag.leader_term_seen < app.leader_term {
            return computed(HookSpec::simple("leader-elected"));
        }
        if !leader && ag.leader_settings_seen < app.leader_settings_version {
            return computed(HookSpec::simple("leader-settings-changed"));
        }
        if ag.config_seen < app.config_version {
            return computed(HookSpec::simple("config-changed"));
        }
        if !ag.started {
            return computed(HookSpec::simple("start"));
        }
    }
    if let Some(h) = ag.queue.front() {
        return Some((h.clone(), Source::Queue));
    }
    if ag.started || u.life == Life::Dying {
        for (rid, local) in &ag.relations {
            let Some(rel) = st.relations.get(rid) else {
                continue;
            };
            let Some(ep) = rel.endpoint_of(&app_name) else {
                continue;
            };
            let ep = ep.endpoint.clone();
            if let Some(v) = &local.changed_pending {
                let mut h = rel_hook(&ep, "changed", rel, &app_name);
                h.remote_unit = Some(v.clone());
                return computed(h);
            }
            let remote = remote_members(st, u, rel);
            let mut members: Vec<String> = local.members.keys().cloned().collect();
            sort_units(&mut members);
            for m in &members {
                if !remote.contains(m) {
                    let mut h = rel_hook(&ep, "departed", rel, &app_name);
                    h.remote_unit = Some(m.clone());
                    h.departing_unit = Some(if u.life == Life::Dying {
                        unit_name.to_string()
                    } else {
                        m.clone()
                    });
                    return computed(h);
                }
            }
            if (rel.life == Life::Dying || u.life == Life::Dying) && !rel.is_peer() {
                let mut h = rel_hook(&ep, "broken", rel, &app_name);
                h.remote_unit = None;
                return computed(h);
            }
            if !ag.started {
                continue;
            }
            let mut remote_sorted: Vec<String> = remote.iter().cloned().collect();
            sort_units(&mut remote_sorted);
            for v in &remote_sorted {
                if !local.members.contains_key(v) {
                    let mut h = rel_hook(&ep, "joined", rel, &app_name);
                    h.remote_unit = Some(v.clone());
                    return computed(h);
                }
            }
            for v in &remote_sorted {
                let version = rel.unit_data.get(v).map_or(0, |b| b.version);
                if local.members.get(v).is_some_and(|seen| version > *seen) {
                    let mut h = rel_hook(&ep, "changed", rel, &app_name);
                    h.remote_unit = Some(v.clone());
                    return computed(h);
                }
            }
            if let Some(remote_app) = rel.remote_app(&app_name) {
                let version = rel.app_data.get(remote_app).map_or(0, |b| b.version);
                if version > local.app_version {
                    return computed(rel_hook(&ep, "changed", rel, &app_name));
                }
            }
        }
    }
    if u.life == Life::Alive && ag.started {
        for sec in st.secrets.values() {
            if sec.owner.includes(unit_name) {
                continue;
            }
            if let Some(c) = sec.consumers.get(unit_name)
                && c.revision > 0
                && sec.latest > c.revision.max(c.notified)
                && sec.granted_to(unit_name, &app_name)
            {
                return computed(HookSpec {
                    secret: Some(sec.id.clone()),
                    ..HookSpec::simple("secret-changed")
                });
            }
        }
        for sec in st
            .secrets
            .values()
            .filter(|s| s.owner.managed_by(unit_name, leader))
        {
            for r in sec.revisions.keys() {
                if *r < sec.latest
                    && !sec.remove_notified.contains(r)
                    && !sec
                        .consumers
                        .iter()
                        .any(|(cu, c)| c.revision == *r && !sec.owner.includes(cu))
                {
                    return computed(HookSpec {
                        secret: Some(sec.id.clone()),
                        secret_revision: Some(*r),
                        ..HookSpec::simple("secret-remove")
                    });
                }
            }
        }
    }
    if u.life == Life::Dying && ag.relations.is_empty() {
        if ag.started && !ag.stopped {
            return computed(HookSpec::simple("stop"));
        }
        // A principal is only removed once its subordinates are gone.
        if !st.subordinates_of(unit_name).is_empty() {
            return None;
        }
        return computed(HookSpec::simple("remove"));
    }
    None
}

/// Records that `spec` completed on `unit` (or was skipped with `resolve --no-retry`).
fn mark_done(st: &mut ModelState, unit: &str, spec: &HookSpec, queued: bool) {
    let (app_name, n) = unit_key(unit);
    let Some(app) = st.applications.get(&app_name) else {
        return;
    };
    let (term, lsv, cfg) = (
        app.leader_term,
        app.leader_settings_version,
        app.config_version,
    );
    let addr = st.unit_address(unit);
    let rel_versions = spec
        .relation
        .and_then(|rid| st.relations.get(&rid))
        .map(|rel| {
            let remote_app = rel.remote_app(&app_name).unwrap_or_default().to_string();
            let app_v = rel.app_data.get(&remote_app).map_or(0, |b| b.version);
            let unit_v = spec
                .remote_unit
                .as_ref()
                .and_then(|ru| rel.unit_data.get(ru))
                .map_or(0, |b| b.version);
            (app_v, unit_v)
        });
    let latest = spec
        .secret
        .as_ref()
        .and_then(|s| st.secrets.get(s))
        .map(|s| s.latest);
    let kind = spec
        .name
        .rsplit("-relation-")
        .next()
        .unwrap_or("")
        .to_string();
    let is_rel = spec.relation.is_some() && spec.name.contains("-relation-");
    if let Some(u) = st.unit_mut(unit) {
        if queued {
            u.agent.queue.pop_front();
        }
        let ag = &mut u.agent;
        match spec.name.as_str() {
            "install" => ag.installed = true,
            "start" => ag.started = true,
            "stop" => ag.stopped = true,
            "leader-elected" => {
                ag.leader_term_seen = term;
                ag.leader_settings_seen = lsv;
            }
            "leader-settings-changed" => ag.leader_settings_seen = lsv,
            "config-changed" => ag.config_seen = cfg,
            _ => {}
        }
        if is_rel && let Some(rid) = spec.relation {
            let remote = spec.remote_unit.clone().unwrap_or_default();
            let (app_v, unit_v) = rel_versions.unwrap_or((0, 0));
            match kind.as_str() {
                "created" => {
                    ag.relations.entry(rid).or_default().created = true;
                }
                "joined" => {
                    let r = ag.relations.entry(rid).or_default();
                    r.members.insert(remote.clone(), 0);
                    r.changed_pending = Some(remote);
                }
                "changed" => {
                    let r = ag.relations.entry(rid).or_default();
                    if remote.is_empty() {
                        r.app_version = app_v;
                    } else {
                        r.members.insert(remote.clone(), unit_v);
                        if r.changed_pending.as_deref() == Some(remote.as_str()) {
                            r.changed_pending = None;
                        }
                    }
                }
                "departed" => {
                    if let Some(r) = ag.relations.get_mut(&rid) {
                        r.members.remove(&remote);
                        if r.changed_pending.as_deref() == Some(remote.as_str()) {
                            r.changed_pending = None;
                        }
                    }
                }
                "broken" => {
                    ag.relations.remove(&rid);
                }
                _ => {}
            }
        }
    }
    // Entering scope: Juju seeds the unit's bag with its addresses.
    if is_rel
        && kind == "created"
        && let Some(rid) = spec.relation
        && let Some(rel) = st.relations.get_mut(&rid)
    {
        let bag = rel.unit_data.entry(unit.to_string()).or_default();
        let mut changed = false;
        for (k, v) in [
            ("egress-subnets", format!("{addr}/32")),
            ("ingress-address", addr.clone()),
            ("private-address", addr.clone()),
        ] {
            if !bag.data.contains_key(k) {
                bag.data.insert(k.to_string(), v);
                changed = true;
            }
        }
        if changed {
            bag.version += 1;
        }
    }
    match spec.name.as_str() {
        "secret-changed" => {
            if let (Some(id), Some(latest)) = (&spec.secret, latest)
                && let Some(sec) = st.secrets.get_mut(id)
            {
                let c = sec.consumers.entry(unit.to_string()).or_default();
                c.notified = c.notified.max(latest);
            }
        }
        "secret-remove" => {
            if let (Some(id), Some(r)) = (&spec.secret, spec.secret_revision)
                && let Some(sec) = st.secrets.get_mut(id)
                && sec.revisions.contains_key(&r)
            {
                sec.remove_notified.insert(r);
            }
        }
        "remove" => {
            if let Some(a) = st.applications.get_mut(&app_name) {
                a.units.remove(&n);
            }
        }
        _ => {}
    }
}

/// Garbage-collects what teardown left behind and keeps leadership valid.
fn tidy(st: &mut ModelState) {
    // A subordinate dies with its principal, or when no alive container-scoped relation links its
    // application to its principal's application any more (remove-relation, remove-app).
    let doomed: Vec<String> = st
        .applications
        .values()
        .flat_map(|a| a.units.values())
        .filter(|u| u.life == Life::Alive)
        .filter_map(|u| {
            let principal = u.principal.as_deref()?;
            let app = u.name.split('/').next().unwrap_or_default();
            let p_app = principal.split('/').next().unwrap_or_default();
            let principal_alive = st.unit(principal).is_some_and(|p| p.life == Life::Alive);
            let linked = st.relations.values().any(|r| {
                r.life == Life::Alive
                    && r.is_container()
                    && !r.is_peer()
                    && r.involves(app)
                    && r.involves(p_app)
            });
            (!principal_alive || !linked).then(|| u.name.clone())
        })
        .collect();
    for name in doomed {
        if let Some(u) = st.unit_mut(&name) {
            u.life = Life::Dying;
        }
    }
    // Units that never installed need no teardown hooks.
    for app in st.applications.values_mut() {
        app.units.retain(|_, u| {
            !(u.life == Life::Dying && !u.agent.installed && u.agent.error.is_none())
        });
    }
    // Leadership: a dying or vanished leader hands over to the first alive unit.
    for app in st.applications.values_mut() {
        let ok = app
            .leader
            .as_ref()
            .and_then(|l| split_unit(l))
            .and_then(|(_, n)| app.units.get(&n))
            .is_some_and(|u| u.life == Life::Alive);
        if !ok {
            let next = app
                .units
                .values()
                .find(|u| u.life == Life::Alive)
                .map(|u| u.name.clone());
            if next.is_some() || app.leader.is_some() {
                if next != app.leader {
                    app.leader_term += 1;
                    app.leader_settings_version += 1;
                }
                app.leader = next;
            }
        }
    }
    // Peer relations end silently (no relation-broken) once the unit has departed everyone.
    let rel_info: BTreeMap<u64, (bool, Life)> = st
        .relations
        .values()
        .map(|r| (r.id, (r.is_peer(), r.life)))
        .collect();
    for app in st.applications.values_mut() {
        for u in app.units.values_mut() {
            let dying = u.life == Life::Dying;
            u.agent.relations.retain(|rid, r| match rel_info.get(rid) {
                None => false,
                Some((peer, life)) => {
                    !(*peer
                        && (dying || *life == Life::Dying)
                        && r.members.is_empty()
                        && r.changed_pending.is_none())
                }
            });
        }
    }
    // Relations nobody is in any more.
    let held: BTreeSet<u64> = st
        .applications
        .values()
        .flat_map(|a| a.units.values())
        .flat_map(|u| u.agent.relations.keys().copied())
        .collect();
    let apps: BTreeSet<String> = st.applications.keys().cloned().collect();
    st.relations.retain(|id, r| {
        let orphan = r.endpoints.iter().any(|e| !apps.contains(&e.app));
        !((r.life == Life::Dying || orphan) && !held.contains(id))
    });
    // Bags of units that are gone and that no unit still sees as a member.
    let units: BTreeSet<String> = st.unit_names().into_iter().collect();
    let mut seen: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for u in st.applications.values().flat_map(|a| a.units.values()) {
        for (rid, r) in &u.agent.relations {
            seen.entry(*rid)
                .or_default()
                .extend(r.members.keys().cloned());
        }
    }
    for rel in st.relations.values_mut() {
        let s = seen.get(&rel.id);
        rel.unit_data
            .retain(|name, _| units.contains(name) || s.is_some_and(|s| s.contains(name)));
    }
    // Secrets: grants die with their relation; owners' secrets die with the owner.
    let rel_ids: BTreeSet<u64> = st.relations.keys().copied().collect();
    st.secrets.retain(|_, s| match s.owner.kind.as_str() {
        "unit" => units.contains(&s.owner.name),
        _ => apps.contains(&s.owner.name),
    });
    for sec in st.secrets.values_mut() {
        sec.grants.retain(|g| rel_ids.contains(&g.relation));
        let grants = sec.grants.clone();
        let owner = sec.owner.clone();
        sec.consumers.retain(|u, _| {
            units.contains(u)
                && (owner.includes(u)
                    || grants.iter().any(|g| {
                        u.split('/').next() == Some(g.app.as_str())
                            && g.unit.as_ref().is_none_or(|x| x == u)
                    }))
        });
    }
    // Applications with no units left.
    st.applications
        .retain(|_, a| !(a.life == Life::Dying && a.units.is_empty()));
}

/// Relation data of one bag, from a [`ModelState`] (as [`Model::state`] returns it).
pub fn bag(st: &ModelState, relation: u64, owner: &str) -> Option<BTreeMap<String, String>> {
    let rel = st.relations.get(&relation)?;
    rel.unit_data
        .get(owner)
        .or_else(|| rel.app_data.get(owner))
        .map(|b| b.data.clone())
}

/// Finds the relation between two `app[:endpoint]` references (or a peer relation of one app).
pub fn relation_between(st: &ModelState, a: &str, b: Option<&str>) -> Option<u64> {
    let (app_a, ep_a) = parse_endpoint_arg(a);
    let other = b.map(parse_endpoint_arg);
    st.relations
        .values()
        .find(|r| {
            let side = |app: &str, ep: &Option<String>| {
                r.endpoints
                    .iter()
                    .any(|e| e.app == app && ep.as_ref().is_none_or(|n| &e.endpoint == n))
            };
            side(&app_a, &ep_a)
                && match &other {
                    Some((x, y)) => side(x, y),
                    None => r.is_peer(),
                }
        })
        .map(|r| r.id)
}
