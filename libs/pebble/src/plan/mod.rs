//! Layers and plans: the YAML a charm sends with `add_layer` and reads back with `get_plan`, and
//! Pebble's rules for combining layers into a plan.
//!
//! | YAML | Rust | notes |
//! | --- | --- | --- |
//! | layer top level | [`Layer`] | `summary`, `description`, `services`, `checks`, `log-targets`; any other top-level key is an extension section, kept as [`Layer::sections`] (Pebble rejects those it has not registered: [`Layer::parse`]) |
//! | `services.<name>` | [`Service`] | unknown keys rejected, like Pebble's strict decoder |
//! | `checks.<name>` | [`Check`] with [`HttpCheck`] / [`TcpCheck`] / [`ExecCheck`] | unknown keys rejected |
//! | `log-targets.<name>` | [`LogTarget`] | unknown keys rejected |
//! | durations | [`GoDuration`] | Go text, `"500ms"`, `"1m30s"` |
//! | `GET /v1/plan` result | [`Plan`] | the combined layer without summary/description |
//!
//! Go's "unset" is kept: an empty string, an empty list or map, or an absent option is not written,
//! and in a `merge` it does not override (see [`combine`]). Enum-like strings keep values this
//! crate does not know (`Other`), so the combining and validation rules, not the decoder, reject
//! them with Pebble's messages.
//!
//! The rest of the rules live in submodules: [`combine`] (override `merge`/`replace`, Pebble's
//! `CombineLayers`, and the `AppendLayer`/`CombineLayer` behaviour of `POST /v1/layers` as
//! [`LayerStack`]), [`validate`] (per-layer and whole-plan checks, with Pebble's messages),
//! [`order`] (start/stop order, lanes, before/after cycles) and [`command`] (service command
//! splitting).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

pub use crate::duration::{DurationError, GoDuration};
use crate::wire::{empty_none, null_default, wire_enum};

pub mod combine;
pub mod command;
pub mod order;
pub mod validate;

pub use combine::{LayerError, LayerStack, StackedLayer, combine_layers};
pub use validate::FormatError;

/// The default `backoff-delay` of a service.
pub const DEFAULT_BACKOFF_DELAY: GoDuration = GoDuration::from_millis(500);
/// The default `backoff-factor` of a service.
pub const DEFAULT_BACKOFF_FACTOR: f64 = 2.0;
/// The default `backoff-limit` of a service.
pub const DEFAULT_BACKOFF_LIMIT: GoDuration = GoDuration::from_secs(30);
/// The default `kill-delay` of a service.
pub const DEFAULT_KILL_DELAY: GoDuration = GoDuration::from_secs(5);
/// The default `period` of a check.
pub const DEFAULT_CHECK_PERIOD: GoDuration = GoDuration::from_secs(10);
/// The default `timeout` of a check (never more than its period).
pub const DEFAULT_CHECK_TIMEOUT: GoDuration = GoDuration::from_secs(3);
/// The default `threshold` of a check; unlike the other defaults it is written into the plan.
pub const DEFAULT_CHECK_THRESHOLD: i64 = 3;

wire_enum! {
    /// How a layer's entry combines with the same entry of the layers below it.
    pub enum Override {
        /// Merge field by field (see [`combine`]).
        Merge = "merge",
        /// Replace the whole entry.
        Replace = "replace",
    }
}

wire_enum! {
    /// `startup` of a service or check. Unset means disabled for a service, enabled for a check.
    pub enum Startup {
        /// Started by `replan`/`autostart` (services) or as soon as the plan has it (checks).
        Enabled = "enabled",
        /// Only started explicitly.
        Disabled = "disabled",
    }
}

wire_enum! {
    /// What Pebble does when a service exits or a check fails (`on-success`, `on-failure`,
    /// `on-check-failure`). Unset means `restart`.
    pub enum ServiceAction {
        /// Restart the service, with backoff.
        Restart = "restart",
        /// Shut Pebble down (the container restarts in Kubernetes).
        Shutdown = "shutdown",
        /// Do nothing.
        Ignore = "ignore",
        /// Shut Pebble down with a failure exit code (`on-success` only).
        FailureShutdown = "failure-shutdown",
        /// Shut Pebble down with a success exit code (`on-failure` and `on-check-failure` only).
        SuccessShutdown = "success-shutdown",
    }
}

wire_enum! {
    /// `level` of a check: which health level its failure affects.
    pub enum CheckLevel {
        /// Liveness (`/v1/health?level=alive`).
        Alive = "alive",
        /// Readiness (`/v1/health?level=ready`, which also counts alive checks).
        Ready = "ready",
    }
}

wire_enum! {
    /// `type` of a log target.
    pub enum LogTargetType {
        /// Grafana Loki.
        Loki = "loki",
        /// OpenTelemetry (OTLP/HTTP).
        OpenTelemetry = "opentelemetry",
        /// Syslog.
        Syslog = "syslog",
    }
}

/// A service entry of a layer (`services.<name>`). Field order is Pebble's output order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Service {
    /// One-line summary.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub summary: String,
    /// Longer description.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    /// Whether `replan`/`autostart` start it.
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub startup: Option<Startup>,
    /// Required in every layer: how this entry combines with the layers below.
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#override: Option<Override>,
    /// The command line, shell-quoted, with an optional trailing `[ default args ]` group.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub command: String,
    /// Services this one starts after (ordering only).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub after: Vec<String>,
    /// Services this one starts before (ordering only).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub before: Vec<String>,
    /// Services started with this one (and stopped when they stop).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub requires: Vec<String>,
    /// Extra environment of the process.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub environment: BTreeMap<String, String>,
    /// UID to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// User name to run as.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub user: String,
    /// GID to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i64>,
    /// Group name to run as.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub group: String,
    /// Working directory of the process.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub working_dir: String,
    /// What to do when the process exits with code 0.
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub on_success: Option<ServiceAction>,
    /// What to do when the process exits with another code.
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub on_failure: Option<ServiceAction>,
    /// What to do when a named check reaches its failure threshold.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub on_check_failure: BTreeMap<String, ServiceAction>,
    /// First restart delay ([`DEFAULT_BACKOFF_DELAY`] when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_delay: Option<GoDuration>,
    /// Multiplier of the delay per restart, at least 1 ([`DEFAULT_BACKOFF_FACTOR`] when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_factor: Option<f64>,
    /// Longest restart delay ([`DEFAULT_BACKOFF_LIMIT`] when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<GoDuration>,
    /// Time between SIGTERM and SIGKILL on stop ([`DEFAULT_KILL_DELAY`] when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_delay: Option<GoDuration>,
    /// Name of an entry of the `workloads` extension section (Pebble ≥ v1.20).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub workload: String,
}

impl Service {
    /// A service entry with `override: replace` and a command: the usual start of a layer.
    pub fn replace(command: impl Into<String>) -> Service {
        Service {
            r#override: Some(Override::Replace),
            command: command.into(),
            ..Service::default()
        }
    }

    /// A service entry with `override: merge` and nothing else set.
    pub fn merge() -> Service {
        Service {
            r#override: Some(Override::Merge),
            ..Service::default()
        }
    }

    /// Whether `replan`/`autostart` start it (`startup: enabled`).
    pub fn is_enabled(&self) -> bool {
        self.startup == Some(Startup::Enabled)
    }

    /// The backoff delay in effect.
    pub fn backoff_delay_or_default(&self) -> GoDuration {
        self.backoff_delay.unwrap_or(DEFAULT_BACKOFF_DELAY)
    }

    /// The backoff factor in effect.
    pub fn backoff_factor_or_default(&self) -> f64 {
        self.backoff_factor.unwrap_or(DEFAULT_BACKOFF_FACTOR)
    }

    /// The backoff limit in effect.
    pub fn backoff_limit_or_default(&self) -> GoDuration {
        self.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT)
    }

    /// The kill delay in effect.
    pub fn kill_delay_or_default(&self) -> GoDuration {
        self.kill_delay.unwrap_or(DEFAULT_KILL_DELAY)
    }

    /// Whether this service's logs go to `target` (its `services` list, last match wins).
    pub fn logs_to(&self, name: &str, target: &LogTarget) -> bool {
        for entry in target.services.iter().rev() {
            match entry.as_str() {
                "all" => return true,
                "-all" => return false,
                e if e == name => return true,
                e if e.strip_prefix('-') == Some(name) => return false,
                _ => {}
            }
        }
        false
    }
}

/// A check entry of a layer (`checks.<name>`). Exactly one of `http`, `tcp`, `exec` in the plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Check {
    /// Required in every layer: how this entry combines with the layers below.
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#override: Option<Override>,
    /// Health level the check affects.
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub level: Option<CheckLevel>,
    /// Whether the check runs as soon as the plan has it (unset: enabled; Pebble ≥ v1.19).
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub startup: Option<Startup>,
    /// Time between runs ([`DEFAULT_CHECK_PERIOD`] when unset; zero is invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<GoDuration>,
    /// Time limit of one run ([`DEFAULT_CHECK_TIMEOUT`] when unset; capped at the period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// Failures in a row that make the check `down` (0 = unset, filled with 3 when combined).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub threshold: i64,
    /// An HTTP GET that must answer 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheck>,
    /// A TCP connect that must succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheck>,
    /// A command that must exit 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecCheck>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Check {
    /// The period in effect.
    pub fn period_or_default(&self) -> GoDuration {
        self.period.unwrap_or(DEFAULT_CHECK_PERIOD)
    }

    /// The timeout in effect: the set or default timeout, but never more than the period.
    pub fn timeout_or_default(&self) -> GoDuration {
        self.timeout
            .unwrap_or(DEFAULT_CHECK_TIMEOUT)
            .min(self.period_or_default())
    }

    /// The threshold in effect.
    pub fn threshold_or_default(&self) -> i64 {
        if self.threshold == 0 {
            DEFAULT_CHECK_THRESHOLD
        } else {
            self.threshold
        }
    }

    /// Whether the check starts without being asked (unset or `enabled`).
    pub fn is_enabled(&self) -> bool {
        self.startup != Some(Startup::Disabled)
    }
}

/// `http` of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HttpCheck {
    /// The URL to GET (required in the plan).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub url: String,
    /// Request headers.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub headers: BTreeMap<String, String>,
}

/// `tcp` of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TcpCheck {
    /// The port to connect to (required in the plan; 0 = unset).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub port: i64,
    /// The host (`localhost` when unset).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub host: String,
}

/// `exec` of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExecCheck {
    /// The command line, shell-quoted (required in the plan).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub command: String,
    /// A service whose environment, user/group and working dir are the base.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub service_context: String,
    /// Extra environment.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub environment: BTreeMap<String, String>,
    /// UID to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// User name to run as.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub user: String,
    /// GID to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i64>,
    /// Group name to run as.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub group: String,
    /// Working directory.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub working_dir: String,
}

/// A log target entry of a layer (`log-targets.<name>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LogTarget {
    /// Protocol (required in the plan).
    #[serde(
        rename = "type",
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_type: Option<LogTargetType>,
    /// Where to send logs (required in the plan).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub location: String,
    /// Services whose logs go there: names, `all`, `-name`, `-all`; later entries win.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub services: Vec<String>,
    /// Required in every layer: how this entry combines with the layers below.
    #[serde(
        default,
        deserialize_with = "empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#override: Option<Override>,
    /// Labels added to every record (keys starting `pebble_` are reserved).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

/// One layer: what `add_layer` sends and what Pebble stacks into the plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    /// One-line summary.
    pub summary: String,
    /// Longer description.
    pub description: String,
    /// Services by name.
    pub services: BTreeMap<String, Service>,
    /// Checks by name.
    pub checks: BTreeMap<String, Check>,
    /// Log targets by name.
    pub log_targets: BTreeMap<String, LogTarget>,
    /// Extension sections (e.g. `workloads`), kept as their JSON-compatible value.
    pub sections: BTreeMap<String, Value>,
}

/// The combined plan, as `GET /v1/plan` returns it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Services by name.
    pub services: BTreeMap<String, Service>,
    /// Checks by name.
    pub checks: BTreeMap<String, Check>,
    /// Log targets by name.
    pub log_targets: BTreeMap<String, LogTarget>,
    /// Extension sections, kept as their JSON-compatible value.
    pub sections: BTreeMap<String, Value>,
}

/// YAML that does not decode into a layer or plan, or a layer or plan that cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(String);

impl YamlError {
    /// The parser's message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// The built-in top-level keys of a layer, in output order.
pub const BUILTIN_SECTIONS: [&str; 5] = [
    "summary",
    "description",
    "services",
    "checks",
    "log-targets",
];

fn yaml_options() -> serde_saphyr::SerializerOptions {
    // Pebble (Go yaml.v3) writes 4-space indents; block scalars are avoided so every string
    // comes back byte for byte.
    serde_saphyr::ser_options! {
        indent_step: 4,
        prefer_block_scalars: false,
    }
}

fn to_yaml<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string_with_options(value, yaml_options())
        .map_err(|e| YamlError(e.to_string()))
}

impl Layer {
    /// Reads layer YAML. Built-in sections are decoded strictly (unknown keys are errors);
    /// other top-level keys are kept in [`Layer::sections`]. No validation: see [`Layer::parse`].
    pub fn from_yaml(text: &str) -> Result<Layer, YamlError> {
        if text.trim().is_empty() {
            return Ok(Layer::default());
        }
        serde_saphyr::from_str::<Option<Layer>>(text)
            .map(Option::unwrap_or_default)
            .map_err(|e| YamlError(e.to_string()))
    }

    /// Reads and validates a layer as Pebble's `ParseLayer` does: the label is checked, a
    /// top-level key that is neither built in nor in `extensions` is an error, and the layer must
    /// pass [`Layer::validate`](validate). Errors carry Pebble's messages.
    pub fn parse(label: &str, text: &str, extensions: &[&str]) -> Result<Layer, FormatError> {
        let layer = Layer::from_yaml(text)
            .map_err(|e| FormatError::new(format!("cannot parse layer {label:?}: {e}")))?;
        if let Some(name) = layer
            .sections
            .keys()
            .find(|k| !extensions.contains(&k.as_str()))
        {
            return Err(FormatError::new(format!(
                "cannot parse layer {label:?}: unknown section {name:?}"
            )));
        }
        layer.validate(label)?;
        Ok(layer)
    }

    /// Writes the layer as YAML (4-space indents, keys in Pebble's order, unset fields omitted).
    pub fn to_yaml(&self) -> Result<String, YamlError> {
        to_yaml(self)
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Layer::default()
    }
}

impl Plan {
    /// Reads the plan YAML of `GET /v1/plan` (extension sections kept).
    ///
    /// Pebble writes it with Go's yaml.v3, which quotes every string that YAML would otherwise
    /// read as a number, boolean or null; so, unlike [`Layer::from_yaml`], this reads through a
    /// JSON value, exactly, and a client binary carries one generic YAML decoder instead of one
    /// per field (about 200 KB less). An unquoted number where a string belongs is an error here.
    pub fn from_yaml(text: &str) -> Result<Plan, YamlError> {
        let value: Option<Value> =
            serde_saphyr::from_str(text).map_err(|e| YamlError(e.to_string()))?;
        let layer: Layer = match value {
            None | Some(Value::Null) => Layer::default(),
            Some(value) => serde_json::from_value(value).map_err(|e| YamlError(e.to_string()))?,
        };
        if !layer.summary.is_empty() || !layer.description.is_empty() {
            return Err(YamlError(
                "a plan has no summary or description (is this a layer?)".into(),
            ));
        }
        Ok(Plan::from(layer))
    }

    /// Writes the plan as `GET /v1/plan` does.
    pub fn to_yaml(&self) -> Result<String, YamlError> {
        to_yaml(self)
    }
}

impl From<Layer> for Plan {
    /// The combined layer's services, checks, log targets and sections.
    fn from(layer: Layer) -> Plan {
        Plan {
            services: layer.services,
            checks: layer.checks,
            log_targets: layer.log_targets,
            sections: layer.sections,
        }
    }
}

fn serialize_sections<M: SerializeMap>(
    map: &mut M,
    services: &BTreeMap<String, Service>,
    checks: &BTreeMap<String, Check>,
    log_targets: &BTreeMap<String, LogTarget>,
    sections: &BTreeMap<String, Value>,
) -> Result<(), M::Error> {
    if !services.is_empty() {
        map.serialize_entry("services", services)?;
    }
    if !checks.is_empty() {
        map.serialize_entry("checks", checks)?;
    }
    if !log_targets.is_empty() {
        map.serialize_entry("log-targets", log_targets)?;
    }
    for (name, value) in sections {
        if !BUILTIN_SECTIONS.contains(&name.as_str()) && !is_empty_value(value) {
            map.serialize_entry(name, value)?;
        }
    }
    Ok(())
}

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl Serialize for Layer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.summary.is_empty() {
            map.serialize_entry("summary", &self.summary)?;
        }
        if !self.description.is_empty() {
            map.serialize_entry("description", &self.description)?;
        }
        serialize_sections(
            &mut map,
            &self.services,
            &self.checks,
            &self.log_targets,
            &self.sections,
        )?;
        map.end()
    }
}

impl Serialize for Plan {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        serialize_sections(
            &mut map,
            &self.services,
            &self.checks,
            &self.log_targets,
            &self.sections,
        )?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Layer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LayerVisitor)
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Layer::deserialize(deserializer).map(Plan::from)
    }
}

struct LayerVisitor;

/// A section map whose `null` (an empty `services:` key) means empty, as in Go.
fn section<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
) -> Result<BTreeMap<String, T>, A::Error> {
    Ok(map
        .next_value::<Option<BTreeMap<String, T>>>()?
        .unwrap_or_default())
}

impl<'de> Visitor<'de> for LayerVisitor {
    type Value = Layer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a layer: a mapping of summary, description, services, checks, log-targets")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Layer, A::Error> {
        let mut layer = Layer::default();
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            seen.push(key.clone());
            match key.as_str() {
                "summary" => {
                    layer.summary = map.next_value::<Option<String>>()?.unwrap_or_default()
                }
                "description" => {
                    layer.description = map.next_value::<Option<String>>()?.unwrap_or_default()
                }
                "services" => layer.services = section(&mut map)?,
                "checks" => layer.checks = section(&mut map)?,
                "log-targets" => layer.log_targets = section(&mut map)?,
                _ => {
                    let value = map.next_value::<Value>()?;
                    layer.sections.insert(key, value);
                }
            }
        }
        Ok(layer)
    }
}

#[cfg(test)]
#[path = "plan_test.rs"]
mod tests;
