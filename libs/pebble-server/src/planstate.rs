//! The layers and the combined plan (`GET /v1/plan`, `POST /v1/layers`, the layers directory),
//! on the client crate's [`LayerStack`]: one implementation of Pebble's merge rules.

use std::path::Path;
use std::sync::Arc;

use pebble::plan::{Layer, LayerStack, Plan};
use serde::Deserialize;
use serde_json::json;

use crate::api::decode;
use crate::daemon::Daemon;
use crate::exec::ExecContext;
use crate::http::Request;
use crate::response::{ApiError, ApiResult, Reply};

/// The layers of the daemon.
#[derive(Debug, Default)]
pub(crate) struct PlanState {
    stack: LayerStack,
}

impl PlanState {
    /// The combined plan.
    pub fn plan(&self) -> &Plan {
        self.stack.plan()
    }

    /// Adds a layer as `POST /v1/layers` does; on error nothing changes.
    pub fn add(
        &mut self,
        label: &str,
        text: &str,
        combine: bool,
        inner: bool,
    ) -> Result<(), ApiError> {
        let layer = Layer::parse(label, text, &[]).map_err(|e| {
            ApiError::bad_request(format!("cannot parse layer YAML: {}", e.message()))
        })?;
        self.stack
            .add(label, layer, combine, inner)
            .map_err(|e| ApiError::new(e.status_code(), e.to_string()))
    }

    /// The exec base a service gives (`service-context`).
    pub fn exec_context(&self, name: &str) -> Option<ExecContext> {
        let s = self.plan().services.get(name)?;
        Some(ExecContext {
            environment: s.environment.clone(),
            user_id: s.user_id.and_then(|u| u32::try_from(u).ok()),
            user: Some(s.user.clone()).filter(|u| !u.is_empty()),
            group_id: s.group_id.and_then(|g| u32::try_from(g).ok()),
            group: Some(s.group.clone()).filter(|g| !g.is_empty()),
            working_dir: Some(s.working_dir.clone()).filter(|w| !w.is_empty()),
        })
    }
}

/// `GET /v1/plan?format=yaml`.
pub(crate) fn get_plan(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    let format = req.query("format").unwrap_or("");
    if format != "yaml" {
        return Err(ApiError::bad_request(format!("invalid format {format:?}")));
    }
    let yaml = d.with_state(|st| st.plan.plan().to_yaml());
    let yaml = yaml.map_err(|e| ApiError::internal(format!("cannot serialize plan: {e}")))?;
    Ok(Reply::Sync(json!(yaml)))
}

/// `POST /v1/layers`: `{"action":"add","label":L,"combine":bool,"inner":bool,"format":"yaml","layer":"..."}`.
pub(crate) fn post_layers(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        combine: Option<bool>,
        #[serde(default)]
        inner: Option<bool>,
        #[serde(default)]
        format: Option<String>,
        #[serde(default)]
        layer: Option<String>,
    }
    let body: Body = decode(req)?;
    let action = body.action.unwrap_or_default();
    if action != "add" {
        return Err(ApiError::bad_request(format!("invalid action {action:?}")));
    }
    let label = body.label.unwrap_or_default();
    if label.is_empty() {
        return Err(ApiError::bad_request("label must be set"));
    }
    let format = body.format.unwrap_or_default();
    if format != "yaml" {
        return Err(ApiError::bad_request(format!("invalid format {format:?}")));
    }
    let text = body.layer.unwrap_or_default();
    d.with_state(|st| {
        st.plan.add(
            &label,
            &text,
            body.combine.unwrap_or(false),
            body.inner.unwrap_or(false),
        )?;
        crate::checks::plan_changed(d, st);
        Ok(Reply::Sync(json!(true)))
    })
}

/// Loads `NNN-label.yaml` files in order, as Pebble loads `$PEBBLE/layers` at start.
pub(crate) fn load_layers_dir(d: &Arc<Daemon>, dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut layers: Vec<(u32, String, std::path::PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".yaml") else {
            continue;
        };
        let parsed = stem
            .split_once('-')
            .filter(|(n, label)| {
                n.len() == 3 && n.bytes().all(|c| c.is_ascii_digit()) && !label.is_empty()
            })
            .and_then(|(n, label)| Some((n.parse::<u32>().ok()?, label.to_string())));
        let Some((order, label)) = parsed else {
            return Err(format!(
                "invalid layer filename: {name:?} (must look like \"123-some-label.yaml\")"
            ));
        };
        if let Some((_, other, _)) = layers.iter().find(|(o, l, _)| *o == order || *l == label) {
            return Err(format!(
                "invalid layer filename: {name:?} clashes with layer {other:?}"
            ));
        }
        layers.push((order, label, entry.path()));
    }
    layers.sort();
    d.with_state(|st| {
        for (_, label, path) in &layers {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            st.plan
                .add(label, &text, false, false)
                .map_err(|e| format!("{}: {}", path.display(), e.message))?;
        }
        crate::checks::plan_changed(d, st);
        Ok(())
    })
}
