//! Changes and their tasks: ids, statuses (a change's status derived from its tasks), logs,
//! `err`, and the JSON `GET /v1/changes` shows.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::timefmt;

/// Most log lines a task keeps (Pebble shows the last 10).
const MAX_TASK_LOG: usize = 10;
/// Most ready changes kept; older ready ones are pruned first.
const MAX_READY_CHANGES: usize = 500;
/// Longest task log entry kept (service output can be long).
const MAX_LOG_ENTRY: usize = 8 * 1024;

/// The status of a task or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Status {
    Do,
    Doing,
    Done,
    Abort,
    Undo,
    Undoing,
    Undone,
    Hold,
    Error,
    Wait,
}

impl Status {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Do => "Do",
            Status::Doing => "Doing",
            Status::Done => "Done",
            Status::Abort => "Abort",
            Status::Undo => "Undo",
            Status::Undoing => "Undoing",
            Status::Undone => "Undone",
            Status::Hold => "Hold",
            Status::Error => "Error",
            Status::Wait => "Wait",
        }
    }

    /// Done, Undone, Hold and Error are final.
    pub fn ready(self) -> bool {
        matches!(
            self,
            Status::Done | Status::Undone | Status::Hold | Status::Error
        )
    }
}

/// One task of a change.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub id: String,
    pub change_id: String,
    pub kind: String,
    pub summary: String,
    pub status: Status,
    pub log: VecDeque<String>,
    pub spawn_time: SystemTime,
    pub ready_time: Option<SystemTime>,
    /// API data (exec sets `exit-code`).
    pub data: Map<String, Value>,
    /// The error the task failed with (for the change's `err`).
    pub error: Option<String>,
    /// Tasks of one lane run in order; a failure holds the rest of its lane.
    pub lane: u32,
}

impl Task {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("kind".into(), json!(self.kind));
        m.insert("summary".into(), json!(self.summary));
        m.insert("status".into(), json!(self.status.as_str()));
        if !self.log.is_empty() {
            m.insert("log".into(), json!(self.log));
        }
        let done = u8::from(self.status.ready());
        m.insert(
            "progress".into(),
            json!({"label": "", "done": done, "total": 1}),
        );
        m.insert(
            "spawn-time".into(),
            json!(timefmt::rfc3339_nanos(self.spawn_time)),
        );
        if let Some(t) = self.ready_time {
            m.insert("ready-time".into(), json!(timefmt::rfc3339_nanos(t)));
        }
        if !self.data.is_empty() {
            m.insert("data".into(), Value::Object(self.data.clone()));
        }
        Value::Object(m)
    }
}

/// One change.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub id: String,
    pub kind: String,
    pub summary: String,
    pub task_ids: Vec<String>,
    pub spawn_time: SystemTime,
    pub ready_time: Option<SystemTime>,
    /// A status set outright (a change with no tasks, such as `Replan - no services`).
    pub set_status: Option<Status>,
    /// Services the change acts on (`GET /v1/changes?for=<service>`).
    pub service_names: Vec<String>,
    /// Extra data of its `change-update` notices (`check-name`).
    pub notice_data: BTreeMap<String, String>,
    /// The status last announced by a `change-update` notice.
    pub announced: Status,
}

/// A change whose status moved: worth a `change-update` notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusMoved {
    pub change_id: String,
    pub data: BTreeMap<String, String>,
}

/// Every change and task of the daemon.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    changes: BTreeMap<u64, Change>,
    tasks: HashMap<String, Task>,
    last_change: u64,
    last_task: u64,
}

impl Changes {
    /// Creates a change with no tasks yet (status `Hold` until tasks or a status are given).
    pub fn spawn(&mut self, kind: &str, summary: &str, now: SystemTime) -> String {
        self.prune();
        self.last_change += 1;
        let id = self.last_change.to_string();
        self.changes.insert(
            self.last_change,
            Change {
                id: id.clone(),
                kind: kind.into(),
                summary: summary.into(),
                task_ids: Vec::new(),
                spawn_time: now,
                ready_time: None,
                set_status: None,
                service_names: Vec::new(),
                notice_data: BTreeMap::new(),
                announced: Status::Hold,
            },
        );
        id
    }

    /// Adds a task in status `Do`.
    pub fn add_task(
        &mut self,
        change_id: &str,
        kind: &str,
        summary: &str,
        lane: u32,
        now: SystemTime,
    ) -> String {
        self.last_task += 1;
        let id = self.last_task.to_string();
        self.tasks.insert(
            id.clone(),
            Task {
                id: id.clone(),
                change_id: change_id.into(),
                kind: kind.into(),
                summary: summary.into(),
                status: Status::Do,
                log: VecDeque::new(),
                spawn_time: now,
                ready_time: None,
                data: Map::new(),
                error: None,
                lane,
            },
        );
        if let Some(c) = self.change_mut(change_id) {
            c.task_ids.push(id.clone());
        }
        id
    }

    pub fn change(&self, id: &str) -> Option<&Change> {
        self.changes.get(&id.parse::<u64>().ok()?)
    }

    pub fn change_mut(&mut self, id: &str) -> Option<&mut Change> {
        self.changes.get_mut(&id.parse::<u64>().ok()?)
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id)
    }

    pub fn task_mut(&mut self, id: &str) -> Option<&mut Task> {
        self.tasks.get_mut(id)
    }

    /// Every change, oldest first.
    pub fn all(&self) -> impl Iterator<Item = &Change> {
        self.changes.values()
    }

    /// Sets a task's status; a failure holds the waiting tasks of its lane.
    pub fn set_task_status(&mut self, task_id: &str, status: Status, now: SystemTime) {
        let Some(t) = self.tasks.get_mut(task_id) else {
            return;
        };
        t.status = status;
        t.ready_time = status.ready().then_some(now);
        if status == Status::Error {
            let (change_id, lane) = (t.change_id.clone(), t.lane);
            let siblings = self
                .change(&change_id)
                .map(|c| c.task_ids.clone())
                .unwrap_or_default();
            for id in siblings {
                if let Some(s) = self.tasks.get_mut(&id)
                    && s.lane == lane
                    && s.status == Status::Do
                {
                    s.status = Status::Hold;
                    s.ready_time = Some(now);
                }
            }
        }
    }

    /// Adds `<time> INFO <message>` to a task's log.
    pub fn log(&mut self, task_id: &str, message: &str, now: SystemTime) {
        self.push_log(task_id, "INFO", message, now);
    }

    /// Adds `<time> ERROR <message>` to a task's log without failing it.
    pub fn log_error(&mut self, task_id: &str, message: &str, now: SystemTime) {
        self.push_log(task_id, "ERROR", message, now);
    }

    /// Fails a task: logs `ERROR <message>`, remembers it for `err`, status `Error`.
    pub fn fail(&mut self, task_id: &str, message: &str, now: SystemTime) {
        self.push_log(task_id, "ERROR", message, now);
        if let Some(t) = self.tasks.get_mut(task_id) {
            t.error = Some(message.to_string());
        }
        self.set_task_status(task_id, Status::Error, now);
    }

    fn push_log(&mut self, task_id: &str, level: &str, message: &str, now: SystemTime) {
        if let Some(t) = self.tasks.get_mut(task_id) {
            let mut message = message.to_string();
            if message.len() > MAX_LOG_ENTRY {
                let mut cut = MAX_LOG_ENTRY;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
            }
            t.log
                .push_back(format!("{} {level} {message}", timefmt::rfc3339(now)));
            while t.log.len() > MAX_TASK_LOG {
                t.log.pop_front();
            }
        }
    }

    /// The status of a change, derived from its tasks by Pebble's priorities.
    pub fn status(&self, change: &Change) -> Status {
        if let Some(s) = change.set_status {
            return s;
        }
        let statuses: Vec<Status> = change
            .task_ids
            .iter()
            .filter_map(|id| self.tasks.get(id).map(|t| t.status))
            .collect();
        const ORDER: [Status; 10] = [
            Status::Abort,
            Status::Undoing,
            Status::Undo,
            Status::Doing,
            Status::Do,
            Status::Wait,
            Status::Error,
            Status::Undone,
            Status::Done,
            Status::Hold,
        ];
        ORDER
            .into_iter()
            .find(|s| statuses.contains(s))
            .unwrap_or(Status::Hold)
    }

    /// Recomputes a change's status: stamps `ready-time` once ready, and reports a move worth a
    /// `change-update` notice (Do/Doing and Undo/Undoing flips are not).
    pub fn refresh(&mut self, change_id: &str, now: SystemTime) -> Option<StatusMoved> {
        let change = self.change(change_id)?;
        let status = self.status(change);
        let old = change.announced;
        let change = self.change_mut(change_id)?;
        if status.ready() {
            change.ready_time.get_or_insert(now);
        } else {
            change.ready_time = None;
        }
        if status == old {
            return None;
        }
        change.announced = status;
        let flip = matches!(
            (old, status),
            (Status::Do, Status::Doing)
                | (Status::Doing, Status::Do)
                | (Status::Undo, Status::Undoing)
                | (Status::Undoing, Status::Undo)
        );
        if flip {
            return None;
        }
        let mut data = BTreeMap::from([("kind".to_string(), change.kind.clone())]);
        data.extend(change.notice_data.clone());
        Some(StatusMoved {
            change_id: change_id.to_string(),
            data,
        })
    }

    /// `cannot perform the following tasks:` and one line per failed task.
    pub fn err(&self, change: &Change) -> Option<String> {
        if self.status(change) != Status::Error {
            return None;
        }
        let mut out = String::from("cannot perform the following tasks:");
        for t in change.task_ids.iter().filter_map(|id| self.tasks.get(id)) {
            if t.status == Status::Error {
                let e = t.error.as_deref().unwrap_or("unknown error");
                out.push_str(&format!("\n- {} ({e})", t.summary));
            }
        }
        Some(out)
    }

    /// The change as the API shows it.
    pub fn to_json(&self, change: &Change) -> Value {
        let status = self.status(change);
        let mut m = Map::new();
        m.insert("id".into(), json!(change.id));
        m.insert("kind".into(), json!(change.kind));
        m.insert("summary".into(), json!(change.summary));
        m.insert("status".into(), json!(status.as_str()));
        let tasks: Vec<Value> = change
            .task_ids
            .iter()
            .filter_map(|id| self.tasks.get(id).map(Task::to_json))
            .collect();
        if !tasks.is_empty() {
            m.insert("tasks".into(), Value::Array(tasks));
        }
        m.insert("ready".into(), json!(status.ready()));
        if let Some(err) = self.err(change) {
            m.insert("err".into(), json!(err));
        }
        m.insert(
            "spawn-time".into(),
            json!(timefmt::rfc3339_nanos(change.spawn_time)),
        );
        if let Some(t) = change.ready_time.filter(|_| status.ready()) {
            m.insert("ready-time".into(), json!(timefmt::rfc3339_nanos(t)));
        }
        Value::Object(m)
    }

    /// Drops the oldest ready changes beyond the cap.
    fn prune(&mut self) {
        let ready: Vec<u64> = self
            .changes
            .iter()
            .filter(|(_, c)| self.status(c).ready())
            .map(|(id, _)| *id)
            .collect();
        let excess = ready.len().saturating_sub(MAX_READY_CHANGES);
        for id in ready.into_iter().take(excess) {
            if let Some(c) = self.changes.remove(&id) {
                for t in c.task_ids {
                    self.tasks.remove(&t);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "changes_test.rs"]
mod tests;
