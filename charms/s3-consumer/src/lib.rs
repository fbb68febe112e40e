//! `s3-consumer`: a sample requirer of the `s3` interface.
//!
//! - The leader asks for the bucket and path named by the `bucket` and `path` options, on join, on
//!   election and whenever an option changes (one `reconcile`). It speaks s3 v1 (credentials in a
//!   secret) and falls back to v0 per relation: with a v0 provider and no `bucket` option it asks
//!   for `relation-<id>`.
//! - Every unit shows in its status which bucket at which endpoint it has credentials for, or what
//!   it still waits for; bad data from the provider blocks the unit with the offending key named.
//! - Action `get-credentials-info` shows the connection info with the credentials redacted.

use charm::{ActionEvent, Charm, Ctx, Error, Outcome, Status, StatusCollector};
use s3::{ConnectionState, CredentialsChanged, CredentialsGone, S3Requirer};
use serde::Deserialize;

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
/// `actions.yaml`.
pub const ACTIONS: &str = include_str!("../actions.yaml");

/// The `s3` endpoint.
pub const ENDPOINT: &str = "s3-credentials";
/// What stands in for a credential in action output.
pub const REDACTED: &str = "<redacted>";

/// The charm's config.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The bucket to ask for (`""`: none, or `relation-<id>` from a v0 provider).
    pub bucket: String,
    /// The path (prefix) inside the bucket to ask for (`""`: none; v1 providers only).
    pub path: String,
}

/// The requirer, asking for the configured bucket and path.
pub fn requirer() -> S3Requirer {
    S3Requirer::new(ENDPOINT)
        .bucket_with(|ctx, _relation| {
            let config: Config = ctx.config()?;
            Ok(Some(config.bucket))
        })
        .path_with(|ctx, _relation| {
            let config: Config = ctx.config()?;
            Ok(Some(config.path))
        })
}

fn reconcile(ctx: &mut Ctx<'_>) -> Result<(), Error> {
    requirer().request_buckets(ctx)
}

fn on_credentials(_ctx: &mut Ctx<'_>, event: &CredentialsChanged) -> Result<(), Error> {
    let endpoint = event.endpoint.as_deref().unwrap_or("the default endpoint");
    tracing::info!("workload now uses bucket {} at {endpoint}", event.bucket);
    Ok(())
}

fn on_gone(_ctx: &mut Ctx<'_>, event: &CredentialsGone) -> Result<(), Error> {
    tracing::info!(
        "workload stops using S3 (relation {} removed)",
        event.relation
    );
    Ok(())
}

fn status(ctx: &mut Ctx<'_>, statuses: &mut StatusCollector) -> Result<(), Error> {
    let requirer = requirer();
    let Some(relation) = requirer.relations(ctx)?.into_iter().next() else {
        statuses.add_unit(Status::blocked(format!("missing relation: {ENDPOINT}")));
        return Ok(());
    };
    let state = match requirer.connection_state(ctx, &relation) {
        Ok(state) => state,
        Err(e) if charm::Classify::outcome(&e) == Outcome::Fail => return Err(e.into()),
        Err(e) if charm::Classify::outcome(&e) == Outcome::Waiting => {
            statuses.add_unit(Status::waiting(e.to_string()));
            return Ok(());
        }
        Err(e) => {
            statuses.add_unit(Status::blocked(e.to_string()));
            return Ok(());
        }
    };
    match state {
        ConnectionState::Incomplete { missing } => {
            let app = ctx
                .remote_app(&relation)?
                .unwrap_or_else(|| "the provider".into());
            let names: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
            statuses.add_unit(Status::waiting(format!(
                "waiting for S3 credentials from {app} (missing {})",
                names.join(", ")
            )));
        }
        ConnectionState::Ready(info) => {
            let endpoint = info.endpoint.as_deref().unwrap_or("the default endpoint");
            let note = match requirer.chosen_bucket(ctx, &relation)? {
                Some(asked) if asked != info.bucket => format!(" (asked for {asked})"),
                _ => String::new(),
            };
            let bucket = if info.bucket.is_empty() {
                "no bucket".to_string()
            } else {
                format!("bucket {}", info.bucket)
            };
            let path = info
                .path
                .as_deref()
                .map(|p| format!(" path {p}"))
                .unwrap_or_default();
            statuses.add_unit(Status::active(format!(
                "credentials for {bucket}{path} at {endpoint}{note}"
            )));
        }
    }
    Ok(())
}

fn credentials_info(ctx: &mut Ctx<'_>, _action: &ActionEvent) -> Result<(), Error> {
    let requirer = requirer();
    let Some(relation) = requirer.relations(ctx)?.into_iter().next() else {
        return Err(Error::blocked(format!("no {ENDPOINT} relation")));
    };
    // Malformed provider data is a Blocked error: it fails the action with its message.
    match requirer.connection_state(ctx, &relation)? {
        ConnectionState::Ready(info) => {
            let mut shown = info
                .to_bag()
                .map_err(|e| Error::fail(format!("cannot encode the connection info: {e}")))?;
            // A v1 provider may name no bucket: show what was given.
            shown.retain(|_, v| !v.is_empty());
            shown.insert("access-key".into(), REDACTED.into());
            shown.insert("secret-key".into(), REDACTED.into());
            shown.insert("relation".into(), relation.to_string());
            if let Some(app) = ctx.remote_app(&relation)? {
                shown.insert("provider".into(), app);
            }
            ctx.action_set(&serde_json::json!(shown))?;
        }
        ConnectionState::Incomplete { missing } => {
            let names: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
            return Err(Error::waiting(format!(
                "no usable credentials yet (missing {})",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// The charm: the s3 requirer library, one reconcile, a status and one action.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .metadata(METADATA_JSON)
        .plugin(requirer())
        .on_event(on_credentials)
        .on_event(on_gone)
        .reconcile(reconcile)
        .collect_status(status)
        .action("get-credentials-info", credentials_info);
    charm
}
