//! The envelope every JSON response comes in, and API errors.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::wire_enum;

wire_enum! {
    /// `type` of a response.
    pub enum ResponseType {
        /// A result, HTTP 200 (or 502 for an unhealthy `/v1/health`).
        Sync = "sync",
        /// A change was started, HTTP 202; `change` holds its ID.
        Async = "async",
        /// An error; `result` is an [`ErrorResult`].
        Error = "error",
    }
}

wire_enum! {
    /// `kind` of an API error or of a per-path file error.
    pub enum ErrorKind {
        /// 401: the connection's user may not do this.
        LoginRequired = "login-required",
        /// `autostart` with no `startup: enabled` service.
        NoDefaultServices = "no-default-services",
        /// A path (or notice, change) does not exist.
        NotFound = "not-found",
        /// The OS refused access to a path.
        PermissionDenied = "permission-denied",
        /// Any other file error.
        GenericFileError = "generic-file-error",
        /// The system is restarting (maintenance).
        SystemRestart = "system-restart",
        /// The daemon is restarting (maintenance).
        DaemonRestart = "daemon-restart",
    }
}

/// Every JSON response of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Response {
    /// `sync`, `async` or `error`.
    #[serde(rename = "type")]
    pub response_type: ResponseType,
    /// Equals the HTTP status.
    pub status_code: u16,
    /// The HTTP reason phrase.
    pub status: String,
    /// The result; absent when the handler returned nothing (`null` reads as absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The change ID (async only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// `result` of an error response, and the `error` of a per-path result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResult {
    /// What went wrong, in Pebble's words.
    pub message: String,
    /// A machine-readable kind, when Pebble gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
    /// Extra data of some kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl ErrorResult {
    /// An error result with a message and an optional kind.
    pub fn new(kind: Option<ErrorKind>, message: impl Into<String>) -> ErrorResult {
        ErrorResult {
            message: message.into(),
            kind,
            value: None,
        }
    }
}

/// The HTTP reason phrase of the status codes Pebble uses (`"OK"`, `"Accepted"`, …).
pub fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "",
    }
}

impl Response {
    /// A `sync` 200 response.
    pub fn sync(result: Option<Value>) -> Response {
        Response {
            response_type: ResponseType::Sync,
            status_code: 200,
            status: status_text(200).to_string(),
            result,
            change: None,
        }
    }

    /// An `async` 202 response for change `change`.
    pub fn accepted(change: impl Into<String>, result: Option<Value>) -> Response {
        Response {
            response_type: ResponseType::Async,
            status_code: 202,
            status: status_text(202).to_string(),
            result,
            change: Some(change.into()),
        }
    }

    /// An `error` response.
    pub fn error(status_code: u16, error: ErrorResult) -> Response {
        Response {
            response_type: ResponseType::Error,
            status_code,
            status: status_text(status_code).to_string(),
            result: serde_json::to_value(error).ok(),
            change: None,
        }
    }

    /// The error of an `error` response (a missing or malformed result gives an empty message).
    pub fn error_result(&self) -> Option<ErrorResult> {
        if self.response_type != ResponseType::Error {
            return None;
        }
        let result = self.result.clone().unwrap_or(Value::Null);
        Some(serde_json::from_value(result).unwrap_or_else(|_| ErrorResult::new(None, "")))
    }
}

/// `GET /v1/system-info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SystemInfo {
    /// Random per daemon start: a new one means Pebble restarted.
    pub boot_id: String,
    /// Pebble's version, e.g. `v1.32.1`.
    pub version: String,
    /// The HTTP address, if Pebble listens on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_address: Option<String>,
    /// The HTTPS address, if Pebble listens on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_address: Option<String>,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// False if a matching check is down.
    pub healthy: bool,
}
