//! The dispatch environment: what Juju tells a charm process in its environment variables, read
//! into one typed value.

use crate::event::{
    ActionEvent, Event, Notice, PebbleCheckEvent, PebbleNoticeEvent, RelationEvent, RelationId,
    SecretEvent, StorageEvent, WorkloadEvent,
};
use crate::secret::SecretId;
use std::fmt;
use std::path::PathBuf;

/// A dispatch environment variable that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A variable this hook needs is not set.
    #[error("environment variable {name} is not set (needed for {needed_for})")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What needed it, e.g. `every dispatch` or `db-relation-changed`.
        needed_for: String,
    },
    /// A variable is set to something Juju would never send.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A Juju agent version (`JUJU_VERSION`), e.g. `3.6.14`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct JujuVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version (0 for tagged versions such as `3.6-beta1`).
    pub patch: u32,
}

impl JujuVersion {
    /// Parses `3.6.14`, `3.6.14.1` or `3.6-beta1` (ops' grammar, minus build numbers).
    pub fn parse(text: &str) -> Option<JujuVersion> {
        let (numbers, _tag) = match text.split_once('-') {
            Some((n, t)) => (n, Some(t)),
            None => (text, None),
        };
        let mut parts = numbers.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if let Some(build) = parts.next() {
            build.parse::<u32>().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(JujuVersion {
            major,
            minor,
            patch,
        })
    }

    /// Whether this agent supports at least `major.minor.patch`.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        *self
            >= JujuVersion {
                major,
                minor,
                patch,
            }
    }
}

impl fmt::Display for JujuVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Everything Juju told this process about the hook it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JujuEnv {
    /// This unit, e.g. `myapp/0`.
    pub unit: String,
    /// This application, e.g. `myapp`.
    pub app: String,
    /// Model name (`JUJU_MODEL_NAME`), empty if unset.
    pub model_name: String,
    /// Model UUID (`JUJU_MODEL_UUID`), empty if unset.
    pub model_uuid: String,
    /// Agent version (`JUJU_VERSION`; `0.0.0` when unset, as ops assumes).
    pub juju_version: JujuVersion,
    /// The charm directory (`JUJU_CHARM_DIR`, else `CHARM_DIR`, else the working directory).
    pub charm_dir: PathBuf,
    /// `JUJU_DISPATCH_PATH`, e.g. `hooks/install`.
    pub dispatch_path: String,
    /// The event this dispatch is for.
    pub event: Event,
    /// `JUJU_DEBUG` is set: also log to stderr.
    pub debug: bool,
    /// Machine, availability zone, principal unit, proxies.
    pub host: crate::host::HostEnv,
}

impl JujuEnv {
    /// Reads this process's environment.
    pub fn from_env() -> Result<JujuEnv, EnvError> {
        JujuEnv::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the environment through `var`, which returns a variable's value (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<JujuEnv, EnvError> {
        let vars = Vars(&var);
        let dispatch_path = vars.required("JUJU_DISPATCH_PATH", "every dispatch")?;
        let unit = vars.required("JUJU_UNIT_NAME", "every dispatch")?;
        let app = match unit.split_once('/') {
            Some((app, n)) if !app.is_empty() && n.parse::<u32>().is_ok() => app.to_string(),
            _ => {
                return Err(EnvError::Invalid {
                    name: "JUJU_UNIT_NAME",
                    value: unit,
                    reason: "expected <application>/<number>".into(),
                });
            }
        };
        let juju_version = match vars.optional("JUJU_VERSION") {
            None => JujuVersion {
                major: 0,
                minor: 0,
                patch: 0,
            },
            Some(v) => JujuVersion::parse(&v).ok_or_else(|| EnvError::Invalid {
                name: "JUJU_VERSION",
                value: v.clone(),
                reason: "expected <major>.<minor>.<patch>".into(),
            })?,
        };
        let charm_dir = vars
            .optional("JUJU_CHARM_DIR")
            .or_else(|| vars.optional("CHARM_DIR"))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let event = parse_event(&dispatch_path, &vars)?;
        Ok(JujuEnv {
            unit,
            app,
            model_name: vars.optional("JUJU_MODEL_NAME").unwrap_or_default(),
            model_uuid: vars.optional("JUJU_MODEL_UUID").unwrap_or_default(),
            juju_version,
            charm_dir,
            dispatch_path,
            event,
            debug: var("JUJU_DEBUG").is_some(),
            host: crate::host::HostEnv::from_vars(&var),
        })
    }
}

struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// A variable's value; empty counts as unset.
    fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str, needed_for: &str) -> Result<String, EnvError> {
        self.optional(name).ok_or_else(|| EnvError::Missing {
            name,
            needed_for: needed_for.to_string(),
        })
    }

    /// A variable that must be present but may be empty (`JUJU_REMOTE_UNIT` on app-level changes).
    fn present(&self, name: &'static str, needed_for: &str) -> Result<Option<String>, EnvError> {
        match (self.0)(name) {
            None => Err(EnvError::Missing {
                name,
                needed_for: needed_for.to_string(),
            }),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => Ok(Some(v)),
        }
    }
}

const RELATION_SUFFIXES: [&str; 5] = [
    "-relation-created",
    "-relation-joined",
    "-relation-changed",
    "-relation-departed",
    "-relation-broken",
];

fn parse_event(dispatch_path: &str, vars: &Vars<'_>) -> Result<Event, EnvError> {
    let invalid = |reason: &str| EnvError::Invalid {
        name: "JUJU_DISPATCH_PATH",
        value: dispatch_path.to_string(),
        reason: reason.to_string(),
    };
    let (dir, name) = dispatch_path
        .rsplit_once('/')
        .ok_or_else(|| invalid("expected hooks/<hook> or actions/<action>"))?;
    let dir = dir.rsplit('/').next().unwrap_or(dir);
    if name.is_empty() {
        return Err(invalid("the hook or action name is empty"));
    }
    match dir {
        "actions" => {
            let id = vars.required("JUJU_ACTION_UUID", name)?;
            Ok(Event::Action(ActionEvent {
                name: vars
                    .optional("JUJU_ACTION_NAME")
                    .unwrap_or_else(|| name.to_string()),
                id,
            }))
        }
        "hooks" => parse_hook(name, vars),
        _ => Err(invalid("expected hooks/<hook> or actions/<action>")),
    }
}

fn parse_hook(hook: &str, vars: &Vars<'_>) -> Result<Event, EnvError> {
    let fixed = match hook {
        "install" => Some(Event::Install),
        "start" => Some(Event::Start),
        "stop" => Some(Event::Stop),
        "remove" => Some(Event::Remove),
        "config-changed" => Some(Event::ConfigChanged),
        "update-status" => Some(Event::UpdateStatus),
        "upgrade-charm" => Some(Event::UpgradeCharm),
        "leader-elected" => Some(Event::LeaderElected),
        "leader-settings-changed" => Some(Event::LeaderSettingsChanged),
        "pre-series-upgrade" => Some(Event::PreSeriesUpgrade),
        "post-series-upgrade" => Some(Event::PostSeriesUpgrade),
        "collect-metrics" => Some(Event::CollectMetrics),
        "meter-status-changed" => Some(Event::MeterStatusChanged),
        _ => None,
    };
    if let Some(event) = fixed {
        return Ok(event);
    }
    if let Some(kind) = hook.strip_prefix("secret-") {
        return parse_secret(hook, kind, vars);
    }
    for suffix in RELATION_SUFFIXES {
        if let Some(endpoint) = hook.strip_suffix(suffix) {
            return parse_relation(hook, endpoint, suffix, vars);
        }
    }
    for (suffix, attached) in [("-storage-attached", true), ("-storage-detaching", false)] {
        if let Some(name) = hook.strip_suffix(suffix) {
            let storage = parse_storage(hook, name, vars)?;
            return Ok(if attached {
                Event::StorageAttached(storage)
            } else {
                Event::StorageDetaching(storage)
            });
        }
    }
    for suffix in [
        "-pebble-ready",
        "-pebble-custom-notice",
        "-pebble-check-failed",
        "-pebble-check-recovered",
    ] {
        if let Some(container) = hook.strip_suffix(suffix) {
            return parse_workload(hook, container, suffix, vars);
        }
    }
    Ok(Event::Unknown {
        hook: hook.to_string(),
    })
}

fn parse_relation(
    hook: &str,
    endpoint: &str,
    suffix: &str,
    vars: &Vars<'_>,
) -> Result<Event, EnvError> {
    let endpoint = match vars.optional("JUJU_RELATION") {
        Some(r) if r != endpoint => {
            return Err(EnvError::Invalid {
                name: "JUJU_RELATION",
                value: r,
                reason: format!("hook {hook} is for endpoint {endpoint}"),
            });
        }
        _ => endpoint.to_string(),
    };
    let raw_id = vars.required("JUJU_RELATION_ID", hook)?;
    let id = raw_id
        .rsplit(':')
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| EnvError::Invalid {
            name: "JUJU_RELATION_ID",
            value: raw_id.clone(),
            reason: "expected <endpoint>:<integer>".into(),
        })?;
    let broken = suffix == "-relation-broken";
    let remote_app = if broken {
        vars.optional("JUJU_REMOTE_APP")
    } else {
        Some(vars.required("JUJU_REMOTE_APP", hook)?)
    };
    let needs_remote_unit = matches!(
        suffix,
        "-relation-joined" | "-relation-changed" | "-relation-departed"
    );
    let remote_unit = if needs_remote_unit {
        vars.present("JUJU_REMOTE_UNIT", hook)?
    } else {
        vars.optional("JUJU_REMOTE_UNIT")
    };
    if suffix == "-relation-joined" && remote_unit.is_none() {
        return Err(EnvError::Invalid {
            name: "JUJU_REMOTE_UNIT",
            value: String::new(),
            reason: format!("{hook} is always about one remote unit"),
        });
    }
    let departing_unit = if suffix == "-relation-departed" {
        Some(vars.required("JUJU_DEPARTING_UNIT", hook)?)
    } else {
        None
    };
    let payload = RelationEvent {
        relation: RelationId { endpoint, id },
        remote_app,
        remote_unit,
        departing_unit,
    };
    Ok(match suffix {
        "-relation-created" => Event::RelationCreated(payload),
        "-relation-joined" => Event::RelationJoined(payload),
        "-relation-changed" => Event::RelationChanged(payload),
        "-relation-departed" => Event::RelationDeparted(payload),
        _ => Event::RelationBroken(payload),
    })
}

fn parse_secret(hook: &str, kind: &str, vars: &Vars<'_>) -> Result<Event, EnvError> {
    let needs_revision = matches!(kind, "remove" | "expired");
    if !matches!(kind, "changed" | "rotate" | "remove" | "expired") {
        return Ok(Event::Unknown {
            hook: hook.to_string(),
        });
    }
    let raw = vars.required("JUJU_SECRET_ID", hook)?;
    let id = SecretId::parse(&raw).map_err(|e| EnvError::Invalid {
        name: "JUJU_SECRET_ID",
        value: raw.clone(),
        reason: e.why.to_string(),
    })?;
    let revision = match (vars.optional("JUJU_SECRET_REVISION"), needs_revision) {
        (Some(raw), _) => Some(raw.parse::<u32>().map_err(|_| EnvError::Invalid {
            name: "JUJU_SECRET_REVISION",
            value: raw.clone(),
            reason: "expected a revision number".into(),
        })?),
        (None, true) => {
            return Err(EnvError::Missing {
                name: "JUJU_SECRET_REVISION",
                needed_for: hook.to_string(),
            });
        }
        (None, false) => None,
    };
    let payload = SecretEvent {
        id,
        label: vars.optional("JUJU_SECRET_LABEL"),
        revision,
    };
    Ok(match kind {
        "changed" => Event::SecretChanged(payload),
        "rotate" => Event::SecretRotate(payload),
        "remove" => Event::SecretRemove(payload),
        _ => Event::SecretExpired(payload),
    })
}

fn parse_storage(hook: &str, name: &str, vars: &Vars<'_>) -> Result<StorageEvent, EnvError> {
    let raw = vars.required("JUJU_STORAGE_ID", hook)?;
    let index = raw
        .split_once('/')
        .filter(|(n, _)| *n == name)
        .and_then(|(_, i)| i.parse::<u32>().ok())
        .ok_or_else(|| EnvError::Invalid {
            name: "JUJU_STORAGE_ID",
            value: raw.clone(),
            reason: format!("expected {name}/<index>"),
        })?;
    Ok(StorageEvent {
        name: name.to_string(),
        index,
        location: vars.optional("JUJU_STORAGE_LOCATION"),
    })
}

fn parse_workload(
    hook: &str,
    container: &str,
    suffix: &str,
    vars: &Vars<'_>,
) -> Result<Event, EnvError> {
    let workload = vars.required("JUJU_WORKLOAD_NAME", hook)?;
    if workload != container {
        return Err(EnvError::Invalid {
            name: "JUJU_WORKLOAD_NAME",
            value: workload,
            reason: format!("hook {hook} is for container {container}"),
        });
    }
    let workload = WorkloadEvent {
        container: workload,
    };
    match suffix {
        "-pebble-custom-notice" => Ok(Event::PebbleCustomNotice(PebbleNoticeEvent {
            workload,
            notice: Notice {
                id: vars.required("JUJU_NOTICE_ID", hook)?,
                kind: vars.required("JUJU_NOTICE_TYPE", hook)?,
                key: vars.required("JUJU_NOTICE_KEY", hook)?,
            },
        })),
        "-pebble-check-failed" | "-pebble-check-recovered" => {
            let payload = PebbleCheckEvent {
                workload,
                check: vars.required("JUJU_PEBBLE_CHECK_NAME", hook)?,
            };
            Ok(if suffix == "-pebble-check-failed" {
                Event::PebbleCheckFailed(payload)
            } else {
                Event::PebbleCheckRecovered(payload)
            })
        }
        _ => Ok(Event::PebbleReady(workload)),
    }
}

#[cfg(test)]
#[path = "env_test.rs"]
mod tests;
