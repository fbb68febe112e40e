//! Routing of `/v1/...` requests to their handlers, and the handlers of system-info, changes,
//! notices and identities.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::changes::Status;
use crate::daemon::Daemon;
use crate::http::{Conn, Request};
use crate::notices::{self, Filter};
use crate::response::{ApiError, ApiResult, Reply};
use crate::{checks, duration, exec, files, identities, planstate, services, timefmt};

/// The longest any request may wait (a change, notices), whatever it asks for.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Routes one request.
pub(crate) fn route(d: &Arc<Daemon>, req: &Request, conn: &Conn) -> ApiResult {
    let path = req.path.trim_end_matches('/');
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let m = req.method.as_str();
    let not_allowed = || Err(ApiError::new(405, format!("method {m:?} not allowed")));
    match segs.as_slice() {
        ["v1", "system-info"] => match m {
            "GET" => Ok(Reply::Sync(
                json!({"boot-id": d.boot_id, "version": d.opts.version}),
            )),
            _ => not_allowed(),
        },
        ["v1", "health"] => match m {
            "GET" => checks::health(d, req),
            _ => not_allowed(),
        },
        ["v1", "changes"] => match m {
            "GET" => get_changes(d, req),
            _ => not_allowed(),
        },
        ["v1", "changes", id] => match m {
            "GET" => get_change(d, id),
            "POST" => abort_change(d, id, req),
            _ => not_allowed(),
        },
        ["v1", "changes", id, "wait"] => match m {
            "GET" => wait_change(d, id, req, conn),
            _ => not_allowed(),
        },
        ["v1", "services"] => match m {
            "GET" => services::get(d, req),
            "POST" => services::post(d, req),
            _ => not_allowed(),
        },
        ["v1", "services", _] => match m {
            "GET" | "POST" => Err(ApiError::bad_request("not implemented")),
            _ => not_allowed(),
        },
        ["v1", "plan"] => match m {
            "GET" => planstate::get_plan(d, req),
            _ => not_allowed(),
        },
        ["v1", "layers"] => match m {
            "POST" => planstate::post_layers(d, req),
            _ => not_allowed(),
        },
        ["v1", "files"] => match m {
            "GET" => files::get(&d.root, req, d.opts.max_body),
            "POST" => files::post(&d.root, req),
            _ => not_allowed(),
        },
        ["v1", "exec"] => match m {
            "POST" => exec::post(d, req),
            _ => not_allowed(),
        },
        ["v1", "tasks", task_id, "websocket", ws_id] => match m {
            "GET" => websocket(d, req, task_id, ws_id),
            _ => not_allowed(),
        },
        ["v1", "signals"] => match m {
            "POST" => services::post_signals(d, req),
            _ => not_allowed(),
        },
        ["v1", "checks"] => match m {
            "GET" => checks::get(d, req),
            "POST" => checks::post(d, req),
            _ => not_allowed(),
        },
        ["v1", "checks", "refresh"] => match m {
            "POST" => checks::refresh(d, req),
            _ => not_allowed(),
        },
        ["v1", "notices"] => match m {
            "GET" => get_notices(d, req, conn),
            "POST" => post_notice(d, req),
            _ => not_allowed(),
        },
        ["v1", "notices", id] => match m {
            "GET" => get_notice(d, id),
            _ => not_allowed(),
        },
        ["v1", "identities"] => match m {
            "GET" => Ok(Reply::Sync(d.with_state(|st| st.identities.to_json()))),
            "POST" => identities::post(d, req),
            _ => not_allowed(),
        },
        _ => Err(ApiError::not_found("invalid API endpoint requested")),
    }
}

/// Decodes a JSON body leniently (unknown fields ignored, `null` is absent).
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(req: &Request) -> Result<T, ApiError> {
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("cannot decode request body: {e}")))
}

/// A Go duration query parameter (`timeout`); empty is `None`.
pub(crate) fn timeout_param(req: &Request) -> Result<Option<Duration>, ApiError> {
    match req.query("timeout").filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => duration::parse(t)
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("invalid timeout: {e}"))),
    }
}

fn websocket(d: &Arc<Daemon>, req: &Request, task_id: &str, ws_id: &str) -> ApiResult {
    let upgrade = req
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let key = req.header("sec-websocket-key").unwrap_or("");
    if !upgrade || key.is_empty() {
        return Err(ApiError::bad_request(
            "websocket: the client is not using the websocket protocol",
        ));
    }
    exec::claim(d, task_id, ws_id)?;
    Ok(Reply::Websocket {
        task_id: task_id.to_string(),
        ws_id: ws_id.to_string(),
    })
}

// Changes.

fn get_changes(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    let select = req
        .query("select")
        .filter(|s| !s.is_empty())
        .unwrap_or("in-progress");
    let want: fn(bool) -> bool = match select {
        "all" => |_| true,
        "in-progress" => |ready| !ready,
        "ready" => |ready| ready,
        _ => {
            return Err(ApiError::bad_request(
                "select should be one of: all,in-progress,ready",
            ));
        }
    };
    let service = req
        .query("for")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let list = d.with_state(|st| {
        st.changes
            .all()
            .filter(|c| want(st.changes.status(c).ready()))
            .filter(|c| service.as_ref().is_none_or(|s| c.service_names.contains(s)))
            .map(|c| st.changes.to_json(c))
            .collect::<Vec<Value>>()
    });
    Ok(Reply::Sync(Value::Array(list)))
}

fn change_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("cannot find change with id {id:?}"))
}

fn get_change(d: &Arc<Daemon>, id: &str) -> ApiResult {
    d.with_state(|st| st.changes.change(id).map(|c| st.changes.to_json(c)))
        .map(Reply::Sync)
        .ok_or_else(|| change_not_found(id))
}

fn abort_change(d: &Arc<Daemon>, id: &str, req: &Request) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        action: Option<String>,
    }
    if d.with_state(|st| st.changes.change(id).is_none()) {
        return Err(change_not_found(id));
    }
    let body: Body = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("cannot decode data from request body: {e}")))?;
    let action = body.action.unwrap_or_default();
    if action != "abort" {
        return Err(ApiError::bad_request(format!("invalid action {action:?}")));
    }
    let aborted = d.with_state(|st| {
        let change = st.changes.change(id)?.clone();
        if st.changes.status(&change).ready() {
            return Some(Err(ApiError::bad_request(format!(
                "cannot abort change {id} with nothing pending"
            ))));
        }
        let mut running = Vec::new();
        for t in &change.task_ids {
            match st.changes.task(t).map(|t| t.status) {
                Some(Status::Do) => st.set_task_status(t, Status::Hold),
                Some(Status::Doing) => {
                    st.set_task_status(t, Status::Abort);
                    running.push(t.clone());
                }
                _ => {}
            }
        }
        let shown = st.changes.change(id).map(|c| st.changes.to_json(c));
        Some(Ok((running, shown.unwrap_or(Value::Null))))
    });
    let (running, shown) = aborted.ok_or_else(|| change_not_found(id))??;
    for task in running {
        exec::abort(d, &task);
    }
    Ok(Reply::Sync(shown))
}

fn wait_change(d: &Arc<Daemon>, id: &str, req: &Request, conn: &Conn) -> ApiResult {
    if d.with_state(|st| st.changes.change(id).is_none()) {
        return Err(change_not_found(id));
    }
    let timeout = timeout_param(req)?;
    let limit = timeout.unwrap_or(MAX_WAIT).min(MAX_WAIT);
    let deadline = Instant::now() + limit;
    let shown = d.wait_for(
        deadline,
        |st| match st.changes.change(id) {
            None => Some(None),
            Some(c) if st.changes.status(c).ready() => Some(Some(st.changes.to_json(c))),
            Some(_) => None,
        },
        || conn.peer_gone() || d.stopping(),
    );
    match shown {
        Some(Some(v)) => Ok(Reply::Sync(v)),
        Some(None) => Err(change_not_found(id)),
        None if Instant::now() >= deadline => Err(ApiError::new(
            504,
            format!(
                "timed out waiting for change after {}",
                duration::format(limit)
            ),
        )),
        None => Err(ApiError::internal("request cancelled")),
    }
}

// Notices.

fn get_notices(d: &Arc<Daemon>, req: &Request, conn: &Conn) -> ApiResult {
    let has_users = req.query("users").is_some();
    let has_user_id = req.query("user-id").is_some();
    if has_users && has_user_id {
        return Err(ApiError::bad_request(
            "cannot use both \"users\" and \"user-id\" parameters",
        ));
    }
    let user_id = if has_users {
        if req.query("users") != Some("all") {
            return Err(ApiError::bad_request(
                "invalid \"users\" filter: must be \"all\"",
            ));
        }
        None
    } else if has_user_id {
        let ids = req.query_list("user-id");
        if ids.len() != 1 {
            return Err(ApiError::bad_request(
                "invalid \"user-id\" filter: must only include one \"user-id\"",
            ));
        }
        let id: u32 = ids[0].parse().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid \"user-id\" filter: user ID is not a valid uint32: {}",
                ids[0]
            ))
        })?;
        Some(id)
    } else {
        Some(req.peer_uid.ok_or_else(|| {
            ApiError::new(
                403,
                "cannot determine UID of request, so cannot retrieve notices",
            )
        })?)
    };
    let asked_types = req.query_list("types");
    let types: Vec<String> = asked_types
        .iter()
        .filter(|t| notices::TYPES.contains(&t.as_str()))
        .cloned()
        .collect();
    if !asked_types.is_empty() && types.is_empty() {
        return Ok(Reply::Sync(json!([])));
    }
    let after = match req.query("after").filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(timefmt::parse_rfc3339(a).ok_or_else(|| {
            ApiError::bad_request(format!("invalid \"after\" timestamp: cannot parse {a:?}"))
        })?),
    };
    let filter = Filter {
        user_id,
        types,
        keys: req.query_list("keys"),
        after,
    };
    let timeout = timeout_param(req)?;
    let query = |st: &mut crate::daemon::State| -> Vec<Value> {
        st.notices
            .query(&filter, SystemTime::now())
            .into_iter()
            .map(notices::Notice::to_json)
            .collect()
    };
    let list = match timeout.filter(|t| !t.is_zero()) {
        None => d.with_state(query),
        Some(t) => {
            let deadline = Instant::now() + t.min(MAX_WAIT);
            let gone = || conn.peer_gone();
            let found = d.wait_for(
                deadline,
                |st| Some(query(st)).filter(|l| !l.is_empty()),
                || gone() || d.stopping(),
            );
            match found {
                Some(l) => l,
                None if Instant::now() < deadline && gone() => {
                    return Err(ApiError::bad_request("request canceled"));
                }
                None => Vec::new(),
            }
        }
    };
    Ok(Reply::Sync(Value::Array(list)))
}

/// Largest `data` of a custom notice, in bytes of JSON.
const MAX_NOTICE_DATA: usize = 4 * 1024;
/// Longest custom notice key.
const MAX_NOTICE_KEY: usize = 256;

fn post_notice(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        action: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        key: Option<String>,
        #[serde(default, rename = "repeat-after")]
        repeat_after: Option<String>,
        #[serde(default)]
        data: Option<Value>,
    }
    let uid = req.peer_uid.ok_or_else(|| {
        ApiError::new(
            403,
            "cannot determine UID of request, so cannot create notice",
        )
    })?;
    let body: Body = decode(req)?;
    let action = body.action.unwrap_or_default();
    if action != "add" {
        return Err(ApiError::bad_request(format!("invalid action {action:?}")));
    }
    let kind = body.kind.unwrap_or_default();
    if kind != "custom" {
        return Err(ApiError::bad_request(format!(
            "invalid type {kind:?} (can only add \"custom\" notices)"
        )));
    }
    let key = body.key.unwrap_or_default();
    if !notices::valid_custom_key(&key) {
        return Err(ApiError::bad_request(format!(
            "invalid key {key:?} (must be in \"example.com/path\" format)"
        )));
    }
    if key.len() > MAX_NOTICE_KEY {
        return Err(ApiError::bad_request(format!(
            "key must be {MAX_NOTICE_KEY} bytes or less"
        )));
    }
    let repeat_after = match body.repeat_after.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(
            duration::parse(r)
                .map_err(|e| ApiError::bad_request(format!("invalid repeat-after: {e}")))?,
        ),
    };
    let data: BTreeMap<String, String> = match body.data {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => {
            if serde_json::to_vec(&v).map_or(0, |b| b.len()) > MAX_NOTICE_DATA {
                return Err(ApiError::bad_request(format!(
                    "total size of data must be {MAX_NOTICE_DATA} bytes or less"
                )));
            }
            serde_json::from_value(v)
                .map_err(|e| ApiError::bad_request(format!("cannot decode notice data: {e}")))?
        }
    };
    let recorded = d.with_state(|st| st.record_custom_notice(Some(uid), &key, data, repeat_after));
    Ok(Reply::Sync(json!({"id": recorded.id.to_string()})))
}

fn get_notice(d: &Arc<Daemon>, id: &str) -> ApiResult {
    d.with_state(|st| {
        st.notices
            .get(id, SystemTime::now())
            .map(notices::Notice::to_json)
    })
    .map(Reply::Sync)
    .ok_or_else(|| ApiError::not_found(format!("cannot find notice with ID {id:?}")))
}
