//! The layers and the combined plan (filled in once the plan types are merged).

use crate::exec::ExecContext;

/// The plan state.
#[derive(Default)]
pub(crate) struct PlanState {}

impl PlanState {
    pub fn exec_context(&self, _name: &str) -> Option<ExecContext> {
        None
    }
}

use std::path::Path;
use std::sync::Arc;

use crate::daemon::Daemon;
use crate::http::Request;
use crate::response::{ApiError, ApiResult};

pub(crate) fn load_layers_dir(_d: &Arc<Daemon>, _dir: &Path) -> Result<(), String> {
    Ok(())
}

pub(crate) fn get_plan(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}

pub(crate) fn post_layers(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
