//! Services (filled in once the plan types are merged).

/// Every service record.
#[derive(Default)]
pub(crate) struct Services {}

use std::sync::Arc;

use crate::daemon::Daemon;
use crate::http::Request;
use crate::response::{ApiError, ApiResult};

pub(crate) fn get(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
pub(crate) fn post(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
pub(crate) fn post_signals(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
pub(crate) fn abort_task(_d: &Arc<Daemon>, _task: &str) {}
pub(crate) fn autostart_at_boot(_d: &Arc<Daemon>) {}
pub(crate) fn stop_all(_d: &Arc<Daemon>) {}
