//! How layers combine into a plan (Pebble's `CombineLayers`) and how `POST /v1/layers` adds a
//! layer to the stack (Pebble's `AppendLayer` and `CombineLayer`).
//!
//! | rule | behaviour |
//! | --- | --- |
//! | `override: replace` | the entry replaces the one below wholesale |
//! | `override: merge`, entry exists below | field by field: scalars only when set (non-empty, non-zero, present); lists (`after`, `before`, `requires`, log-target `services`) appended, duplicates kept; maps (`environment`, `on-check-failure`, `headers`, `labels`) merged per key; a check's `http`/`tcp`/`exec` merges into the same type |
//! | `override: merge`, no entry below | inserted as is |
//! | `override` missing or unknown | error `layer "<L>" must define "override" for service "<s>"` / `has invalid "override" value` |
//! | summary, description | the last layer's |
//! | defaults | only `threshold: 3` is written into the combined layer; backoff, kill delay, period and timeout stay unset (see the `*_or_default` accessors) |
//! | add, `combine: false` | the label must be new (`layer "<L>" already exists`); appended on top |
//! | add, `combine: true` | combined into the layer with that label, in its place (so later layers still win); appended if the label is new |
//! | labels with `/` | a new `dir/name` goes after the last layer of `dir`; inserting below a later layer needs `inner` |
//! | failure | the stack is unchanged |

use std::collections::BTreeMap;

use super::{
    Check, ExecCheck, FormatError, HttpCheck, Layer, LogTarget, Override, Plan, Service, TcpCheck,
};

fn set_string(dst: &mut String, src: &str) {
    if !src.is_empty() {
        *dst = src.to_string();
    }
}

fn set_option<T: Clone>(dst: &mut Option<T>, src: &Option<T>) {
    if src.is_some() {
        dst.clone_from(src);
    }
}

fn merge_map<V: Clone>(dst: &mut BTreeMap<String, V>, src: &BTreeMap<String, V>) {
    for (k, v) in src {
        dst.insert(k.clone(), v.clone());
    }
}

impl Service {
    /// Merges the fields set in `other` into this entry (`override: merge`).
    pub fn merge_from(&mut self, other: &Service) {
        set_string(&mut self.summary, &other.summary);
        set_string(&mut self.description, &other.description);
        set_option(&mut self.startup, &other.startup);
        set_string(&mut self.command, &other.command);
        set_option(&mut self.kill_delay, &other.kill_delay);
        set_option(&mut self.user_id, &other.user_id);
        set_string(&mut self.user, &other.user);
        set_option(&mut self.group_id, &other.group_id);
        set_string(&mut self.group, &other.group);
        set_string(&mut self.working_dir, &other.working_dir);
        self.after.extend(other.after.iter().cloned());
        self.before.extend(other.before.iter().cloned());
        self.requires.extend(other.requires.iter().cloned());
        merge_map(&mut self.environment, &other.environment);
        set_option(&mut self.on_success, &other.on_success);
        set_option(&mut self.on_failure, &other.on_failure);
        merge_map(&mut self.on_check_failure, &other.on_check_failure);
        set_option(&mut self.backoff_delay, &other.backoff_delay);
        set_option(&mut self.backoff_factor, &other.backoff_factor);
        set_option(&mut self.backoff_limit, &other.backoff_limit);
        set_string(&mut self.workload, &other.workload);
    }
}

impl Check {
    /// Merges the fields set in `other` into this entry (`override: merge`).
    pub fn merge_from(&mut self, other: &Check) {
        set_option(&mut self.level, &other.level);
        set_option(&mut self.startup, &other.startup);
        set_option(&mut self.period, &other.period);
        set_option(&mut self.timeout, &other.timeout);
        if other.threshold != 0 {
            self.threshold = other.threshold;
        }
        if let Some(http) = &other.http {
            self.http
                .get_or_insert_with(HttpCheck::default)
                .merge_from(http);
        }
        if let Some(tcp) = &other.tcp {
            self.tcp
                .get_or_insert_with(TcpCheck::default)
                .merge_from(tcp);
        }
        if let Some(exec) = &other.exec {
            self.exec
                .get_or_insert_with(ExecCheck::default)
                .merge_from(exec);
        }
    }
}

impl HttpCheck {
    /// Merges the fields set in `other` into this one.
    pub fn merge_from(&mut self, other: &HttpCheck) {
        set_string(&mut self.url, &other.url);
        merge_map(&mut self.headers, &other.headers);
    }
}

impl TcpCheck {
    /// Merges the fields set in `other` into this one.
    pub fn merge_from(&mut self, other: &TcpCheck) {
        if other.port != 0 {
            self.port = other.port;
        }
        set_string(&mut self.host, &other.host);
    }
}

impl ExecCheck {
    /// Merges the fields set in `other` into this one.
    pub fn merge_from(&mut self, other: &ExecCheck) {
        set_string(&mut self.command, &other.command);
        set_string(&mut self.service_context, &other.service_context);
        merge_map(&mut self.environment, &other.environment);
        set_option(&mut self.user_id, &other.user_id);
        set_string(&mut self.user, &other.user);
        set_option(&mut self.group_id, &other.group_id);
        set_string(&mut self.group, &other.group);
        set_string(&mut self.working_dir, &other.working_dir);
    }
}

impl LogTarget {
    /// Merges the fields set in `other` into this entry (`override: merge`).
    pub fn merge_from(&mut self, other: &LogTarget) {
        set_option(&mut self.target_type, &other.target_type);
        set_string(&mut self.location, &other.location);
        self.services.extend(other.services.iter().cloned());
        merge_map(&mut self.labels, &other.labels);
    }
}

/// Applies one layer's entries of one kind onto the combined entries.
fn apply<T: Clone>(
    combined: &mut BTreeMap<String, T>,
    entries: &BTreeMap<String, T>,
    override_of: impl Fn(&T) -> &Option<Override>,
    merge: impl Fn(&mut T, &T),
) {
    for (name, entry) in entries {
        match (override_of(entry), combined.get_mut(name)) {
            (Some(Override::Merge), Some(old)) => merge(old, entry),
            _ => {
                combined.insert(name.clone(), entry.clone());
            }
        }
    }
}

/// Pebble's `CombineLayers`: folds `layers` (label, layer), bottom first, into one layer.
///
/// Every entry must have a valid `override` (the error names the layer by its label). Extension
/// sections are opaque here: a later layer's section replaces an earlier one of the same name.
/// The result is not validated: see [`Plan::validate`].
pub fn combine_layers<'a>(
    layers: impl IntoIterator<Item = (&'a str, &'a Layer)>,
) -> Result<Layer, FormatError> {
    let mut combined = Layer::default();
    for (label, layer) in layers {
        layer.check_overrides(label)?;
        combined.summary.clone_from(&layer.summary);
        combined.description.clone_from(&layer.description);
        apply(
            &mut combined.services,
            &layer.services,
            |s| &s.r#override,
            Service::merge_from,
        );
        apply(
            &mut combined.checks,
            &layer.checks,
            |c| &c.r#override,
            Check::merge_from,
        );
        apply(
            &mut combined.log_targets,
            &layer.log_targets,
            |t| &t.r#override,
            LogTarget::merge_from,
        );
        for (name, value) in &layer.sections {
            combined.sections.insert(name.clone(), value.clone());
        }
    }
    for check in combined.checks.values_mut() {
        if check.threshold == 0 {
            check.threshold = super::DEFAULT_CHECK_THRESHOLD;
        }
    }
    Ok(combined)
}

/// Why `POST /v1/layers` refused a layer. The messages are Pebble's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// The layer or the resulting plan breaks a rule (HTTP 400).
    #[error(transparent)]
    Format(#[from] FormatError),
    /// `combine: false` with a label already in the stack (HTTP 400).
    #[error("layer {0:?} already exists")]
    LabelExists(String),
    /// A `dir/name` label would go below a later layer and `inner` was not set (HTTP 500).
    #[error("cannot insert sub-directory layer without 'inner' attribute set")]
    InnerRequired,
}

impl LayerError {
    /// The HTTP status Pebble answers with.
    pub fn status_code(&self) -> u16 {
        match self {
            LayerError::Format(_) | LayerError::LabelExists(_) => 400,
            LayerError::InnerRequired => 500,
        }
    }
}

/// One layer of a [`LayerStack`], with its label and order.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedLayer {
    /// The label it was added with.
    pub label: String,
    /// Pebble's order number (`1000` per top-level layer, `+1` per layer of a sub-directory).
    pub order: u32,
    /// The layer as stored (after any `combine` into it).
    pub layer: Layer,
}

/// The ordered layers of a Pebble daemon and the plan they combine into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerStack {
    layers: Vec<StackedLayer>,
    plan: Plan,
}

impl LayerStack {
    /// A stack with no layers (an empty plan).
    pub fn new() -> LayerStack {
        LayerStack::default()
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[StackedLayer] {
        &self.layers
    }

    /// The combined, validated plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Adds a layer as `POST /v1/layers` does (`combine` and `inner` as in the request); on
    /// error nothing changes. The layer should come from [`Layer::parse`].
    pub fn add(
        &mut self,
        label: &str,
        layer: Layer,
        combine: bool,
        inner: bool,
    ) -> Result<(), LayerError> {
        let existing = self.layers.iter().position(|l| l.label == label);
        match (existing, combine) {
            (Some(_), false) => Err(LayerError::LabelExists(label.to_string())),
            (Some(index), true) => {
                let found = &self.layers[index];
                let merged =
                    combine_layers([(found.label.as_str(), &found.layer), (label, &layer)])?;
                let mut layers = self.layers.clone();
                layers[index].layer = merged;
                self.replace(layers)
            }
            (None, _) => self.append(label, layer, inner),
        }
    }

    fn append(&mut self, label: &str, layer: Layer, inner: bool) -> Result<(), LayerError> {
        let (mut index, mut order) = (0, 1000);
        if let Some(last) = self.layers.last() {
            let (prefix, has_sub) = match label.split_once('/') {
                Some((prefix, _)) => (prefix, true),
                None => (label, false),
            };
            let same_dir = self
                .layers
                .iter()
                .rposition(|l| l.label.split('/').next() == Some(prefix));
            match same_dir {
                Some(i) => {
                    index = i + 1;
                    order = self.layers[i].order + 1;
                }
                None => {
                    index = self.layers.len();
                    order = (last.order / 1000 + 1) * 1000 + u32::from(has_sub);
                }
            }
        }
        if index != self.layers.len() && !inner {
            return Err(LayerError::InnerRequired);
        }
        let mut layers = self.layers.clone();
        layers.insert(
            index,
            StackedLayer {
                label: label.to_string(),
                order,
                layer,
            },
        );
        self.replace(layers)
    }

    /// Combines and validates `layers`; only then makes them the stack.
    fn replace(&mut self, layers: Vec<StackedLayer>) -> Result<(), LayerError> {
        let combined = combine_layers(layers.iter().map(|l| (l.label.as_str(), &l.layer)))?;
        let plan = Plan::from(combined);
        plan.validate()?;
        self.layers = layers;
        self.plan = plan;
        Ok(())
    }
}
