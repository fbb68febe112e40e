//! `GET`/`POST /v1/identities`: named identities with an access level, kept in memory. This
//! daemon treats every local connection as admin, so identities are stored and shown but grant
//! nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::decode;
use crate::daemon::Daemon;
use crate::http::Request;
use crate::response::{ApiError, ApiResult, Reply};

const ACCESS: [&str; 4] = ["admin", "read", "metrics", "untrusted"];

/// Every identity, by name.
#[derive(Debug, Default)]
pub(crate) struct Identities {
    by_name: BTreeMap<String, Map<String, Value>>,
}

impl Identities {
    /// The map `GET /v1/identities` shows, secrets masked.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        for (name, identity) in &self.by_name {
            let mut shown = identity.clone();
            for (section, field) in [("basic", "password"), ("cert", "pem")] {
                if let Some(Value::Object(s)) = shown.get_mut(section)
                    && s.contains_key(field)
                {
                    s.insert(field.into(), Value::String("*****".into()));
                }
            }
            out.insert(name.clone(), Value::Object(shown));
        }
        Value::Object(out)
    }
}

fn validate(name: &str, identity: &Map<String, Value>) -> Result<(), ApiError> {
    let access = identity.get("access").and_then(Value::as_str).unwrap_or("");
    if !ACCESS.contains(&access) {
        return Err(ApiError::bad_request(format!(
            "identity {name:?} has invalid access {access:?}"
        )));
    }
    if !["local", "basic", "cert"]
        .iter()
        .any(|k| identity.contains_key(*k))
    {
        return Err(ApiError::bad_request(format!(
            "identity {name:?} must have at least one type (\"local\", \"basic\" or \"cert\")"
        )));
    }
    if let Some(local) = identity.get("local")
        && local.get("user-id").and_then(Value::as_u64).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "identity {name:?} local user-id must be set"
        )));
    }
    Ok(())
}

/// `POST /v1/identities`: add, update, replace or remove.
pub(crate) fn post(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        identities: Option<BTreeMap<String, Option<Map<String, Value>>>>,
    }
    let body: Body = decode(req)?;
    let action = body.action.unwrap_or_default();
    let given = body.identities.unwrap_or_default();
    d.with_state(|st| {
        let current = &mut st.identities.by_name;
        match action.as_str() {
            "add" | "update" => {
                for (name, identity) in &given {
                    let Some(identity) = identity else {
                        return Err(ApiError::bad_request(format!(
                            "identity {name:?} cannot be null for {action} action"
                        )));
                    };
                    validate(name, identity)?;
                    let exists = current.contains_key(name);
                    if action == "add" && exists {
                        return Err(ApiError::bad_request(format!(
                            "identity {name:?} already exists"
                        )));
                    }
                    if action == "update" && !exists {
                        return Err(ApiError::bad_request(format!(
                            "identity {name:?} does not exist"
                        )));
                    }
                }
                for (name, identity) in given {
                    if let Some(identity) = identity {
                        current.insert(name, identity);
                    }
                }
            }
            "replace" => {
                for (name, identity) in &given {
                    if let Some(identity) = identity {
                        validate(name, identity)?;
                    }
                }
                for (name, identity) in given {
                    match identity {
                        Some(i) => {
                            current.insert(name, i);
                        }
                        None => {
                            current.remove(&name);
                        }
                    }
                }
            }
            "remove" => {
                for (name, identity) in &given {
                    if identity.is_some() {
                        return Err(ApiError::bad_request(format!(
                            "identity {name:?} value must be null for remove action"
                        )));
                    }
                    if !current.contains_key(name) {
                        return Err(ApiError::bad_request(format!(
                            "identity {name:?} does not exist"
                        )));
                    }
                }
                for name in given.keys() {
                    current.remove(name);
                }
            }
            other => return Err(ApiError::bad_request(format!("invalid action {other:?}"))),
        }
        Ok(Reply::SyncEmpty)
    })
}
