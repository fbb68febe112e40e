//! The JSON of Pebble's HTTP API: the response envelope, each endpoint's request body and result,
//! and the exec websocket messages. No transport here: the client and a test server share these.
//!
//! | endpoint | request | result |
//! | --- | --- | --- |
//! | every response | — | [`Response`] (`type`, `status-code`, `status`, `result`, `change`); errors: [`ErrorResult`] with [`ErrorKind`] |
//! | `GET /v1/system-info` | — | [`SystemInfo`] |
//! | `GET /v1/health` | `level`, `names` | [`Health`] |
//! | `GET /v1/changes`, `GET /v1/changes/{id}[/wait]` | `select`, `for`; `timeout` | [`Change`] with [`Task`]s |
//! | `POST /v1/changes/{id}` | [`ChangeActionRequest`] | [`Change`] |
//! | `GET /v1/services` | `names` | [`ServiceInfo`] list |
//! | `POST /v1/services` | [`ServicesRequest`] | async change |
//! | `GET /v1/plan` | `format=yaml` | YAML text of a [`Plan`](crate::plan::Plan) |
//! | `POST /v1/layers` | [`LayerRequest`] | `true` |
//! | `GET /v1/files` | `action=read\|list`, `path`, `pattern`, `itself` | multipart / [`FileInfo`] list |
//! | `POST /v1/files` | [`FilesRequest`] (write: multipart) | [`PathResult`] list |
//! | `POST /v1/exec` | [`ExecRequest`] | async change + [`ExecResult`] |
//! | exec websockets | [`WsCommand`] (text frames), bytes (binary frames) | |
//! | `POST /v1/signals` | [`SignalsRequest`] | `true` |
//! | `GET /v1/checks` | `level`, `names` | [`CheckInfo`] list |
//! | `POST /v1/checks` | [`ChecksRequest`] | [`ChecksChanged`] |
//! | `POST /v1/checks/refresh` | [`CheckRefreshRequest`] | [`CheckRefreshResult`] |
//! | `GET /v1/notices[/{id}]` | [`NoticesFilter`] as query | [`Notice`] list / one |
//! | `POST /v1/notices` | [`NoticeRequest`] | [`NoticeAdded`] |
//!
//! Times are kept as the RFC 3339 text Pebble sends (nanoseconds for changes and notices,
//! seconds for `last-modified`); durations are [`GoDuration`](crate::duration::GoDuration)s.

mod changes;
mod checks;
mod envelope;
mod exec;
mod files;
mod notices;
mod services;

pub use changes::*;
pub use checks::*;
pub use envelope::*;
pub use exec::*;
pub use files::*;
pub use notices::*;
pub use services::*;

#[cfg(test)]
#[path = "types_test.rs"]
mod tests;
