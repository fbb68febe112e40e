//! Unit and application status, and the collect-status step where the most severe status wins.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The longest status message this framework sends, in bytes.
///
/// Juju itself sets no limit (the tabular `juju status` shows the first 120 characters, juju
/// PRs #14867 and #14913), but `status-set` takes the message as one argument, which Linux caps
/// at 128 KiB: a message quoting a large remote value would fail the hook on every retry. 1 KiB
/// keeps every message readable and far from that limit.
pub const MAX_STATUS_MESSAGE: usize = 1024;

/// What marks a cut: `…` (3 bytes).
const ELLIPSIS: &str = "\u{2026}";

/// `text` cut to at most `max` bytes on a character boundary, the cut marked with `…`.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let marker = if max >= ELLIPSIS.len() { ELLIPSIS } else { "" };
    let mut cut = max - marker.len();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!("{}{marker}", &text[..cut]))
}

/// Characters that change how a line is shown: controls (`\n`, `\r`, escape sequences, ...)
/// and the Unicode bidirectional overrides and isolates.
fn disruptive(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A status message as this framework sends it: each run of control characters (and bidi
/// overrides) replaced by one space, at most [`MAX_STATUS_MESSAGE`] bytes.
pub fn clean_message(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_STATUS_MESSAGE + 4));
    let mut in_run = false;
    for c in text.chars() {
        if disruptive(c) {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
        // Enough kept to cut; the rest of a huge message is never copied.
        if out.len() > MAX_STATUS_MESSAGE {
            break;
        }
    }
    match truncate(&out, MAX_STATUS_MESSAGE) {
        Cow::Borrowed(_) => out,
        Cow::Owned(cut) => cut,
    }
}

/// The kinds of workload status Juju knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    /// Working as intended.
    Active,
    /// Needs a human: bad config, bad remote data, a missing relation.
    Blocked,
    /// Busy with something that will finish on its own.
    Maintenance,
    /// Waiting for another application or unit.
    Waiting,
    /// Set by Juju when a hook fails; a charm cannot set it.
    Error,
    /// Nothing set yet; a charm cannot set it.
    Unknown,
}

impl StatusKind {
    /// The word Juju uses (`active`, `blocked`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Active => "active",
            StatusKind::Blocked => "blocked",
            StatusKind::Maintenance => "maintenance",
            StatusKind::Waiting => "waiting",
            StatusKind::Error => "error",
            StatusKind::Unknown => "unknown",
        }
    }

    /// Parses Juju's word for a status; anything else is `None`.
    pub fn parse(word: &str) -> Option<StatusKind> {
        Some(match word {
            "active" => StatusKind::Active,
            "blocked" => StatusKind::Blocked,
            "maintenance" => StatusKind::Maintenance,
            "waiting" => StatusKind::Waiting,
            "error" => StatusKind::Error,
            "unknown" => StatusKind::Unknown,
            _ => return None,
        })
    }

    /// ops' priority: error > blocked > maintenance > waiting > active > unknown.
    pub fn priority(self) -> u8 {
        match self {
            StatusKind::Error => 5,
            StatusKind::Blocked => 4,
            StatusKind::Maintenance => 3,
            StatusKind::Waiting => 2,
            StatusKind::Active => 1,
            StatusKind::Unknown => 0,
        }
    }

    /// Whether a charm may set this status (`error` and `unknown` are Juju's).
    pub fn settable(self) -> bool {
        !matches!(self, StatusKind::Error | StatusKind::Unknown)
    }
}

/// A workload status: a kind and a message.
///
/// The constructors clean the message ([`clean_message`]: no control characters, at most
/// [`MAX_STATUS_MESSAGE`] bytes), and so does every `status-set` the framework makes, so a status
/// that quotes remote data can always be set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The kind.
    pub kind: StatusKind,
    /// The message shown next to it in `juju status`.
    pub message: String,
}

impl Status {
    /// A status of `kind` with `message`, cleaned.
    pub fn new(kind: StatusKind, message: impl AsRef<str>) -> Status {
        Status {
            kind,
            message: clean_message(message.as_ref()),
        }
    }
    /// An `active` status.
    pub fn active(message: impl AsRef<str>) -> Status {
        Status::new(StatusKind::Active, message)
    }
    /// A `blocked` status.
    pub fn blocked(message: impl AsRef<str>) -> Status {
        Status::new(StatusKind::Blocked, message)
    }
    /// A `maintenance` status.
    pub fn maintenance(message: impl AsRef<str>) -> Status {
        Status::new(StatusKind::Maintenance, message)
    }
    /// A `waiting` status.
    pub fn waiting(message: impl AsRef<str>) -> Status {
        Status::new(StatusKind::Waiting, message)
    }

    /// The same status with its message cleaned (for values built field by field).
    pub fn cleaned(&self) -> Status {
        Status::new(self.kind, &self.message)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(self.kind.as_str())
        } else {
            write!(f, "{}: {}", self.kind.as_str(), self.message)
        }
    }
}

/// Collects the statuses every component proposes during one dispatch.
#[derive(Debug, Default, Clone)]
pub struct StatusCollector {
    unit: Vec<Status>,
    app: Vec<Status>,
}

impl StatusCollector {
    /// Proposes a unit status.
    pub fn add_unit(&mut self, status: Status) {
        self.unit.push(status);
    }

    /// Proposes an application status (only applied when this unit is the leader).
    pub fn add_app(&mut self, status: Status) {
        self.app.push(status);
    }

    /// The winning unit status: highest priority, first added among equals.
    pub fn unit_status(&self) -> Option<&Status> {
        winner(&self.unit)
    }

    /// The winning application status.
    pub fn app_status(&self) -> Option<&Status> {
        winner(&self.app)
    }
}

fn winner(statuses: &[Status]) -> Option<&Status> {
    let mut best: Option<&Status> = None;
    for s in statuses {
        if best.is_none_or(|b| s.kind.priority() > b.kind.priority()) {
            best = Some(s);
        }
    }
    best
}

#[cfg(test)]
#[path = "status_test.rs"]
mod tests;
