//! The daemon's shared state: one lock over changes, notices, the plan, services and checks, one
//! condition variable woken on every change, and the events delivered after the lock is released.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::changes::{Changes, Status};
use crate::events::{Event, EventSink};
use crate::exec::ExecRegistry;
use crate::notices::{Notices, Recorded};
use crate::root::Root;

/// Knobs of the daemon (Pebble's values by default).
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Largest request body accepted.
    pub max_body: usize,
    /// How long a started service must stay up to count as started (Pebble: 1 s).
    pub okay_delay: Duration,
    /// The version `GET /v1/system-info` reports.
    pub version: String,
}

/// Why the daemon stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shutdown {
    /// `stopped` when the embedder asked; otherwise the action that asked for it.
    pub reason: String,
    /// Whether real Pebble would exit with a failure status.
    pub failure: bool,
}

/// The daemon shared by every connection and worker thread.
pub(crate) struct Daemon {
    pub boot_id: String,
    pub root: Root,
    pub opts: Options,
    state: Mutex<State>,
    cond: Condvar,
    events: EventSink,
    pub exec: ExecRegistry,
    stopping: AtomicBool,
    shutdown: Mutex<Option<Shutdown>>,
    wake: Mutex<Option<Box<dyn Fn() + Send>>>,
}

/// Everything behind the daemon's lock.
#[derive(Default)]
pub(crate) struct State {
    pub changes: Changes,
    pub notices: Notices,
    pub plan: crate::planstate::PlanState,
    pub services: crate::services::Services,
    pub checks: crate::checks::Checks,
    pub identities: crate::identities::Identities,
    pending: Vec<Event>,
    pending_shutdown: Option<(String, bool)>,
}

impl Daemon {
    pub fn new(root: Root, opts: Options, events: EventSink) -> Daemon {
        Daemon {
            boot_id: uuid::Uuid::new_v4().to_string(),
            root,
            opts,
            state: Mutex::new(State::default()),
            cond: Condvar::new(),
            events,
            exec: ExecRegistry::default(),
            stopping: AtomicBool::new(false),
            shutdown: Mutex::new(None),
            wake: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` under the lock, then wakes every waiter and delivers the events `f` queued.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.lock();
        let r = f(&mut st);
        let events = std::mem::take(&mut st.pending);
        let shutdown = st.pending_shutdown.take();
        drop(st);
        self.cond.notify_all();
        for e in &events {
            self.events.emit(e);
        }
        if let Some((reason, failure)) = shutdown {
            self.request_shutdown(&reason, failure);
        }
        r
    }

    /// Sleeps for `d` unless the daemon starts shutting down; false if it did.
    pub fn sleep(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        self.wait_for(deadline, |_| None::<()>, || self.stopping());
        !self.stopping()
    }

    /// Waits until `ready` returns a value, `deadline` passes (`None`), or `give_up()` is true
    /// (checked at least every 200 ms; also `None`). Mutations by `ready` are not announced, so
    /// it should only read.
    pub fn wait_for<R>(
        &self,
        deadline: Instant,
        mut ready: impl FnMut(&mut State) -> Option<R>,
        give_up: impl Fn() -> bool,
    ) -> Option<R> {
        let mut st = self.lock();
        loop {
            if let Some(r) = ready(&mut st) {
                return Some(r);
            }
            let now = Instant::now();
            if now >= deadline || give_up() {
                return None;
            }
            let slice = (deadline - now).min(Duration::from_millis(200));
            st = self
                .cond
                .wait_timeout(st, slice)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Emits an event now (never call it under the lock).
    pub fn emit(&self, event: &Event) {
        self.events.emit(event);
    }

    /// Whether the daemon is shutting down.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Registers how to wake the accept loop.
    pub fn set_wake(&self, wake: Box<dyn Fn() + Send>) {
        *self.wake.lock().unwrap_or_else(PoisonError::into_inner) = Some(wake);
    }

    /// Asks the daemon to shut down (the first reason wins).
    pub fn request_shutdown(&self, reason: &str, failure: bool) {
        {
            let mut s = self.shutdown.lock().unwrap_or_else(PoisonError::into_inner);
            if s.is_none() {
                *s = Some(Shutdown {
                    reason: reason.to_string(),
                    failure,
                });
            }
        }
        self.stopping.store(true, Ordering::SeqCst);
        self.cond.notify_all();
        if let Some(wake) = self
            .wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            wake();
        }
    }

    /// The shutdown asked for, if any.
    pub fn shutdown_reason(&self) -> Option<Shutdown> {
        self.shutdown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl State {
    /// Asks for the daemon to shut down once the lock is released.
    pub fn request_shutdown(&mut self, reason: String, failure: bool) {
        self.pending_shutdown.get_or_insert((reason, failure));
    }

    /// Queues an event, delivered once the lock is released.
    pub fn emit(&mut self, event: Event) {
        self.pending.push(event);
    }

    /// Creates a change (and announces it with a `change-update` notice).
    pub fn spawn_change(&mut self, kind: &str, summary: &str) -> String {
        let id = self.changes.spawn(kind, summary, SystemTime::now());
        self.announce_spawn(&id);
        id
    }

    /// Creates a change with notice data (`check-name`) on its `change-update` notices.
    pub fn spawn_change_with(
        &mut self,
        kind: &str,
        summary: &str,
        notice_data: BTreeMap<String, String>,
    ) -> String {
        let id = self.changes.spawn(kind, summary, SystemTime::now());
        if let Some(c) = self.changes.change_mut(&id) {
            c.notice_data = notice_data;
        }
        self.announce_spawn(&id);
        id
    }

    fn announce_spawn(&mut self, change_id: &str) {
        let mut data = BTreeMap::new();
        if let Some(c) = self.changes.change(change_id) {
            data.insert("kind".to_string(), c.kind.clone());
            data.extend(c.notice_data.clone());
        }
        self.notices.record(
            None,
            "change-update",
            change_id,
            data,
            None,
            SystemTime::now(),
        );
    }

    /// Adds a task to a change.
    pub fn add_task(&mut self, change_id: &str, kind: &str, summary: &str, lane: u32) -> String {
        let id = self
            .changes
            .add_task(change_id, kind, summary, lane, SystemTime::now());
        self.refresh(change_id);
        id
    }

    /// Sets a task's status and refreshes its change.
    pub fn set_task_status(&mut self, task_id: &str, status: Status) {
        self.changes
            .set_task_status(task_id, status, SystemTime::now());
        self.refresh_of_task(task_id);
    }

    /// Logs an INFO line on a task.
    pub fn task_log(&mut self, task_id: &str, message: &str) {
        self.changes.log(task_id, message, SystemTime::now());
    }

    /// Logs an ERROR line on a task without failing it.
    pub fn task_log_error(&mut self, task_id: &str, message: &str) {
        self.changes.log_error(task_id, message, SystemTime::now());
    }

    /// Fails a task with `message` and refreshes its change.
    pub fn task_fail(&mut self, task_id: &str, message: &str) {
        self.changes.fail(task_id, message, SystemTime::now());
        self.refresh_of_task(task_id);
    }

    /// Sets a change's status outright (changes without tasks).
    pub fn set_change_status(&mut self, change_id: &str, status: Status) {
        if let Some(c) = self.changes.change_mut(change_id) {
            c.set_status = Some(status);
        }
        self.refresh(change_id);
    }

    fn refresh_of_task(&mut self, task_id: &str) {
        if let Some(change_id) = self.changes.task(task_id).map(|t| t.change_id.clone()) {
            self.refresh(&change_id);
        }
    }

    /// Recomputes a change's status; a move is announced with a `change-update` notice.
    pub fn refresh(&mut self, change_id: &str) {
        if let Some(moved) = self.changes.refresh(change_id, SystemTime::now()) {
            self.notices.record(
                None,
                "change-update",
                &moved.change_id,
                moved.data,
                None,
                SystemTime::now(),
            );
        }
    }

    /// Records a custom notice; a new or repeated one becomes an event.
    pub fn record_custom_notice(
        &mut self,
        user_id: Option<u32>,
        key: &str,
        data: BTreeMap<String, String>,
        repeat_after: Option<Duration>,
    ) -> Recorded {
        let r = self.notices.record(
            user_id,
            "custom",
            key,
            data,
            repeat_after,
            SystemTime::now(),
        );
        if r.repeated {
            self.emit(Event::CustomNotice {
                id: r.id.to_string(),
                notice_type: "custom".into(),
                key: key.to_string(),
                occurrences: r.occurrences,
            });
        }
        r
    }
}
