//! Pebble's validation of one layer (when it is parsed) and of the combined plan (before it is
//! accepted), with Pebble's messages: a failed `add_layer` answers 400 with exactly these.

use super::command::parse_command;
use super::order::check_cycles;
use super::{CheckLevel, Layer, LogTargetType, Override, Plan, ServiceAction, Startup};

/// A layer or plan that breaks one of Pebble's rules (Pebble's `plan.FormatError`: an HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FormatError {
    message: String,
}

impl FormatError {
    /// An error with Pebble's message.
    pub fn new(message: impl Into<String>) -> FormatError {
        FormatError {
            message: message.into(),
        }
    }

    /// The message, as Pebble words it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The label prefix Pebble keeps for itself.
pub const RESERVED_LABEL_PREFIX: &str = "pebble-";
/// The log-target label prefix Pebble keeps for itself.
pub const RESERVED_LOG_LABEL_PREFIX: &str = "pebble_";

fn valid_action(action: Option<&ServiceAction>, extra: ServiceAction) -> bool {
    match action {
        None => true,
        Some(a) => {
            *a == extra
                || matches!(
                    a,
                    ServiceAction::Restart | ServiceAction::Shutdown | ServiceAction::Ignore
                )
        }
    }
}

fn log_target_types() -> &'static str {
    r#""loki", "opentelemetry" or "syslog""#
}

impl Layer {
    /// Pebble's `Layer.Validate`: the label, names, commands, actions, levels, durations and
    /// log-target labels of this one layer. `override` is checked later, when layers combine.
    pub fn validate(&self, label: &str) -> Result<(), FormatError> {
        if label.starts_with(RESERVED_LABEL_PREFIX) {
            return Err(FormatError::new(
                r#"cannot use reserved label prefix "pebble-""#,
            ));
        }
        for (name, service) in &self.services {
            if name.is_empty() {
                return Err(FormatError::new("cannot use empty string as service name"));
            }
            if name == "pebble" {
                return Err(FormatError::new(format!(
                    "cannot use reserved service name {name:?}"
                )));
            }
            if name.starts_with('-') {
                return Err(FormatError::new(format!(
                    r#"cannot use service name {name:?}: starting with "-" not allowed"#
                )));
            }
            if let Err(e) = parse_command(name, &service.command) {
                return Err(FormatError::new(format!(
                    "plan service {name:?} command invalid: {e}"
                )));
            }
            if !valid_action(service.on_success.as_ref(), ServiceAction::FailureShutdown) {
                return Err(FormatError::new(format!(
                    "plan service {name:?} on-success action {:?} invalid",
                    action_text(service.on_success.as_ref())
                )));
            }
            if !valid_action(service.on_failure.as_ref(), ServiceAction::SuccessShutdown) {
                return Err(FormatError::new(format!(
                    "plan service {name:?} on-failure action {:?} invalid",
                    action_text(service.on_failure.as_ref())
                )));
            }
            for action in service.on_check_failure.values() {
                if !valid_action(Some(action), ServiceAction::SuccessShutdown) {
                    return Err(FormatError::new(format!(
                        "plan service {name:?} on-check-failure action {:?} invalid",
                        action.as_str()
                    )));
                }
            }
            if let Some(factor) = service.backoff_factor
                && factor < 1.0
            {
                return Err(FormatError::new(format!(
                    "plan service {name:?} backoff-factor must be 1.0 or greater, not {factor}"
                )));
            }
        }
        for (name, check) in &self.checks {
            if name.is_empty() {
                return Err(FormatError::new("cannot use empty string as check name"));
            }
            if let Some(level) = &check.level
                && !matches!(level, CheckLevel::Alive | CheckLevel::Ready)
            {
                return Err(FormatError::new(format!(
                    r#"plan check {name:?} level must be "alive" or "ready""#
                )));
            }
            if let Some(startup) = &check.startup
                && !matches!(startup, Startup::Enabled | Startup::Disabled)
            {
                return Err(FormatError::new(format!(
                    r#"plan check {name:?} startup must be "enabled" or "disabled""#
                )));
            }
            if check.period.is_some_and(|p| p.is_zero()) {
                return Err(FormatError::new(format!(
                    "plan check {name:?} period must not be zero"
                )));
            }
            if check.timeout.is_some_and(|t| t.is_zero()) {
                return Err(FormatError::new(format!(
                    "plan check {name:?} timeout must not be zero"
                )));
            }
            if let Some(exec) = &check.exec {
                if let Err(e) = super::command::split(&exec.command) {
                    return Err(FormatError::new(format!(
                        "plan check {name:?} command invalid: {e}"
                    )));
                }
                if exec.user.is_empty()
                    && exec.user_id.is_none()
                    && (!exec.group.is_empty() || exec.group_id.is_some())
                {
                    return Err(FormatError::new(format!(
                        "plan check {name:?} has invalid user/group: must specify user, not just group"
                    )));
                }
            }
        }
        for (name, target) in &self.log_targets {
            if let Some(label) = target
                .labels
                .keys()
                .find(|k| k.starts_with(RESERVED_LOG_LABEL_PREFIX))
            {
                return Err(FormatError::new(format!(
                    r#"log target {name:?}: label {label:?} uses reserved prefix "pebble_""#
                )));
            }
            if let Some(kind) = &target.target_type
                && !kind.is_known()
            {
                return Err(FormatError::new(format!(
                    "log target {name:?} has unsupported type {:?}, must be {}",
                    kind.as_str(),
                    log_target_types()
                )));
            }
        }
        Ok(())
    }

    /// The `override` rule checked when layers combine: every entry must say `merge` or
    /// `replace`. `label` names the layer in the message.
    pub fn check_overrides(&self, label: &str) -> Result<(), FormatError> {
        let entries = self
            .services
            .iter()
            .map(|(n, s)| ("service", n, &s.r#override))
            .chain(self.checks.iter().map(|(n, c)| ("check", n, &c.r#override)))
            .chain(
                self.log_targets
                    .iter()
                    .map(|(n, t)| ("log target", n, &t.r#override)),
            );
        for (what, name, value) in entries {
            match value {
                Some(Override::Merge | Override::Replace) => {}
                None => {
                    return Err(FormatError::new(format!(
                        r#"layer {label:?} must define "override" for {what} {name:?}"#
                    )));
                }
                Some(Override::Other(_)) => {
                    return Err(FormatError::new(format!(
                        r#"layer {label:?} has invalid "override" value for {what} {name:?}"#
                    )));
                }
            }
        }
        Ok(())
    }
}

fn action_text(action: Option<&ServiceAction>) -> &str {
    action.map_or("", ServiceAction::as_str)
}

impl Plan {
    /// Pebble's `Plan.Validate`: every service has a command, every check exactly one valid
    /// type, every log target a type, a location and known services, and no before/after cycle.
    pub fn validate(&self) -> Result<(), FormatError> {
        for (name, service) in &self.services {
            if service.command.is_empty() {
                return Err(FormatError::new(format!(
                    r#"plan must define "command" for service {name:?}"#
                )));
            }
        }
        for (name, check) in &self.checks {
            let mut types = 0;
            if let Some(http) = &check.http {
                if http.url.is_empty() {
                    return Err(FormatError::new(format!(
                        r#"plan must set "url" for http check {name:?}"#
                    )));
                }
                types += 1;
            }
            if let Some(tcp) = &check.tcp {
                if tcp.port == 0 {
                    return Err(FormatError::new(format!(
                        r#"plan must set "port" for tcp check {name:?}"#
                    )));
                }
                types += 1;
            }
            if let Some(exec) = &check.exec {
                if exec.command.is_empty() {
                    return Err(FormatError::new(format!(
                        r#"plan must set "command" for exec check {name:?}"#
                    )));
                }
                if !exec.service_context.is_empty()
                    && !self.services.contains_key(&exec.service_context)
                {
                    return Err(FormatError::new(format!(
                        "plan check {name:?} service context specifies non-existent service {:?}",
                        exec.service_context
                    )));
                }
                types += 1;
            }
            if types != 1 {
                return Err(FormatError::new(format!(
                    r#"plan must specify one of "http", "tcp", or "exec" for check {name:?}"#
                )));
            }
        }
        for (name, target) in &self.log_targets {
            match &target.target_type {
                Some(LogTargetType::Other(kind)) => {
                    return Err(FormatError::new(format!(
                        "log target {name:?} has unsupported type {kind:?}, must be {}",
                        log_target_types()
                    )));
                }
                Some(_) => {}
                None => {
                    return Err(FormatError::new(format!(
                        r#"plan must define "type" ({}) for log target {name:?}"#,
                        log_target_types()
                    )));
                }
            }
            for service in &target.services {
                let service = service.strip_prefix('-').unwrap_or(service);
                if service != "all" && !self.services.contains_key(service) {
                    return Err(FormatError::new(format!(
                        "log target {name:?} specifies unknown service {service:?}"
                    )));
                }
            }
            if target.location.is_empty() {
                return Err(FormatError::new(format!(
                    r#"plan must define "location" for log target {name:?}"#
                )));
            }
        }
        check_cycles(&self.services)
    }
}
