//! `cephfs-server-proxy`: shares a CephFS filesystem that Juju does not manage.
//!
//! - Config `fsid`, `sharepoint` (`<name>:<path>`) and `monitor-hosts` describe the share.
//! - The `set-auth` action (leader only) stores the cephx user and key in an app-owned secret
//!   labelled `cephx-auth`; they never go to config, logs, action output or status. The Python
//!   proxy's `auth-info` option (`<user>:<key>`) is also accepted and, when set, takes precedence.
//! - Every client that requests a share on `cephfs-share` gets the share info and its own auth
//!   secret (the `cephfs_interfaces` provider). Requests are served as they arrive, and every
//!   relation is served again when the config or the credentials change, or leadership moves.
//! - Every client on `filesystem` gets the `cephfs://` endpoint URI (the `filesystem_info`
//!   provider: one secret labelled `auth`, the URI kept in the `server-peers` relation). It is
//!   published when the first such client joins and again on every change, so a deployment
//!   without `filesystem` clients holds no `auth` secret.
//! - The unit is Blocked, naming what is missing or malformed, until config and credentials are
//!   complete; nothing already sent to clients is withdrawn because of a bad new config.

use cephfs_interfaces::{AuthInfo, CephFsProvider, ShareInfo, ShareRequested, prune_revision};
use charm::secret::{NewSecret, SecretOwner, SecretRead, SecretUpdate};
use charm::{
    ActionEvent, Charm, Ctx, Error, Event, EventKind, HookToolError, ModelError, Outcome,
    RelationEvent, RelationId, SecretEvent, Status, StatusCollector,
};
use filesystem_info::{CephfsInfo, FilesystemInfo, FilesystemProvider, Key};
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
/// The endpoint `cephfs_share` clients relate to.
pub const ENDPOINT: &str = "cephfs-share";
/// The endpoint `filesystem_info` clients relate to.
pub const FILESYSTEM: &str = "filesystem";
/// The peer relation holding the published `filesystem_info` endpoint.
pub const PEERS: &str = "server-peers";
/// Label of the app-owned secret holding the cephx credentials given with `set-auth`.
pub const AUTH_LABEL: &str = "cephx-auth";
/// What `juju status` says while no credentials were given.
pub const NO_AUTH: &str =
    "no cephx credentials: run the set-auth action on the leader (username, key)";

/// The config as Juju gives it (options without a default are absent until set).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawConfig {
    fsid: Option<String>,
    sharepoint: Option<String>,
    monitor_hosts: Option<String>,
    auth_info: Option<String>,
}

fn provider() -> CephFsProvider {
    CephFsProvider::new(ENDPOINT)
}

fn filesystem() -> FilesystemProvider {
    FilesystemProvider::new(FILESYSTEM, PEERS)
}

/// What `auth-info` must look like; the value itself is never shown (it holds the key).
const AUTH_INFO_FORMAT: &str =
    "auth-info must be <ceph user>:<base64 cephx key> (the value is not shown)";

/// The `auth-info` option: `None` when unset, `Err` (never echoing it) when malformed.
fn config_auth(raw: Option<&str>) -> Result<Option<AuthInfo>, &'static str> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match text.split_once(':') {
        Some((user, key)) if valid_username(user) && valid_key(key) => {
            Ok(Some(AuthInfo::new(user, key)))
        }
        _ => Err(AUTH_INFO_FORMAT),
    }
}

/// The share described by the config; a Blocked error names every missing or malformed option.
pub fn share_from_config(ctx: &mut Ctx) -> Result<ShareInfo, Error> {
    let raw: RawConfig = ctx.config()?;
    let set = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let mut problems = Vec::new();
    let fsid = set(raw.fsid);
    if fsid.is_none() {
        problems.push("fsid is not set".to_string());
    } else if fsid
        .as_deref()
        .is_some_and(|f| f.contains(char::is_whitespace))
    {
        problems.push("fsid must not contain spaces".to_string());
    }
    let sharepoint = match set(raw.sharepoint) {
        None => {
            problems.push("sharepoint is not set".to_string());
            None
        }
        Some(text) => match text.split_once(':') {
            Some((name, path)) if !name.is_empty() && path.starts_with('/') => {
                Some((name.to_string(), path.to_string()))
            }
            _ => {
                problems.push(format!(
                    "sharepoint must be <filesystem name>:<absolute path> (got {text:?})"
                ));
                None
            }
        },
    };
    let monitors: Vec<String> = match set(raw.monitor_hosts) {
        None => {
            problems.push("monitor-hosts is not set".to_string());
            Vec::new()
        }
        Some(text) => {
            let hosts: Vec<String> = text.split_whitespace().map(str::to_string).collect();
            if hosts.iter().any(|h| h.contains(',')) {
                problems.push(format!(
                    "monitor-hosts must be separated by spaces, not commas (got {text:?})"
                ));
            }
            hosts
        }
    };
    if let Err(problem) = config_auth(raw.auth_info.as_deref()) {
        problems.push(problem.to_string());
    }
    match (fsid, sharepoint) {
        (Some(fsid), Some((name, path))) if problems.is_empty() => Ok(ShareInfo {
            fsid,
            name,
            path,
            monitor_hosts: monitors,
        }),
        _ => Err(Error::blocked(format!("config: {}", problems.join("; ")))),
    }
}

/// The credentials `set-auth` stored in this dispatch: what the status then reports on, without
/// reading back the secret it just wrote.
#[derive(Default)]
struct JustStored(Option<AuthInfo>);

/// The credentials given with `set-auth`, if any.
pub fn stored_auth(ctx: &mut Ctx) -> Result<Option<AuthInfo>, Error> {
    if let Some(auth) = &ctx.scratch::<JustStored>().0 {
        return Ok(Some(auth.clone()));
    }
    match ctx.get_secret(None, Some(AUTH_LABEL), SecretRead::Peek) {
        Ok(content) => AuthInfo::from_secret_content(&content)
            .map(Some)
            .map_err(|e| {
                Error::blocked(format!(
                    "the {AUTH_LABEL} secret is unusable ({e}): run the set-auth action again"
                ))
            }),
        Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The credentials to serve: the `auth-info` option when set, else what `set-auth` stored.
pub fn credentials(ctx: &mut Ctx) -> Result<Option<AuthInfo>, Error> {
    let raw: RawConfig = ctx.config()?;
    match config_auth(raw.auth_info.as_deref()) {
        Ok(Some(auth)) => Ok(Some(auth)),
        Ok(None) => stored_auth(ctx),
        Err(problem) => Err(Error::blocked(format!("config: {problem}"))),
    }
}

/// Share and credentials when both are complete; `None` (and a log line) otherwise.
fn ready(ctx: &mut Ctx) -> Result<Option<(ShareInfo, AuthInfo)>, Error> {
    let share = match share_from_config(ctx) {
        Ok(share) => share,
        Err(e) if e.outcome() == Outcome::Blocked => {
            tracing::info!("not serving CephFS shares yet: {e}");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let Some(auth) = credentials(ctx)? else {
        tracing::info!("not serving CephFS shares yet: {NO_AUTH}");
        return Ok(None);
    };
    Ok(Some((share, auth)))
}

/// Serves every request (or the one on `only`); returns how many relations were served.
fn serve(
    ctx: &mut Ctx,
    share: &ShareInfo,
    auth: &AuthInfo,
    only: Option<&RelationId>,
) -> Result<usize, Error> {
    let provider = provider();
    let mut served = 0;
    for request in provider.requests(ctx)? {
        if only.is_some_and(|r| *r != request.relation) {
            continue;
        }
        if provider.set_share(ctx, &request.relation, share, auth)? {
            served += 1;
        }
    }
    Ok(served)
}

/// The `filesystem_info` view of the share.
fn filesystem_info(share: &ShareInfo, auth: &AuthInfo) -> FilesystemInfo {
    FilesystemInfo::Cephfs(CephfsInfo {
        fsid: share.fsid.clone(),
        name: share.name.clone(),
        path: share.path.clone(),
        monitor_hosts: share.monitor_hosts.clone(),
        user: auth.username.clone(),
        key: Key::new(auth.key.clone()),
    })
}

/// Publishes the share on `filesystem` once a client is (or was) there; returns whether it did.
fn publish(ctx: &mut Ctx, share: &ShareInfo, auth: &AuthInfo) -> Result<bool, Error> {
    let fs = filesystem();
    if fs.relations(ctx)?.is_empty() && fs.published(ctx)?.is_none() {
        return Ok(false);
    }
    Ok(fs.set_info(ctx, &filesystem_info(share, auth))?)
}

/// config-changed, leader-elected, upgrade-charm: the leader serves every relation again.
fn serve_all(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
    if !ctx.is_leader()? {
        return Ok(());
    }
    if let Some((share, auth)) = ready(ctx)? {
        let served = serve(ctx, &share, &auth, None)?;
        tracing::debug!(
            "serving {}:{} on {served} relations",
            share.name,
            share.path
        );
        publish(ctx, &share, &auth)?;
    }
    Ok(())
}

/// `filesystem` relation-joined: the first client gets the share published (later ones get
/// the stored URI from the library).
fn on_filesystem_joined(ctx: &mut Ctx, _event: &RelationEvent) -> Result<(), Error> {
    if !ctx.is_leader()? || filesystem().published(ctx)?.is_some() {
        return Ok(());
    }
    if let Some((share, auth)) = ready(ctx)? {
        publish(ctx, &share, &auth)?;
    }
    Ok(())
}

fn on_share_requested(ctx: &mut Ctx, request: &ShareRequested) -> Result<(), Error> {
    tracing::info!(
        relation = %request.relation,
        "{} requested the CephFS share {:?}",
        request.remote_app.as_deref().unwrap_or("a client"),
        request.name
    );
    if let Some((share, auth)) = ready(ctx)? {
        serve(ctx, &share, &auth, Some(&request.relation))?;
    }
    Ok(())
}

/// A Ceph user name: letters, digits, `.`, `_` and `-`.
fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A cephx key: base64 text.
fn valid_key(key: &str) -> bool {
    key.len() >= 4
        && key.len() <= 1024
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// Reads the action parameters without ever echoing the key.
fn auth_params(params: &serde_json::Value) -> Result<AuthInfo, &'static str> {
    let username = params
        .get("username")
        .and_then(serde_json::Value::as_str)
        .ok_or("parameter username is required")?;
    let key = params
        .get("key")
        .and_then(serde_json::Value::as_str)
        .ok_or("parameter key is required")?;
    if !valid_username(username) {
        return Err(
            "parameter username must be a Ceph user name (letters, digits, '.', '_' and '-')",
        );
    }
    if !valid_key(key) {
        return Err("parameter key must be a base64 cephx key");
    }
    Ok(AuthInfo::new(username, key))
}

/// Creates the credentials secret, or gives it a new revision.
fn store_auth(ctx: &mut Ctx, auth: &AuthInfo) -> Result<(), Error> {
    match ctx.secret_info(None, Some(AUTH_LABEL)) {
        Ok(info) => {
            let update = SecretUpdate {
                content: Some(auth.to_secret_content()),
                ..SecretUpdate::default()
            };
            ctx.set_secret(&info.id, &update)?;
        }
        Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => {
            ctx.add_secret(&NewSecret {
                content: auth.to_secret_content(),
                label: Some(AUTH_LABEL.to_string()),
                description: Some("cephx user and key served to CephFS clients".to_string()),
                owner: SecretOwner::Application,
                ..NewSecret::default()
            })?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Action `set-auth username=<user> key=<key>`.
fn set_auth(ctx: &mut Ctx, _action: &ActionEvent) -> Result<(), Error> {
    if !ctx.is_leader()? {
        let message = format!(
            "set-auth must run on the leader unit; {} is not the leader",
            ctx.unit_name()
        );
        ctx.action_fail(&message)?;
        return Ok(());
    }
    let raw: RawConfig = ctx.config()?;
    if raw
        .auth_info
        .as_deref()
        .is_some_and(|a| !a.trim().is_empty())
    {
        ctx.action_fail(
            "the auth-info option is set and takes precedence: unset it (juju config --reset auth-info) to manage the credentials with set-auth",
        )?;
        return Ok(());
    }
    let params: serde_json::Value = ctx.action_params()?;
    let auth = match auth_params(&params) {
        Ok(auth) => auth,
        Err(message) => {
            ctx.action_fail(message)?;
            return Ok(());
        }
    };
    store_auth(ctx, &auth)?;
    ctx.scratch::<JustStored>().0 = Some(auth.clone());
    tracing::info!("stored cephx credentials for user {}", auth.username);
    let served = match share_from_config(ctx) {
        Ok(share) => {
            publish(ctx, &share, &auth)?;
            serve(ctx, &share, &auth, None)?
        }
        Err(e) if e.outcome() == Outcome::Blocked => {
            ctx.action_log(&format!("credentials stored; not serving yet: {e}"))?;
            0
        }
        Err(e) => return Err(e),
    };
    ctx.action_set(&serde_json::json!({
        "username": auth.username,
        "served-relations": served,
    }))?;
    Ok(())
}

/// secret-remove for the credentials secret (the library prunes its own secrets).
fn prune_own(ctx: &mut Ctx, event: &SecretEvent) -> Result<(), Error> {
    prune_revision(ctx, event, |label| label == AUTH_LABEL)?;
    Ok(())
}

/// Config problems on every unit; missing credentials on the leader, the one unit that serves
/// clients and can run `set-auth` (followers do not read the secret at all).
fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let share = share_from_config(ctx)?;
    if ctx.is_leader()? && credentials(ctx)?.is_none() {
        statuses.add_unit(Status::blocked(NO_AUTH));
        return Ok(());
    }
    statuses.add_unit(Status::active(format!(
        "sharing {}:{}",
        share.name, share.path
    )));
    Ok(())
}

/// The charm: the provider plugin, handlers, the action and the status.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .metadata(METADATA_JSON)
        .plugin(provider())
        .plugin(filesystem())
        .on_event(on_share_requested)
        .on(
            EventKind::RelationJoined.on(FILESYSTEM),
            on_filesystem_joined,
        )
        .on(EventKind::ConfigChanged, serve_all)
        .on(EventKind::LeaderElected, serve_all)
        .on(EventKind::UpgradeCharm, serve_all)
        .on(EventKind::SecretRemove, prune_own)
        .action("set-auth", set_auth)
        .collect_status(status);
    charm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_checked_without_echo() {
        let ok = serde_json::json!({"username": "client.fs-1", "key": "R//appdqz4NP4Bxcc5XWrg=="});
        assert_eq!(auth_params(&ok).unwrap().username, "client.fs-1");
        for (params, expected) in [
            (serde_json::json!({"key": "abcd"}), "username is required"),
            (serde_json::json!({"username": "u"}), "key is required"),
            (
                serde_json::json!({"username": "a,b", "key": "abcd"}),
                "must be a Ceph user name",
            ),
            (
                serde_json::json!({"username": "u", "key": "not a key!"}),
                "must be a base64 cephx key",
            ),
            (
                serde_json::json!({"username": "u", "key": 12345}),
                "key is required",
            ),
        ] {
            let err = auth_params(&params).unwrap_err();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains("not a key!"));
        }
    }
}
