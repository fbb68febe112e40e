//! Services as real local processes, with Pebble's state machine: start (up 1 s = started),
//! stop (SIGTERM to the process group, SIGKILL after `kill-delay`), exit actions (`on-success`,
//! `on-failure`: restart with backoff, ignore, shutdown), check-failure actions, the API
//! (`GET`/`POST /v1/services`, `POST /v1/signals`) and the changes that carry the actions.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use pebble::plan::{Service, ServiceAction, order};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::decode;
use crate::changes::Status;
use crate::daemon::{Daemon, State};
use crate::http::Request;
use crate::process::{Proc, Tail, drain_within, signal_number, spawn_tail_reader};
use crate::response::{ApiError, ApiResult, Reply};
use crate::{duration, timefmt, users};

/// How long after SIGKILL a stop gives up (Pebble's `failDelay`).
const FAIL_DELAY: Duration = Duration::from_secs(5);
/// Lines of service output kept, and shown in a failed start's task log.
const TAIL_LINES: usize = 20;
/// Longest output line kept.
const TAIL_LINE: usize = 1024;

/// Pebble's internal service states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SvcState {
    Initial,
    Starting,
    Running,
    Terminating,
    Killing,
    Stopped,
    Backoff,
    Exited,
}

impl SvcState {
    /// The `current` the API shows.
    fn status(self) -> &'static str {
        match self {
            SvcState::Starting | SvcState::Running => "active",
            SvcState::Backoff => "backoff",
            SvcState::Exited => "error",
            SvcState::Initial | SvcState::Terminating | SvcState::Killing | SvcState::Stopped => {
                "inactive"
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            SvcState::Initial => "initial",
            SvcState::Starting => "starting",
            SvcState::Running => "running",
            SvcState::Terminating => "terminating",
            SvcState::Killing => "killing",
            SvcState::Stopped => "stopped",
            SvcState::Backoff => "backoff",
            SvcState::Exited => "exited",
        }
    }
}

/// One service under our control.
struct Svc {
    state: SvcState,
    since: Option<SystemTime>,
    /// The config it was last started with (replan restarts services whose config changed).
    config: Service,
    proc: Option<Arc<Proc>>,
    /// Set while stopping: the rest of the group is killed when the leader exits.
    kill_rest: Arc<AtomicBool>,
    /// Bumped at every spawn; timers and waiters of older processes then do nothing.
    generation: u64,
    backoff_num: u32,
    backoff_time: Duration,
    /// Terminating because a check failed: restart (through backoff) once it exits.
    restarting: bool,
    started_at: Instant,
    tail: Arc<Mutex<Tail>>,
    start_result: Option<(u64, Result<(), String>)>,
    stop_result: Option<(u64, Result<(), String>)>,
}

impl Svc {
    fn new(config: Service) -> Svc {
        Svc {
            state: SvcState::Initial,
            since: None,
            config,
            proc: None,
            kill_rest: Arc::new(AtomicBool::new(false)),
            generation: 0,
            backoff_num: 0,
            backoff_time: Duration::ZERO,
            restarting: false,
            started_at: Instant::now(),
            tail: Arc::new(Mutex::new(Tail::new(TAIL_LINES, TAIL_LINE))),
            start_result: None,
            stop_result: None,
        }
    }

    /// Changes state; `current-since` moves only when the reported status changes.
    fn transition(&mut self, state: SvcState) {
        if self.state.status() != state.status() || self.since.is_none() {
            self.since = Some(SystemTime::now());
        }
        self.state = state;
        self.restarting = false;
    }

    fn kill_delay(&self) -> Duration {
        self.config
            .kill_delay_or_default()
            .to_std()
            .unwrap_or(Duration::from_secs(5))
    }

    fn signal_group(&self, signal: i32) {
        if let Some(p) = &self.proc {
            let _ = p.signal_group(signal);
        }
    }
}

/// Every service record, by name.
#[derive(Default)]
pub(crate) struct Services {
    by_name: BTreeMap<String, Svc>,
}

fn action_for(config: &Service, success: bool) -> (ServiceAction, &'static str) {
    let (action, on) = if success {
        (config.on_success.clone(), "on-success")
    } else {
        (config.on_failure.clone(), "on-failure")
    };
    (action.unwrap_or(ServiceAction::Restart), on)
}

// Processes.

/// Starts the service's process (its own process group, output into its tail).
fn spawn_process(d: &Arc<Daemon>, name: &str, svc: &mut Svc) -> Result<(), String> {
    let config = &svc.config;
    let (base, extra) = pebble::plan::command::parse_command(name, &config.command)
        .map_err(|e| format!("cannot start service: {e}"))?;
    let mut args = base.into_iter().chain(extra);
    let program = args
        .next()
        .ok_or_else(|| "cannot start service: empty command".to_string())?;
    let mut cmd = Command::new(&program);
    cmd.args(args).stdin(Stdio::null()).process_group(0);
    crate::sys::unblock_signals_in_child(&mut cmd);
    let dir = if config.working_dir.is_empty() {
        d.root.dir().to_path_buf()
    } else {
        d.root
            .host_path(&config.working_dir, true)
            .map_err(|e| format!("cannot start service: {}", e.message))?
    };
    cmd.current_dir(dir);
    let uid = users::id_from_i64(config.user_id, "user-id")?;
    let gid = users::id_from_i64(config.group_id, "group-id")?;
    let owner = users::normalize(
        uid,
        Some(config.user.as_str()),
        gid,
        Some(config.group.as_str()),
    )?;
    let mut env = config.environment.clone();
    if let Some((uid, gid)) = owner.ids {
        if (uid, gid) != crate::sys::current_ids() {
            cmd.uid(uid).gid(gid);
        }
        if (env.get("HOME").is_none_or(String::is_empty)
            || env.get("USER").is_none_or(String::is_empty))
            && let Some((home, user)) = users::home_of(uid)
        {
            env.entry("HOME".into()).or_insert(home);
            env.entry("USER".into()).or_insert(user);
        }
    }
    cmd.envs(&env);
    let (reader, writer) = std::io::pipe().map_err(|e| format!("cannot start service: {e}"))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| format!("cannot start service: {e}"))?;
    cmd.stdout(writer).stderr(writer2);
    let child = cmd.spawn();
    drop(cmd);
    let child = child.map_err(|e| {
        format!(
            "cannot start service: fork/exec {program}: {}",
            crate::files::errno_text(&e)
        )
    })?;
    let output = spawn_tail_reader(reader, svc.tail.clone());
    let proc = Proc::new(child);
    svc.generation += 1;
    svc.proc = Some(proc.clone());
    svc.kill_rest = Arc::new(AtomicBool::new(false));
    svc.started_at = Instant::now();
    let (d, name, generation, kill_rest) = (
        d.clone(),
        name.to_string(),
        svc.generation,
        svc.kill_rest.clone(),
    );
    std::thread::spawn(move || {
        let code = proc.wait(|| kill_rest.load(Ordering::SeqCst));
        // Its last words belong in the start error's "Most recent service output".
        drain_within(&output, Duration::from_millis(200));
        d.with_state(|st| exited(&d, st, &name, generation, code));
    });
    Ok(())
}

/// Runs `f` on the service after `delay`, unless the daemon stops first.
fn after(
    d: &Arc<Daemon>,
    delay: Duration,
    name: &str,
    f: fn(&Arc<Daemon>, &mut State, &str, u64),
    generation: u64,
) {
    let (d, name) = (d.clone(), name.to_string());
    std::thread::spawn(move || {
        if d.sleep(delay) {
            d.with_state(|st| f(&d, st, &name, generation));
        }
    });
}

fn okay_elapsed(_d: &Arc<Daemon>, st: &mut State, name: &str, generation: u64) {
    if let Some(svc) = st.services.by_name.get_mut(name)
        && svc.generation == generation
        && svc.state == SvcState::Starting
    {
        svc.start_result = Some((generation, Ok(())));
        svc.transition(SvcState::Running);
    }
}

fn exited(d: &Arc<Daemon>, st: &mut State, name: &str, generation: u64, code: i32) {
    let Some(svc) = st.services.by_name.get_mut(name) else {
        return;
    };
    if svc.generation != generation {
        return;
    }
    svc.proc = None;
    match svc.state {
        SvcState::Starting | SvcState::Running => {
            let (action, on) = action_for(&svc.config, code == 0);
            if svc.state == SvcState::Starting {
                svc.start_result = Some((
                    generation,
                    Err(format!(
                        "exited quickly with code {code}, will {}",
                        action.as_str()
                    )),
                ));
            }
            let shutdown = |st: &mut State, failure: bool| {
                st.request_shutdown(
                    format!("service {name:?} {on} action is {:?}", action.as_str()),
                    failure,
                );
            };
            match action {
                ServiceAction::Ignore => {
                    svc.transition(if code == 0 {
                        SvcState::Stopped
                    } else {
                        SvcState::Exited
                    });
                }
                ServiceAction::Shutdown => {
                    svc.transition(SvcState::Exited);
                    shutdown(st, code != 0);
                }
                ServiceAction::SuccessShutdown => {
                    svc.transition(SvcState::Exited);
                    shutdown(st, false);
                }
                ServiceAction::FailureShutdown => {
                    svc.transition(SvcState::Exited);
                    shutdown(st, true);
                }
                _ => {
                    let limit = svc
                        .config
                        .backoff_limit_or_default()
                        .to_std()
                        .unwrap_or(Duration::from_secs(30));
                    if svc.started_at.elapsed() >= limit {
                        // It ran long enough: this is a fresh failure, not a crash loop.
                        svc.backoff_num = 0;
                        svc.backoff_time = Duration::ZERO;
                    }
                    do_backoff(d, name, svc);
                }
            }
        }
        SvcState::Terminating | SvcState::Killing => {
            if svc.restarting {
                do_backoff(d, name, svc);
            } else {
                svc.stop_result = Some((generation, Ok(())));
                svc.transition(SvcState::Stopped);
            }
        }
        _ => {}
    }
}

fn next_backoff(config: &Service, current: Duration) -> Duration {
    let delay = config
        .backoff_delay_or_default()
        .to_std()
        .unwrap_or_default();
    let limit = config
        .backoff_limit_or_default()
        .to_std()
        .unwrap_or_default();
    if current.is_zero() {
        return delay;
    }
    if current >= limit {
        return limit;
    }
    current
        .mul_f64(config.backoff_factor_or_default().max(1.0))
        .min(limit)
}

fn do_backoff(d: &Arc<Daemon>, name: &str, svc: &mut Svc) {
    svc.backoff_num += 1;
    svc.backoff_time = next_backoff(&svc.config, svc.backoff_time);
    svc.transition(SvcState::Backoff);
    // Up to 10% jitter, as Pebble adds.
    let jitter_permille = (uuid::Uuid::new_v4().as_u128() % 101) as u32;
    let delay = svc.backoff_time + svc.backoff_time * jitter_permille / 1000;
    after(d, delay, name, backoff_elapsed, svc.generation);
}

fn backoff_elapsed(d: &Arc<Daemon>, st: &mut State, name: &str, generation: u64) {
    let Some(svc) = st.services.by_name.get_mut(name) else {
        return;
    };
    if svc.generation != generation || svc.state != SvcState::Backoff {
        return;
    }
    match spawn_process(d, name, svc) {
        Ok(()) => svc.transition(SvcState::Running),
        Err(_) => do_backoff(d, name, svc),
    }
}

/// SIGTERM to the group now, SIGKILL after the kill delay.
fn terminate(d: &Arc<Daemon>, name: &str, svc: &mut Svc, restarting: bool) {
    svc.kill_rest.store(true, Ordering::SeqCst);
    svc.signal_group(libc::SIGTERM);
    svc.transition(SvcState::Terminating);
    svc.restarting = restarting;
    svc.stop_result = None;
    after(d, svc.kill_delay(), name, terminate_elapsed, svc.generation);
}

fn terminate_elapsed(d: &Arc<Daemon>, st: &mut State, name: &str, generation: u64) {
    let Some(svc) = st.services.by_name.get_mut(name) else {
        return;
    };
    if svc.generation == generation && svc.state == SvcState::Terminating {
        svc.signal_group(libc::SIGKILL);
        let restarting = svc.restarting;
        svc.transition(SvcState::Killing);
        svc.restarting = restarting;
        after(d, FAIL_DELAY, name, kill_elapsed, generation);
    }
}

fn kill_elapsed(_d: &Arc<Daemon>, st: &mut State, name: &str, generation: u64) {
    let Some(svc) = st.services.by_name.get_mut(name) else {
        return;
    };
    if svc.generation == generation && svc.state == SvcState::Killing {
        if !svc.restarting {
            svc.stop_result = Some((
                generation,
                Err("process still running after SIGTERM and SIGKILL".into()),
            ));
        }
        svc.transition(SvcState::Stopped);
    }
}

// Tasks.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Start,
    Stop,
}

enum Begin {
    Done,
    Wait(u64),
    Fail(String),
}

fn begin_start(d: &Arc<Daemon>, st: &mut State, name: &str, task: &str) -> Begin {
    let Some(config) = st.plan.plan().services.get(name).cloned() else {
        return Begin::Fail(format!("cannot find service {name:?} in plan"));
    };
    let fresh = !st.services.by_name.contains_key(name);
    let svc = st
        .services
        .by_name
        .entry(name.to_string())
        .or_insert_with(|| Svc::new(config.clone()));
    svc.config = config;
    match svc.state {
        SvcState::Initial if fresh => {}
        SvcState::Initial | SvcState::Starting | SvcState::Running => {
            st.task_log(task, &format!("Service {name:?} already started."));
            return Begin::Done;
        }
        SvcState::Backoff | SvcState::Stopped | SvcState::Exited => {
            svc.backoff_num = 0;
            svc.backoff_time = Duration::ZERO;
            // A pending backoff restart must not fire on top of this start.
            svc.generation += 1;
            svc.transition(SvcState::Initial);
        }
        SvcState::Terminating | SvcState::Killing => {
            return Begin::Fail(format!("cannot start service while {}", svc.state.name()));
        }
    }
    match spawn_process(d, name, svc) {
        Ok(()) => {
            svc.transition(SvcState::Starting);
            svc.start_result = None;
            let generation = svc.generation;
            after(d, d.opts.okay_delay, name, okay_elapsed, generation);
            Begin::Wait(generation)
        }
        Err(e) => {
            svc.transition(SvcState::Stopped);
            Begin::Fail(e)
        }
    }
}

fn begin_stop(d: &Arc<Daemon>, st: &mut State, name: &str, task: &str) -> Begin {
    let okay = duration::format(d.opts.okay_delay);
    let log = match st.services.by_name.get_mut(name) {
        None => format!("Service {name:?} has never been started."),
        Some(svc) => match svc.state {
            SvcState::Initial => format!("Service {name:?} has never been started."),
            SvcState::Terminating | SvcState::Killing => {
                format!("Service {name:?} already stopping.")
            }
            SvcState::Stopped => format!("Service {name:?} already stopped."),
            SvcState::Exited => {
                svc.transition(SvcState::Stopped);
                format!("Service {name:?} had already exited.")
            }
            SvcState::Backoff => {
                svc.generation += 1;
                svc.transition(SvcState::Stopped);
                format!("Service {name:?} stopped while waiting for backoff.")
            }
            SvcState::Starting | SvcState::Running => {
                if svc.state == SvcState::Starting {
                    svc.start_result = Some((
                        svc.generation,
                        Err(format!("stopped before the {okay} okay delay")),
                    ));
                }
                terminate(d, name, svc, false);
                return Begin::Wait(svc.generation);
            }
        },
    };
    st.task_log(task, &log);
    Begin::Done
}

fn run_task(d: &Arc<Daemon>, task: &str, op: Op, name: &str) {
    let begin = d.with_state(|st| match op {
        Op::Start => begin_start(d, st, name, task),
        Op::Stop => begin_stop(d, st, name, task),
    });
    let generation = match begin {
        Begin::Done => {
            d.with_state(|st| st.set_task_status(task, Status::Done));
            return;
        }
        Begin::Fail(e) => {
            d.with_state(|st| st.task_fail(task, &e));
            return;
        }
        Begin::Wait(g) => g,
    };
    // Bounded by the service's own timers; the margin only guards against a lost wake-up.
    let margin = Duration::from_secs(30);
    let limit = d.with_state(|st| {
        st.services.by_name.get(name).map_or(margin, |s| {
            s.kill_delay() + FAIL_DELAY + d.opts.okay_delay + margin
        })
    });
    let result = d.wait_for(
        Instant::now() + limit,
        |st| {
            let svc = st.services.by_name.get(name)?;
            let slot = match op {
                Op::Start => &svc.start_result,
                Op::Stop => &svc.stop_result,
            };
            slot.as_ref()
                .filter(|(g, _)| *g == generation)
                .map(|(_, r)| r.clone())
        },
        || d.stopping(),
    );
    d.with_state(|st| match (op, result) {
        (_, Some(Ok(()))) => st.set_task_status(task, Status::Done),
        (Op::Start, Some(Err(e))) => {
            let lines = st
                .services
                .by_name
                .get(name)
                .map(|s| s.tail.lock().map(|t| t.lines()).unwrap_or_default())
                .unwrap_or_default();
            if !lines.is_empty() {
                let shown: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
                st.task_log(
                    task,
                    &format!("Most recent service output:\n{}", shown.join("\n")),
                );
            }
            st.task_fail(task, &format!("service start attempt: {e}"));
        }
        (Op::Stop, Some(Err(e))) => st.task_fail(task, &format!("cannot stop service: {e}")),
        (_, None) if d.stopping() => st.task_fail(task, "daemon is shutting down"),
        (_, None) => st.task_fail(task, "timed out waiting for the service"),
    });
}

/// A task of a service change: its id, what it does, to which service.
type Step = (String, Op, String);

/// A phase of a service change before its tasks exist: what it does, in which lanes.
type Phase = (Op, Vec<Vec<String>>);

/// Runs a change's phases in order; within a phase, lanes in parallel, a lane's steps in order.
fn run_change(d: Arc<Daemon>, phases: Vec<Vec<Vec<Step>>>) {
    let mut failed = false;
    for phase in phases {
        if failed {
            d.with_state(|st| {
                for (task, _, _) in phase.iter().flatten() {
                    st.set_task_status(task, Status::Hold);
                }
            });
            continue;
        }
        let handles: Vec<_> = phase
            .into_iter()
            .map(|lane| {
                let d = d.clone();
                std::thread::spawn(move || {
                    for (task, op, name) in &lane {
                        let pending = d.with_state(|st| {
                            st.changes.task(task).map(|t| t.status) == Some(Status::Do)
                        });
                        if !pending {
                            continue;
                        }
                        d.with_state(|st| st.set_task_status(task, Status::Doing));
                        run_task(&d, task, *op, name);
                    }
                    lane.iter().any(|(task, _, _)| {
                        d.with_state(|st| {
                            st.changes.task(task).map(|t| t.status) != Some(Status::Done)
                        })
                    })
                })
            })
            .collect();
        for h in handles {
            failed |= h.join().unwrap_or(true);
        }
    }
}

// The API.

/// `GET /v1/services?names=a,b`.
pub(crate) fn get(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    let names: BTreeSet<String> = req.query_list("names").into_iter().collect();
    let list = d.with_state(|st| {
        st.plan
            .plan()
            .services
            .iter()
            .filter(|(n, _)| names.is_empty() || names.contains(*n))
            .map(|(name, config)| {
                let mut m = Map::new();
                m.insert("name".into(), json!(name));
                let startup = if config.is_enabled() {
                    "enabled"
                } else {
                    "disabled"
                };
                m.insert("startup".into(), json!(startup));
                let svc = st.services.by_name.get(name);
                let current = svc.map_or("inactive", |s| s.state.status());
                m.insert("current".into(), json!(current));
                if let Some(since) = svc.and_then(|s| s.since) {
                    m.insert("current-since".into(), json!(timefmt::rfc3339_nanos(since)));
                }
                Value::Object(m)
            })
            .collect::<Vec<Value>>()
    });
    Ok(Reply::Sync(Value::Array(list)))
}

#[derive(Deserialize)]
struct ServicesBody {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    services: Option<Vec<String>>,
}

fn title(action: &str) -> String {
    let mut c = action.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `POST /v1/services`: start, stop, restart, replan, autostart.
pub(crate) fn post(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    let body: ServicesBody = decode(req)?;
    let action = body.action.unwrap_or_default();
    let names = body.services.unwrap_or_default();
    let change = d.with_state(|st| create_change(d, st, &action, &names))?;
    Ok(Reply::Async {
        change,
        result: None,
    })
}

fn create_change(
    d: &Arc<Daemon>,
    st: &mut State,
    action: &str,
    names: &[String],
) -> Result<String, ApiError> {
    match action {
        "start" | "stop" | "restart" => {
            if names.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "must specify services for {action} action"
                )));
            }
        }
        "replan" | "autostart" => {
            if !names.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "{action} accepts no service names"
                )));
            }
        }
        other => return Err(ApiError::bad_request(format!("invalid action {other:?}"))),
    }
    let plan = st.plan.plan().services.clone();
    let fail = |e: String| ApiError::bad_request(format!("cannot {action} services: {e}"));
    if let Some(missing) = names.iter().find(|n| !plan.contains_key(*n)) {
        return Err(fail(format!("service {missing:?} does not exist")));
    }
    let ordered = |stop: bool, list: &[String]| -> Result<Vec<Vec<String>>, ApiError> {
        let order = if stop {
            order::stop_order(&plan, list)
        } else {
            order::start_order(&plan, list)
        }
        .map_err(|e| fail(e.message().to_string()))?;
        order::lanes(&plan, &order).map_err(|e| fail(e.message().to_string()))
    };
    // (op, lanes) per phase, and the names shown in the summary.
    let (phases, shown): (Vec<Phase>, Vec<String>) = match action {
        "start" => (vec![(Op::Start, ordered(false, names)?)], names.to_vec()),
        "stop" => (vec![(Op::Stop, ordered(true, names)?)], names.to_vec()),
        "restart" => {
            // Only the named services stop (not their dependents); starts bring their requires.
            let stop_lanes: Vec<Vec<String>> = ordered(true, names)?
                .into_iter()
                .map(|lane| {
                    lane.into_iter()
                        .filter(|n| names.contains(n))
                        .collect::<Vec<_>>()
                })
                .filter(|lane| !lane.is_empty())
                .collect();
            (
                vec![(Op::Stop, stop_lanes), (Op::Start, ordered(false, names)?)],
                names.to_vec(),
            )
        }
        "autostart" => {
            let enabled: Vec<String> = plan
                .iter()
                .filter(|(_, s)| s.is_enabled())
                .map(|(n, _)| n.clone())
                .collect();
            if enabled.is_empty() {
                return Err(
                    ApiError::bad_request("no default services").kind("no-default-services")
                );
            }
            let lanes = ordered(false, &enabled)?;
            let shown = lanes.iter().flatten().cloned().collect();
            (vec![(Op::Start, lanes)], shown)
        }
        _ => {
            // replan: services whose config changed since they were started, plus every
            // enabled service.
            let changed: Vec<String> =
                plan.iter()
                    .filter(|(n, config)| {
                        st.services.by_name.get(*n).is_some_and(|svc| {
                            svc.state != SvcState::Initial && svc.config != **config
                        })
                    })
                    .map(|(n, _)| n.clone())
                    .collect();
            let mut start: Vec<String> = changed.clone();
            for (n, s) in &plan {
                if s.is_enabled() && !start.contains(n) {
                    start.push(n.clone());
                }
            }
            let stop_lanes = if changed.is_empty() {
                Vec::new()
            } else {
                ordered(true, &changed)?
                    .into_iter()
                    .map(|lane| {
                        lane.into_iter()
                            .filter(|n| changed.contains(n))
                            .collect::<Vec<_>>()
                    })
                    .filter(|lane| !lane.is_empty())
                    .collect()
            };
            let start_lanes = if start.is_empty() {
                Vec::new()
            } else {
                ordered(false, &start)?
            };
            crate::checks::start_enabled(d, st);
            let shown = start_lanes.iter().flatten().cloned().collect();
            (
                vec![(Op::Stop, stop_lanes), (Op::Start, start_lanes)],
                shown,
            )
        }
    };
    let summary = match shown.as_slice() {
        [] => format!("{} - no services", title(action)),
        [one] => format!("{} service {one:?}", title(action)),
        [first, rest @ ..] => format!(
            "{} service {first:?} and {} more",
            title(action),
            rest.len()
        ),
    };
    let change = st.spawn_change(action, &summary);
    let mut involved: BTreeSet<String> = BTreeSet::new();
    let mut lane_no = 0;
    let mut steps: Vec<Vec<Vec<Step>>> = Vec::new();
    for (op, lanes) in phases {
        let mut phase_steps = Vec::new();
        for lane in lanes {
            let mut lane_steps = Vec::new();
            for name in lane {
                let verb = if op == Op::Start { "Start" } else { "Stop" };
                let kind = if op == Op::Start { "start" } else { "stop" };
                let task = st.add_task(&change, kind, &format!("{verb} service {name:?}"), lane_no);
                involved.insert(name.clone());
                lane_steps.push((task, op, name));
            }
            lane_no += 1;
            phase_steps.push(lane_steps);
        }
        steps.push(phase_steps);
    }
    if let Some(c) = st.changes.change_mut(&change) {
        c.service_names = involved.into_iter().collect();
    }
    if steps.iter().flatten().flatten().next().is_none() {
        st.set_change_status(&change, Status::Done);
        return Ok(change);
    }
    let d = d.clone();
    std::thread::spawn(move || run_change(d, steps));
    Ok(change)
}

/// Starts the enabled services at boot (Pebble without `--hold`).
pub(crate) fn autostart_at_boot(d: &Arc<Daemon>) {
    let _ = d.with_state(|st| create_change(d, st, "autostart", &[]));
}

/// `POST /v1/signals`: `{"signal":"SIGHUP","services":["web"]}`.
pub(crate) fn post_signals(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        signal: Option<String>,
        #[serde(default)]
        services: Option<Vec<String>>,
    }
    let body: Body = decode(req)?;
    let services = body.services.unwrap_or_default();
    if services.is_empty() {
        return Err(ApiError::bad_request("must specify one or more services"));
    }
    let signal = body.signal.unwrap_or_default();
    let errors: Vec<String> = d.with_state(|st| {
        services
            .iter()
            .filter_map(|name| {
                let svc = st
                    .services
                    .by_name
                    .get(name)
                    .filter(|s| matches!(s.state, SvcState::Starting | SvcState::Running));
                let result = match (svc, signal_number(&signal)) {
                    (None, _) => Err("service is not running".to_string()),
                    (Some(_), None) => Err(format!("invalid signal name {signal:?}")),
                    (Some(svc), Some(sig)) => match &svc.proc {
                        Some(p) => p.signal(sig).map_err(|e| e.to_string()),
                        None => Err("service is not running".to_string()),
                    },
                };
                result
                    .err()
                    .map(|e| format!("cannot send signal to {name:?}: {e}"))
            })
            .collect()
    });
    if errors.is_empty() {
        Ok(Reply::Sync(json!(true)))
    } else {
        Err(ApiError::internal(errors.join("; ")))
    }
}

/// A check reached its threshold: apply the `on-check-failure` actions naming it.
pub(crate) fn check_failed(d: &Arc<Daemon>, st: &mut State, check: &str) {
    let actions: Vec<(String, ServiceAction)> = st
        .plan
        .plan()
        .services
        .iter()
        .filter_map(|(n, s)| {
            s.on_check_failure
                .get(check)
                .map(|a| (n.clone(), a.clone()))
        })
        .collect();
    for (name, action) in actions {
        let reason = format!(
            "service {name:?} on-check-failure action is {:?}",
            action.as_str()
        );
        match action {
            ServiceAction::Shutdown => st.request_shutdown(reason, true),
            ServiceAction::SuccessShutdown => st.request_shutdown(reason, false),
            ServiceAction::Restart => {
                if let Some(svc) = st.services.by_name.get_mut(&name) {
                    match svc.state {
                        SvcState::Running => terminate(d, &name, svc, true),
                        SvcState::Exited => do_backoff(d, &name, svc),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// Stops every service (daemon shutdown): SIGTERM, then SIGKILL after the longest kill delay.
pub(crate) fn stop_all(d: &Arc<Daemon>) {
    let kill_delay = d.with_state(|st| {
        let mut longest = Duration::ZERO;
        for svc in st.services.by_name.values_mut() {
            match svc.state {
                SvcState::Starting | SvcState::Running => {
                    svc.kill_rest.store(true, Ordering::SeqCst);
                    svc.signal_group(libc::SIGTERM);
                    svc.transition(SvcState::Terminating);
                    longest = longest.max(svc.kill_delay());
                }
                SvcState::Terminating | SvcState::Killing => {
                    longest = longest.max(svc.kill_delay())
                }
                SvcState::Backoff => {
                    svc.generation += 1;
                    svc.transition(SvcState::Stopped);
                }
                _ => {}
            }
        }
        longest
    });
    let all_stopped = |st: &mut State| {
        st.services
            .by_name
            .values()
            .all(|s| s.proc.is_none())
            .then_some(())
    };
    if d.wait_for(Instant::now() + kill_delay, all_stopped, || false)
        .is_some()
    {
        return;
    }
    d.with_state(|st| {
        for svc in st.services.by_name.values_mut() {
            svc.signal_group(libc::SIGKILL);
        }
    });
    let _ = d.wait_for(Instant::now() + FAIL_DELAY, all_stopped, || false);
}

#[cfg(test)]
#[path = "services_test.rs"]
mod tests;
