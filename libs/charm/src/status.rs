//! Unit and application status, and the collect-status step where the most severe status wins.

use serde::{Deserialize, Serialize};
use std::fmt;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The kind.
    pub kind: StatusKind,
    /// The message shown next to it in `juju status`.
    pub message: String,
}

impl Status {
    /// An `active` status.
    pub fn active(message: impl Into<String>) -> Status {
        Status {
            kind: StatusKind::Active,
            message: message.into(),
        }
    }
    /// A `blocked` status.
    pub fn blocked(message: impl Into<String>) -> Status {
        Status {
            kind: StatusKind::Blocked,
            message: message.into(),
        }
    }
    /// A `maintenance` status.
    pub fn maintenance(message: impl Into<String>) -> Status {
        Status {
            kind: StatusKind::Maintenance,
            message: message.into(),
        }
    }
    /// A `waiting` status.
    pub fn waiting(message: impl Into<String>) -> Status {
        Status {
            kind: StatusKind::Waiting,
            message: message.into(),
        }
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
mod tests {
    use super::*;

    #[test]
    fn most_severe_wins_and_first_among_equals() {
        let mut c = StatusCollector::default();
        assert_eq!(c.unit_status(), None);
        c.add_unit(Status::active("ok"));
        c.add_unit(Status::waiting("for db"));
        c.add_unit(Status::blocked("first"));
        c.add_unit(Status::maintenance("busy"));
        c.add_unit(Status::blocked("second"));
        assert_eq!(c.unit_status(), Some(&Status::blocked("first")));
        assert_eq!(c.app_status(), None);
        c.add_app(Status::active("a"));
        c.add_app(Status::active("b"));
        assert_eq!(c.app_status(), Some(&Status::active("a")));
    }

    #[test]
    fn words_round_trip() {
        for k in [
            StatusKind::Active,
            StatusKind::Blocked,
            StatusKind::Maintenance,
            StatusKind::Waiting,
            StatusKind::Error,
            StatusKind::Unknown,
        ] {
            assert_eq!(StatusKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(StatusKind::parse("fine"), None);
        assert!(!StatusKind::Error.settable());
        assert!(StatusKind::Waiting.settable());
        assert_eq!(Status::blocked("x").to_string(), "blocked: x");
    }
}
