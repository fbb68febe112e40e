//! What Juju plans for this application (`goal-state`): its units, and each relation's remote
//! applications and units, with the status each is heading to.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `goal-state --format=json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalState {
    /// This application's units (`app/0`) and their goal status.
    #[serde(default)]
    pub units: BTreeMap<String, GoalStatus>,
    /// By endpoint: each remote application and unit of its relations, and their goal status.
    #[serde(default)]
    pub relations: BTreeMap<String, BTreeMap<String, GoalStatus>>,
}

/// One unit's or application's goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalStatus {
    /// `active`, `waiting`, `joining`, `joined`, `dying`, ...
    pub status: String,
    /// Since when (RFC 3339), when Juju says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

impl GoalState {
    /// Reads `goal-state --format=json` output; `Err` says what is wrong with it.
    pub fn from_json(text: &str) -> Result<GoalState, String> {
        let state: Option<GoalState> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(state.unwrap_or_default())
    }

    /// How many units Juju plans for this application: those not dying (ops' `planned_units`).
    pub fn planned_units(&self) -> usize {
        self.units.values().filter(|u| u.status != "dying").count()
    }

    /// The remote units (names with `/`) planned on `endpoint`'s relations, not dying.
    pub fn planned_remote_units(&self, endpoint: &str) -> Vec<&str> {
        self.relations
            .get(endpoint)
            .map(|m| {
                m.iter()
                    .filter(|(name, g)| name.contains('/') && g.status != "dying")
                    .map(|(name, _)| name.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goal_state_is_typed_and_counts_plans() {
        let g = GoalState::from_json(
            r#"{"units":{"app/0":{"status":"active","since":"2024-01-01T00:00:00Z"},
                          "app/1":{"status":"dying"},"app/2":{"status":"waiting"}},
                "relations":{"db":{"pg":{"status":"joined"},"pg/0":{"status":"active"},
                                   "pg/1":{"status":"dying"}}}}"#,
        )
        .unwrap_or_default();
        assert_eq!(g.planned_units(), 2);
        assert_eq!(
            g.units["app/0"].since.as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(g.planned_remote_units("db"), vec!["pg/0"]);
        assert!(g.planned_remote_units("nope").is_empty());
        assert_eq!(GoalState::from_json("null"), Ok(GoalState::default()));
    }

    #[test]
    fn bad_goal_state_is_an_error() {
        for bad in [
            r#"{"units":[]}"#,
            r#"{"units":{"a/0":{"since":"x"}}}"#,
            "nope",
        ] {
            assert!(GoalState::from_json(bad).is_err(), "{bad}");
        }
    }
}
