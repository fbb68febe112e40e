//! Checks (filled in once the plan types are merged).

/// Every check record.
#[derive(Default)]
pub(crate) struct Checks {}

use std::sync::Arc;

use crate::daemon::Daemon;
use crate::http::Request;
use crate::response::{ApiError, ApiResult};

pub(crate) fn health(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
pub(crate) fn get(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
pub(crate) fn post(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
pub(crate) fn refresh(_d: &Arc<Daemon>, _req: &Request) -> ApiResult {
    Err(ApiError::internal("not yet"))
}
