//! The application's status with its units' (`status-get --application`), which only the
//! leader may read.

use crate::status::{Status, StatusKind};
use std::collections::BTreeMap;

/// `status-get --include-data --format=json --application=True`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStatusReport {
    /// The application's status.
    pub app: Status,
    /// Each unit's status, by unit name.
    pub units: BTreeMap<String, Status>,
}

fn status_of(value: &serde_json::Value) -> Result<Status, String> {
    let kind = value
        .get("status")
        .and_then(|s| s.as_str())
        .ok_or("no \"status\" field")?;
    let kind = StatusKind::parse(kind).ok_or_else(|| {
        format!(
            "unknown status {:?}",
            kind.chars().take(40).collect::<String>()
        )
    })?;
    let message = match value.get("message") {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(m)) => m.clone(),
        Some(_) => return Err("\"message\" is not text".into()),
    };
    Ok(Status { kind, message })
}

impl AppStatusReport {
    /// Reads the tool's output. Juju nests `units` inside `application-status`; a top-level
    /// `units` (as juju-protocol.md draws it) is read too.
    pub fn from_json(text: &str) -> Result<AppStatusReport, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let app = value
            .get("application-status")
            .ok_or("no \"application-status\"")?;
        let units_value = app.get("units").or_else(|| value.get("units"));
        let mut units = BTreeMap::new();
        match units_value {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(map)) => {
                for (name, v) in map {
                    let status = status_of(v).map_err(|e| format!("unit {name:?}: {e}"))?;
                    units.insert(name.clone(), status);
                }
            }
            Some(_) => return Err("\"units\" is not a map".into()),
        }
        Ok(AppStatusReport {
            app: status_of(app).map_err(|e| format!("application: {e}"))?,
            units,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn juju_nests_units_and_both_shapes_read() {
        for text in [
            r#"{"application-status":{"status":"active","message":"ok","status-data":{},
                "units":{"app/0":{"status":"blocked","message":"why"},"app/1":{"status":"active"}}}}"#,
            r#"{"application-status":{"status":"active","message":"ok"},
                "units":{"app/0":{"status":"blocked","message":"why"},"app/1":{"status":"active","message":""}}}"#,
        ] {
            let r = AppStatusReport::from_json(text).unwrap_or_else(|e| unreachable!("{e}"));
            assert_eq!(r.app, Status::active("ok"));
            assert_eq!(r.units["app/0"], Status::blocked("why"));
            assert_eq!(r.units["app/1"], Status::active(""));
        }
    }

    #[test]
    fn bad_reports_name_the_problem() {
        for (bad, needle) in [
            (r#"{"status":"active"}"#, "application-status"),
            (r#"{"application-status":{"status":"happy"}}"#, "happy"),
            (
                r#"{"application-status":{"status":"active","units":{"a/0":{}}}}"#,
                "a/0",
            ),
            (
                r#"{"application-status":{"status":"active","units":[1]}}"#,
                "not a map",
            ),
            (
                r#"{"application-status":{"status":"active","message":5}}"#,
                "not text",
            ),
        ] {
            match AppStatusReport::from_json(bad) {
                Err(e) => assert!(e.contains(needle), "{bad}: {e}"),
                Ok(r) => unreachable!("{bad} read as {r:?}"),
            }
        }
    }
}
