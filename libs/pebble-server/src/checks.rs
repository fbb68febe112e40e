//! Health checks (exec, tcp, http) run every `period` with a `timeout`, driven by changes as in
//! Pebble: a `perform-check` change while healthy, ending in `Error` when failures reach the
//! threshold (Juju's `pebble-check-failed`), then a `recover-check` change ending `Done` on the
//! first success (`pebble-check-recovered`). Also the API: `GET`/`POST /v1/checks`,
//! `POST /v1/checks/refresh`, `GET /v1/health`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pebble::plan::{Check, CheckLevel, Startup};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::decode;
use crate::changes::Status;
use crate::daemon::{Daemon, State};
use crate::events::Event;
use crate::exec::ExecContext;
use crate::http::Request;
use crate::process::{Proc, Tail, drain_within, spawn_tail_reader};
use crate::response::{ApiError, ApiResult, Reply};
use crate::users;

/// Lines and bytes of an exec check's output kept in its failure detail (Pebble: 5 / 512).
const OUTPUT_LINES: usize = 5;
const OUTPUT_BYTES: usize = 512;

/// One check's runtime record.
#[derive(Debug, Clone)]
struct CheckRec {
    config: Check,
    successes: u64,
    failures: u64,
    change_id: Option<String>,
    task_id: Option<String>,
    prev_change_id: Option<String>,
    recovering: bool,
    /// Bumped at every start and stop; a runner of an older generation stops.
    generation: u64,
}

impl CheckRec {
    fn new(config: Check) -> CheckRec {
        CheckRec {
            config,
            successes: 0,
            failures: 0,
            change_id: None,
            task_id: None,
            prev_change_id: None,
            recovering: false,
            generation: 0,
        }
    }

    fn running(&self) -> bool {
        self.change_id.is_some()
    }

    fn threshold(&self) -> u64 {
        u64::try_from(self.config.threshold_or_default())
            .unwrap_or(3)
            .max(1)
    }

    fn status(&self) -> &'static str {
        if !self.running() {
            "inactive"
        } else if self.failures >= self.threshold() {
            "down"
        } else {
            "up"
        }
    }

    fn to_json(&self, name: &str) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        if let Some(level) = &self.config.level {
            m.insert("level".into(), json!(level.as_str()));
        }
        m.insert("startup".into(), json!(startup(&self.config)));
        m.insert("status".into(), json!(self.status()));
        if self.failures > 0 {
            m.insert("failures".into(), json!(self.failures));
        }
        m.insert("successes".into(), json!(self.successes));
        m.insert("threshold".into(), json!(self.threshold()));
        if let Some(c) = &self.change_id {
            m.insert("change-id".into(), json!(c));
        }
        if let Some(c) = &self.prev_change_id {
            m.insert("prev-change-id".into(), json!(c));
        }
        Value::Object(m)
    }
}

fn disabled(c: &Check) -> bool {
    c.startup == Some(Startup::Disabled)
}

fn startup(c: &Check) -> &'static str {
    if disabled(c) { "disabled" } else { "enabled" }
}

fn type_name(c: &Check) -> &'static str {
    if c.http.is_some() {
        "HTTP"
    } else if c.tcp.is_some() {
        "TCP"
    } else {
        "exec"
    }
}

/// Every check record, by name.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    by_name: BTreeMap<String, CheckRec>,
}

// Starting and stopping.

fn spawn_check_change(st: &mut State, name: &str, recover: bool) -> (String, String) {
    let config = st
        .checks
        .by_name
        .get(name)
        .map(|r| r.config.clone())
        .unwrap_or_default();
    let (kind, verb) = if recover {
        ("recover-check", "Recover")
    } else {
        ("perform-check", "Perform")
    };
    let summary = format!("{verb} {} check {name:?}", type_name(&config));
    let data = BTreeMap::from([("check-name".to_string(), name.to_string())]);
    let change = st.spawn_change_with(kind, &summary, data);
    let task = st.add_task(&change, kind, &summary, 0);
    st.set_task_status(&task, Status::Doing);
    (change, task)
}

fn start_check(d: &Arc<Daemon>, st: &mut State, name: &str) {
    let (change, task) = spawn_check_change(st, name, false);
    let Some(rec) = st.checks.by_name.get_mut(name) else {
        return;
    };
    rec.successes = 0;
    rec.failures = 0;
    rec.recovering = false;
    rec.generation += 1;
    if let Some(old) = rec.change_id.take() {
        rec.prev_change_id = Some(old);
    }
    rec.change_id = Some(change);
    rec.task_id = Some(task);
    let (d, name, generation) = (d.clone(), name.to_string(), rec.generation);
    std::thread::spawn(move || run(&d, &name, generation));
}

fn stop_check(st: &mut State, name: &str) {
    let Some(rec) = st.checks.by_name.get_mut(name) else {
        return;
    };
    rec.generation += 1;
    let task = rec.task_id.take();
    if let Some(old) = rec.change_id.take() {
        rec.prev_change_id = Some(old);
    }
    rec.recovering = false;
    if let Some(task) = task {
        st.task_log(&task, "Check stopped.");
        st.set_task_status(&task, Status::Undone);
    }
}

/// The plan changed (a layer was added): start, restart or register checks as Pebble does.
pub(crate) fn plan_changed(d: &Arc<Daemon>, st: &mut State) {
    let plan = st.plan.plan().checks.clone();
    let gone: Vec<String> = st
        .checks
        .by_name
        .keys()
        .filter(|n| !plan.contains_key(*n))
        .cloned()
        .collect();
    for name in gone {
        stop_check(st, &name);
        st.checks.by_name.remove(&name);
    }
    for (name, config) in plan {
        let rec = st
            .checks
            .by_name
            .entry(name.clone())
            .or_insert_with(|| CheckRec::new(config.clone()));
        let changed = rec.config != config;
        if rec.running() {
            if changed {
                let now_disabled = disabled(&config);
                rec.config = config;
                if !now_disabled {
                    stop_check(st, &name);
                    start_check(d, st, &name);
                }
            }
        } else {
            rec.config = config;
            if changed {
                rec.successes = 0;
                rec.failures = 0;
            }
            if !disabled(&rec.config) {
                start_check(d, st, &name);
            }
        }
    }
}

/// Replan: start every check that is not `startup: disabled` and not running.
pub(crate) fn start_enabled(d: &Arc<Daemon>, st: &mut State) {
    let idle: Vec<String> = st
        .checks
        .by_name
        .iter()
        .filter(|(_, r)| !r.running() && !disabled(&r.config))
        .map(|(n, _)| n.clone())
        .collect();
    for name in idle {
        start_check(d, st, &name);
    }
}

// Running.

/// What a check needs to run once, snapshotted under the lock.
struct Probe {
    config: Check,
    context: ExecContext,
}

fn probe_of(st: &State, name: &str) -> Option<Probe> {
    let config = st.checks.by_name.get(name)?.config.clone();
    let context = config
        .exec
        .as_ref()
        .filter(|e| !e.service_context.is_empty())
        .and_then(|e| st.exec_context(&e.service_context))
        .unwrap_or_default();
    Some(Probe { config, context })
}

fn run(d: &Arc<Daemon>, name: &str, generation: u64) {
    loop {
        let period = d.with_state(|st| {
            let rec = st.checks.by_name.get(name)?;
            (rec.generation == generation).then(|| rec.config.period_or_default())
        });
        let Some(period) = period.and_then(|p| p.to_std()) else {
            return;
        };
        // Sleep for a period, waking early if this run was stopped or replaced.
        let replaced = d.wait_for(
            Instant::now() + period,
            |st| {
                let current = st.checks.by_name.get(name).map(|r| r.generation);
                (current != Some(generation)).then_some(())
            },
            || d.stopping(),
        );
        if replaced.is_some() || d.stopping() {
            return;
        }
        let Some(probe) = d.with_state(|st| probe_of(st, name)) else {
            return;
        };
        let result = run_probe(d, &probe);
        let current = d.with_state(|st| record(d, st, name, generation, result));
        if !current {
            return;
        }
    }
}

/// Records one result; false if the run is no longer current.
fn record(
    d: &Arc<Daemon>,
    st: &mut State,
    name: &str,
    generation: u64,
    result: Result<(), String>,
) -> bool {
    let Some(rec) = st.checks.by_name.get_mut(name) else {
        return false;
    };
    if rec.generation != generation || !rec.running() {
        return false;
    }
    let task = rec.task_id.clone().unwrap_or_default();
    match result {
        Ok(()) if rec.recovering => {
            rec.successes = 1;
            rec.failures = 0;
            rec.recovering = false;
            st.task_log(&task, "Check recovered.");
            st.set_task_status(&task, Status::Done);
            st.emit(Event::CheckRecovered {
                check: name.to_string(),
            });
            let (change, task) = spawn_check_change(st, name, false);
            if let Some(rec) = st.checks.by_name.get_mut(name) {
                rec.prev_change_id = rec.change_id.replace(change);
                rec.task_id = Some(task);
            }
        }
        Ok(()) => {
            rec.successes += 1;
            rec.failures = 0;
        }
        Err(detail) => {
            rec.failures += 1;
            let reached = !rec.recovering && rec.failures >= rec.threshold();
            if reached {
                rec.recovering = true;
                st.task_fail(&task, &detail);
                st.emit(Event::CheckFailed {
                    check: name.to_string(),
                });
                crate::services::check_failed(d, st, name);
                let (change, task) = spawn_check_change(st, name, true);
                if let Some(rec) = st.checks.by_name.get_mut(name) {
                    rec.prev_change_id = rec.change_id.replace(change);
                    rec.task_id = Some(task);
                }
            } else {
                st.task_log_error(&task, &detail);
            }
        }
    }
    true
}

fn run_probe(d: &Arc<Daemon>, p: &Probe) -> Result<(), String> {
    let period = p
        .config
        .period_or_default()
        .to_std()
        .unwrap_or(Duration::from_secs(10));
    let timeout = p
        .config
        .timeout_or_default()
        .to_std()
        .unwrap_or(Duration::from_secs(3))
        .min(period);
    if let Some(exec) = &p.config.exec {
        run_exec(d, exec, &p.context, timeout)
    } else if let Some(tcp) = &p.config.tcp {
        let host = if tcp.host.is_empty() {
            "localhost"
        } else {
            tcp.host.as_str()
        };
        run_tcp(host, tcp.port, timeout)
    } else if let Some(http) = &p.config.http {
        run_http(&http.url, &http.headers, timeout)
    } else {
        Err("check has no type".into())
    }
}

fn run_exec(
    d: &Arc<Daemon>,
    exec: &pebble::plan::ExecCheck,
    context: &ExecContext,
    timeout: Duration,
) -> Result<(), String> {
    let words = pebble::plan::command::split(&exec.command).map_err(|e| e.to_string())?;
    let Some((program, args)) = words.split_first() else {
        return Err("empty command".into());
    };
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).process_group(0);
    crate::sys::unblock_signals_in_child(&mut cmd);
    let mut env = context.environment.clone();
    env.extend(exec.environment.clone());
    cmd.envs(&env);
    let wd = Some(exec.working_dir.clone())
        .filter(|w| !w.is_empty())
        .or_else(|| context.working_dir.clone());
    let dir = match wd {
        Some(w) => d.root.host_path(&w, true).map_err(|e| e.message)?,
        None => d.root.dir().to_path_buf(),
    };
    cmd.current_dir(dir);
    let user_given = exec.user_id.is_some()
        || !exec.user.is_empty()
        || exec.group_id.is_some()
        || !exec.group.is_empty();
    let owner = if user_given {
        users::normalize(
            users::id_from_i64(exec.user_id, "user-id")?,
            Some(exec.user.as_str()),
            users::id_from_i64(exec.group_id, "group-id")?,
            Some(exec.group.as_str()),
        )
    } else {
        users::normalize(
            context.user_id,
            context.user.as_deref(),
            context.group_id,
            context.group.as_deref(),
        )
    }?;
    if let Some((uid, gid)) = owner.ids
        && (uid, gid) != crate::sys::current_ids()
    {
        cmd.uid(uid).gid(gid);
    }
    let (reader, writer) = std::io::pipe().map_err(|e| e.to_string())?;
    let writer2 = writer.try_clone().map_err(|e| e.to_string())?;
    cmd.stdout(writer).stderr(writer2);
    let child = cmd.spawn();
    drop(cmd);
    let child =
        child.map_err(|e| format!("cannot start {program:?}: {}", crate::files::errno_text(&e)))?;
    let tail = Arc::new(Mutex::new(Tail::new(OUTPUT_LINES, OUTPUT_BYTES)));
    let output_reader = spawn_tail_reader(reader, tail.clone());
    let proc = Proc::new(child);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = {
        let proc = proc.clone();
        std::thread::spawn(move || match done_rx.recv_timeout(timeout) {
            Err(RecvTimeoutError::Timeout) => {
                let _ = proc.signal_group(libc::SIGKILL);
                true
            }
            _ => false,
        })
    };
    let code = proc.wait(|| true);
    drop(done_tx);
    let timed_out = watchdog.join().unwrap_or(false);
    if timed_out {
        return Err(format!(
            "exec check timed out after {}",
            crate::duration::format(timeout)
        ));
    }
    if code == 0 {
        return Ok(());
    }
    // The failure reports what the command printed last, all of it.
    drain_within(&output_reader, Duration::from_millis(200));
    let mut output = tail
        .lock()
        .map(|t| t.lines())
        .unwrap_or_default()
        .join("\n");
    if output.len() > OUTPUT_BYTES {
        let mut cut = output.len() - OUTPUT_BYTES;
        while !output.is_char_boundary(cut) {
            cut += 1;
        }
        output = output[cut..].to_string();
    }
    if output.is_empty() {
        Err(format!("exit status {code}"))
    } else {
        Err(format!("exit status {code}; output:\n{output}"))
    }
}

fn run_tcp(host: &str, port: i64, timeout: Duration) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("dial tcp {host}:{port}: {e}");
    let port = u16::try_from(port).map_err(|_| fail(&"invalid port"))?;
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| fail(&e))?
        .collect();
    let mut last = String::from("no addresses");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = crate::files::errno_text(&e),
        }
    }
    Err(fail(&last))
}

/// A plain-HTTP GET: success on any 2xx status.
fn run_http(
    url: &str,
    headers: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("Get {url:?}: {e}");
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| fail(&"only http:// URLs are supported by this Pebble"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || p.is_empty() => {
            (h, p.parse::<u16>().map_err(|_| fail(&"invalid port"))?)
        }
        _ => (authority, 80),
    };
    let host_only = host.trim_start_matches('[').trim_end_matches(']');
    let addr = (host_only, port)
        .to_socket_addrs()
        .map_err(|e| fail(&e))?
        .next()
        .ok_or_else(|| fail(&"no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| fail(&e))?;
    let deadline = Instant::now() + timeout;
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).map_err(|e| fail(&e))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 8192 {
        if Instant::now() >= deadline {
            return Err(fail(&"timeout awaiting response headers"));
        }
        let n = stream.read(&mut buf).map_err(|e| fail(&e))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let code: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| fail(&"malformed HTTP response"))?;
    if (200..300).contains(&code) {
        Ok(())
    } else {
        Err(format!("non-20x status code {code}"))
    }
}

// The API.

fn level_param(req: &Request) -> Result<Option<CheckLevel>, ApiError> {
    match req.query("level").unwrap_or("") {
        "" => Ok(None),
        "alive" => Ok(Some(CheckLevel::Alive)),
        "ready" => Ok(Some(CheckLevel::Ready)),
        _ => Err(ApiError::bad_request(
            "level must be \"alive\" or \"ready\"",
        )),
    }
}

/// `GET /v1/checks?level=&names=`.
pub(crate) fn get(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    let level = level_param(req)?;
    let names: BTreeSet<String> = req.query_list("names").into_iter().collect();
    let list = d.with_state(|st| {
        st.checks
            .by_name
            .iter()
            .filter(|(n, _)| names.is_empty() || names.contains(*n))
            .filter(|(_, r)| level.is_none() || r.config.level == level)
            .map(|(n, r)| r.to_json(n))
            .collect::<Vec<Value>>()
    });
    Ok(Reply::Sync(Value::Array(list)))
}

/// `POST /v1/checks`: `{"action":"start"|"stop","checks":[names]}`.
pub(crate) fn post(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        checks: Option<Vec<String>>,
    }
    let body: Body = decode(req)?;
    let action = body.action.unwrap_or_default();
    if action != "start" && action != "stop" {
        return Err(ApiError::bad_request(format!("invalid action {action:?}")));
    }
    let names = body.checks.unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::bad_request(format!(
            "must specify checks for {action} action"
        )));
    }
    d.with_state(|st| {
        let mut missing: Vec<&str> = names
            .iter()
            .filter(|n| !st.plan.plan().checks.contains_key(*n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            missing.dedup();
            return Err(ApiError::bad_request(format!(
                "cannot {action} checks: cannot find checks in plan: {}",
                missing.join(", ")
            )));
        }
        let mut changed = BTreeSet::new();
        for name in &names {
            let running = st.checks.by_name.get(name).is_some_and(CheckRec::running);
            if action == "start" && !running {
                start_check(d, st, name);
                changed.insert(name.clone());
            } else if action == "stop" && running {
                stop_check(st, name);
                changed.insert(name.clone());
            }
        }
        Ok(Reply::Sync(json!({"changed": changed})))
    })
}

/// `POST /v1/checks/refresh`: `{"name":"x"}` runs the check now.
pub(crate) fn refresh(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        name: Option<String>,
    }
    let body: Body = decode(req)?;
    let name = body.name.unwrap_or_default();
    let not_found = || ApiError::not_found(format!("cannot find check with name {name:?}"));
    let (probe, generation) = d
        .with_state(|st| {
            let generation = st.checks.by_name.get(&name)?.generation;
            Some((probe_of(st, &name)?, generation))
        })
        .ok_or_else(not_found)?;
    let result = run_probe(d, &probe);
    let error = result.as_ref().err().cloned();
    let info = d.with_state(|st| {
        record(d, st, &name, generation, result);
        st.checks.by_name.get(&name).map(|r| r.to_json(&name))
    });
    let mut out = Map::new();
    out.insert("info".into(), info.ok_or_else(not_found)?);
    if let Some(e) = error {
        out.insert("error".into(), json!(e));
    }
    Ok(Reply::Sync(Value::Object(out)))
}

/// `GET /v1/health?level=&names=`: 502 when a matching check is down.
pub(crate) fn health(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    let level = level_param(req)?;
    let names: BTreeSet<String> = req.query_list("names").into_iter().collect();
    let healthy = d.with_state(|st| {
        !st.checks.by_name.iter().any(|(n, r)| {
            let level_ok = match (&level, &r.config.level) {
                (None, _) => true,
                (Some(CheckLevel::Ready), Some(CheckLevel::Alive | CheckLevel::Ready)) => true,
                (Some(want), Some(have)) => want == have,
                (Some(_), None) => false,
            };
            level_ok && (names.is_empty() || names.contains(n)) && r.status() == "down"
        })
    });
    if healthy {
        Ok(Reply::Sync(json!({"healthy": true})))
    } else {
        Ok(Reply::SyncStatus(502, json!({"healthy": false})))
    }
}

#[cfg(test)]
#[path = "checks_test.rs"]
mod tests;
