//! The JSON envelope every answer is wrapped in (`type`, `status-code`, `status`, `result`,
//! `change`) and the API error with its status code and `kind`.

use serde_json::{Map, Value, json};

use crate::http::{HttpResponse, reason};

/// What a handler answers.
#[derive(Debug)]
pub(crate) enum Reply {
    /// `type: sync`, HTTP 200, with a result.
    Sync(Value),
    /// `type: sync` with another status code (`/v1/health` answers 502 when unhealthy).
    SyncStatus(u16, Value),
    /// `type: sync`, HTTP 200, `result` omitted (a nil result in Pebble).
    SyncEmpty,
    /// `type: async`, HTTP 202, naming the change; exec also sends a result.
    Async {
        change: String,
        result: Option<Value>,
    },
    /// A non-JSON body (the multipart answer of a pull).
    Raw(HttpResponse),
    /// Switch the connection to a websocket of an exec task.
    Websocket { task_id: String, ws_id: String },
}

/// An error answer: `type: error` with `result: {message, kind?, value?}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub message: String,
    pub kind: Option<&'static str>,
    pub value: Option<Value>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            kind: None,
            value: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }

    /// 500 Internal Server Error.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, message)
    }

    /// The same error with a `kind`.
    pub fn kind(mut self, kind: &'static str) -> ApiError {
        self.kind = Some(kind);
        self
    }
}

/// What a handler returns.
pub(crate) type ApiResult = Result<Reply, ApiError>;

/// The envelope of a sync or async answer.
pub(crate) fn envelope(
    kind: &str,
    status: u16,
    result: Option<Value>,
    change: Option<&str>,
) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m.insert("status-code".into(), json!(status));
    m.insert("status".into(), json!(reason(status)));
    if let Some(r) = result {
        m.insert("result".into(), r);
    }
    if let Some(c) = change {
        m.insert("change".into(), json!(c));
    }
    Value::Object(m)
}

/// The envelope of an error.
pub(crate) fn error_envelope(err: &ApiError) -> Value {
    let mut result = Map::new();
    result.insert("message".into(), json!(err.message));
    if let Some(k) = err.kind {
        result.insert("kind".into(), json!(k));
    }
    if let Some(v) = &err.value {
        result.insert("value".into(), v.clone());
    }
    envelope("error", err.status, Some(Value::Object(result)), None)
}

/// The HTTP response of a JSON envelope.
pub(crate) fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        content_type: "application/json".into(),
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

impl From<ApiError> for HttpResponse {
    fn from(err: ApiError) -> HttpResponse {
        json_response(err.status, &error_envelope(&err))
    }
}

#[cfg(test)]
#[path = "response_test.rs"]
mod tests;
