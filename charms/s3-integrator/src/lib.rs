//! `s3-integrator`: the provider of the `s3` interface, in Rust.
//!
//! - The credentials come, as in the Python charm's 2/ track, from the `credentials` option: the
//!   URI of a user secret holding `access-key` and `secret-key`, which the operator creates
//!   (`juju add-secret`) and grants to the application (`juju grant-secret`); a new revision of it
//!   is sent on at once (`secret-changed`). Without that option (deployments of the 1/ track), the
//!   `sync-s3-credentials` action (leader only) stores them in a Juju secret owned by the
//!   application (label [`CREDENTIALS_LABEL`]). They are never in logs, statuses or the output of
//!   any action but `get-s3-credentials`, whose purpose is to return them.
//! - Each relation speaks what its requirer speaks (the `s3` library): v1 requirers get the
//!   credentials in a secret of their own, v0 requirers in plain relation data.
//! - The connection options come from config ([`options`]): `tls-ca-chain` is base64 of a PEM
//!   bundle, split into certificates; `attributes` is a comma-separated list.
//! - One `reconcile` sends the connection info to every relation whenever anything changes
//!   (config, credentials, a new relation, a new bucket request, a new leader). Bad config blocks
//!   the unit and leaves what was sent before untouched.
//! - Bucket choice: the `bucket` option, when set, is sent on every relation; otherwise each
//!   relation gets the bucket its requirer asked for (see the README of the `s3` library about
//!   data-platform-libs#240).
//! - On upgrade from the Python charm, credentials found in the peer relation's app bag are moved
//!   into the secret and deleted from the bag.
//! - New credentials are announced to the other units through the peer app bag
//!   ([`GENERATION_KEY`]): Juju never tells the owner's units that their own secret changed.

use charm::secret::{NewSecret, SecretContent, SecretOwner, SecretRead, SecretUpdate};
use charm::{
    ActionEvent, Bag, Charm, Ctx, Error, Event, EventKind, HookToolError, ModelError, Outcome,
    SecretEvent, SecretId, Status, StatusCollector,
};
use s3::S3Provider;
use s3::wire::PeerVersion;
use std::fmt;

pub mod options;

pub use options::{ConfigError, Options, RawConfig};

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
/// The peer endpoint (where the Python charm kept its state).
pub const PEER: &str = "s3-integrator-peers";
/// The label of the application-owned secret holding the credentials.
pub const CREDENTIALS_LABEL: &str = "s3-integrator-credentials";
/// What stands in for a credential in action output.
pub const REDACTED: &str = "<redacted>";
/// The status while no credentials are stored.
pub const MISSING_CREDENTIALS: &str = "missing credentials: run the sync-s3-credentials action";

/// The key of the peer application bag the leader bumps whenever it stores new credentials.
///
/// Juju sends `secret-changed` to consumers of a secret, never to the units of the application
/// owning it, so without this the other units' statuses would not learn of the credentials.
pub const GENERATION_KEY: &str = "credentials-generation";

const PRUNED_KEY: &str = "pruned-credential-revisions";

/// The S3 credentials. Its `Debug` output never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key.
    pub access_key: String,
    /// The secret key.
    pub secret_key: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &REDACTED)
            .field("secret_key", &REDACTED)
            .finish()
    }
}

fn provider() -> S3Provider {
    S3Provider::new(ENDPOINT)
}

/// The credentials to send: from the user secret of the `credentials` option when it is set
/// (always its latest revision), else those stored by `sync-s3-credentials` (`None` before).
pub fn current_credentials(
    ctx: &mut Ctx<'_>,
    options: &Options,
    read: SecretRead,
) -> Result<Option<Credentials>, Error> {
    match &options.credentials {
        Some(id) => read_user_secret(ctx, id).map(Some),
        None => read_credentials(ctx, read),
    }
}

/// Reads the user secret named by the `credentials` option; every way it can be unusable is a
/// Blocked error telling the operator what to do.
pub fn read_user_secret(ctx: &mut Ctx<'_>, id: &SecretId) -> Result<Credentials, Error> {
    let app = ctx.app_name().to_string();
    match ctx.get_secret(Some(id), None, SecretRead::Refresh) {
        Ok(content) => match (content.get("access-key"), content.get("secret-key")) {
            (Some(access), Some(secret)) if !access.is_empty() && !secret.is_empty() => {
                Ok(Credentials {
                    access_key: access.to_string(),
                    secret_key: secret.to_string(),
                })
            }
            _ => Err(Error::blocked(format!(
                "the credentials secret {id} needs the keys access-key and secret-key"
            ))),
        },
        Err(ModelError::HookTool(HookToolError::PermissionDenied { .. })) => Err(Error::blocked(
            format!("the credentials secret {id} is not granted: juju grant-secret {id} {app}"),
        )),
        Err(e) if e.is_secret_not_found() => Err(Error::blocked(format!(
            "the credentials secret {id} does not exist"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// The stored credentials (`None` before the first `sync-s3-credentials`).
pub fn read_credentials(ctx: &mut Ctx<'_>, read: SecretRead) -> Result<Option<Credentials>, Error> {
    let content = match ctx.get_secret(None, Some(CREDENTIALS_LABEL), read) {
        Ok(content) => content,
        Err(e) if e.is_secret_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match (content.get("access-key"), content.get("secret-key")) {
        (Some(access), Some(secret)) if !access.is_empty() && !secret.is_empty() => {
            Ok(Some(Credentials {
                access_key: access.to_string(),
                secret_key: secret.to_string(),
            }))
        }
        _ => Err(Error::blocked(
            "the credentials secret is incomplete: run the sync-s3-credentials action again",
        )),
    }
}

/// Stores the credentials in the application's secret (leader only): a new revision, or a new
/// secret; then tells the other units (see [`GENERATION_KEY`]).
pub fn store_credentials(ctx: &mut Ctx<'_>, credentials: &Credentials) -> Result<(), Error> {
    let content = SecretContent::new()
        .with("access-key", credentials.access_key.clone())
        .with("secret-key", credentials.secret_key.clone());
    match ctx.secret_info(None, Some(CREDENTIALS_LABEL)) {
        Ok(info) => ctx.set_secret(
            &info.id,
            &SecretUpdate {
                content: Some(content),
                ..SecretUpdate::default()
            },
        )?,
        Err(e) if e.is_secret_not_found() => {
            ctx.add_secret(&NewSecret {
                content,
                label: Some(CREDENTIALS_LABEL.to_string()),
                description: Some("S3 credentials handed to related applications".into()),
                owner: SecretOwner::Application,
                ..NewSecret::default()
            })?;
        }
        Err(e) => return Err(e.into()),
    }
    announce_credentials(ctx)
}

/// Bumps [`GENERATION_KEY`] in the peer application bag (leader only), so that every other unit
/// runs a hook and re-reads the credentials. Does nothing before the peer relation exists.
fn announce_credentials(ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let Some(peer) = ctx.relations(PEER)?.into_iter().next() else {
        return Ok(());
    };
    let bag = ctx.read(&peer, &Bag::LocalApp)?;
    let generation = bag
        .get(GENERATION_KEY)
        .and_then(|g| g.parse::<u64>().ok())
        .unwrap_or(0);
    ctx.set(
        &peer,
        &Bag::LocalApp,
        GENERATION_KEY,
        &generation.saturating_add(1).to_string(),
    )?;
    Ok(())
}

/// Sends the connection info to every relation (leader only); returns how many got it.
///
/// A relation gets nothing while no bucket is known for it (no `bucket` option, no request yet).
pub fn publish(
    ctx: &mut Ctx<'_>,
    options: &Options,
    credentials: &Credentials,
) -> Result<usize, Error> {
    let provider = provider();
    let mut served = 0;
    for relation in provider.relations(ctx)? {
        let bucket = match &options.bucket {
            Some(bucket) => bucket.clone(),
            None => match provider.requested_bucket(ctx, &relation)? {
                Some(bucket) => bucket,
                // A v1 requirer may ask for no bucket: it gets the rest, as from the 2/ charm.
                None if provider.requirer_version(ctx, &relation)? == PeerVersion::V1 => {
                    String::new()
                }
                None => {
                    tracing::debug!(relation = %relation, "no bucket configured or requested yet");
                    continue;
                }
            },
        };
        let mut info =
            options.connection_info(&credentials.access_key, &credentials.secret_key, bucket);
        // The configured path wins over the requested one (as the 2/ charm does).
        if info.path.is_none()
            && let Some(request) = provider.request(ctx, &relation)?
        {
            info.path = request.path;
        }
        if provider.update_connection_info(ctx, &relation, &info)? {
            served += 1;
        }
    }
    Ok(served)
}

fn reconcile(ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let options = Options::load(ctx)?;
    if !ctx.is_leader()? {
        return Ok(());
    }
    if let Some(credentials) = current_credentials(ctx, &options, SecretRead::Refresh)? {
        publish(ctx, &options, &credentials)?;
    }
    Ok(())
}

fn status(ctx: &mut Ctx<'_>, statuses: &mut StatusCollector) -> Result<(), Error> {
    let options = match Options::load(ctx) {
        Ok(options) => options,
        Err(e) if e.outcome() == Outcome::Fail => return Err(e),
        Err(e) => {
            statuses.add_unit(Status::blocked(e.message()));
            return Ok(());
        }
    };
    if let Some(id) = &options.credentials {
        match read_user_secret(ctx, id) {
            Ok(_) => {}
            Err(e) if e.outcome() == Outcome::Fail => return Err(e),
            Err(e) => {
                statuses.add_unit(Status::blocked(e.message()));
                return Ok(());
            }
        }
        return serving(ctx, statuses);
    }
    // The leader's reconcile has just refreshed the credentials (this read is cached). The other
    // units refresh too, whenever they run (new credentials are announced to them): no unit keeps
    // tracking a revision the leader replaced, which could keep it from being reported unused and
    // pruned.
    let read = if ctx.is_leader()? {
        SecretRead::Tracked
    } else {
        SecretRead::Refresh
    };
    if read_credentials(ctx, read)?.is_none() {
        statuses.add_unit(Status::blocked(MISSING_CREDENTIALS));
        return Ok(());
    }
    serving(ctx, statuses)
}

fn serving(ctx: &mut Ctx<'_>, statuses: &mut StatusCollector) -> Result<(), Error> {
    if ctx.is_leader()? {
        let n = ctx.relations(ENDPOINT)?.len();
        let plural = if n == 1 { "" } else { "s" };
        statuses.add_unit(Status::active(format!("serving {n} relation{plural}")));
    } else {
        statuses.add_unit(Status::active(""));
    }
    Ok(())
}

fn sync_credentials(ctx: &mut Ctx<'_>, _action: &ActionEvent) -> Result<(), Error> {
    if !ctx.is_leader()? {
        return Err(Error::blocked("run sync-s3-credentials on the leader unit"));
    }
    // Read the parameters by hand: a type error must never echo a value back.
    let params: serde_json::Value = ctx.action_params()?;
    let param = |name: &str| {
        params
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let (Some(access_key), Some(secret_key)) = (param("access-key"), param("secret-key")) else {
        return Err(Error::blocked(
            "access-key and secret-key are both required, as non-empty strings",
        ));
    };
    let credentials = Credentials {
        access_key,
        secret_key,
    };
    // The same credentials again: no new revision, no hooks on the other units.
    let unchanged = matches!(
        read_credentials(ctx, SecretRead::Peek),
        Ok(Some(stored)) if stored == credentials
    );
    let stored = if unchanged {
        tracing::info!("S3 credentials unchanged");
        "credentials unchanged"
    } else {
        store_credentials(ctx, &credentials)?;
        tracing::info!("S3 credentials stored in the application secret");
        "credentials stored"
    };
    let result = match Options::load(ctx) {
        Ok(options) if options.credentials.is_some() => {
            format!("{stored}; not sent: the credentials option is set and takes precedence")
        }
        Ok(options) => match publish(ctx, &options, &credentials) {
            Ok(n) => format!("{stored}; sent to {n} relation(s)"),
            Err(e) if e.outcome() == Outcome::Fail => return Err(e),
            Err(e) => format!("{stored}; relations not updated: {}", e.message()),
        },
        Err(e) if e.outcome() == Outcome::Fail => return Err(e),
        Err(e) => format!("{stored}; relations not updated: {}", e.message()),
    };
    ctx.action_set(&serde_json::json!({ "result": result }))?;
    Ok(())
}

fn connection_info(ctx: &mut Ctx<'_>, _action: &ActionEvent) -> Result<(), Error> {
    // A Blocked error (bad config, incomplete secret) fails the action with its message.
    let options = Options::load(ctx)?;
    let credentials = current_credentials(ctx, &options, SecretRead::Peek)?;
    let info = options.connection_info(
        REDACTED,
        REDACTED,
        options.bucket.clone().unwrap_or_default(),
    );
    let mut shown = info
        .to_bag()
        .map_err(|e| Error::fail(format!("cannot encode the connection info: {e}")))?;
    if credentials.is_none() {
        shown.remove("access-key");
        shown.remove("secret-key");
    }
    shown.retain(|_, v| !v.is_empty());
    if shown.is_empty() {
        return Err(Error::blocked(
            "nothing is set: configure the charm and run sync-s3-credentials",
        ));
    }
    ctx.action_set(&serde_json::json!(shown))?;
    Ok(())
}

fn credentials(ctx: &mut Ctx<'_>, _action: &ActionEvent) -> Result<(), Error> {
    if !ctx.is_leader()? {
        return Err(Error::blocked("run get-s3-credentials on the leader unit"));
    }
    let options = Options::load(ctx)?;
    let Some(c) = current_credentials(ctx, &options, SecretRead::Refresh)? else {
        return Err(Error::blocked(
            "credentials are not set: run sync-s3-credentials",
        ));
    };
    ctx.action_set(&serde_json::json!({
        "access-key": c.access_key,
        "secret-key": c.secret_key,
    }))?;
    Ok(())
}

/// Moves credentials the Python charm kept in the peer app bag into the secret (leader only).
fn migrate_peer_credentials(ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
    if !ctx.is_leader()? {
        return Ok(());
    }
    let Some(peer) = ctx.relations(PEER)?.into_iter().next() else {
        return Ok(());
    };
    let bag = ctx.read(&peer, &Bag::LocalApp)?;
    let (Some(access), Some(secret)) = (bag.get("access-key"), bag.get("secret-key")) else {
        return Ok(());
    };
    if read_credentials(ctx, SecretRead::Peek)?.is_none() {
        let credentials = Credentials {
            access_key: access.clone(),
            secret_key: secret.clone(),
        };
        store_credentials(ctx, &credentials)?;
        tracing::info!("moved the S3 credentials from peer data into an application secret");
    }
    ctx.update(
        &peer,
        &Bag::LocalApp,
        [("access-key", ""), ("secret-key", "")],
    )?;
    Ok(())
}

/// Removes credential revisions nobody tracks any more (once each: Juju may repeat the hook).
fn prune_revision(ctx: &mut Ctx<'_>, event: &SecretEvent) -> Result<(), Error> {
    let (Some(CREDENTIALS_LABEL), Some(revision)) = (event.label.as_deref(), event.revision) else {
        return Ok(());
    };
    if !ctx.is_leader()? {
        return Ok(());
    }
    let mut pruned: Vec<u32> = ctx.stored(PRUNED_KEY).ok().flatten().unwrap_or_default();
    if pruned.contains(&revision) {
        return Ok(());
    }
    ctx.remove_secret(&event.id, Some(revision))?;
    pruned.push(revision);
    let keep_from = pruned.len().saturating_sub(32);
    ctx.store(PRUNED_KEY, &pruned.split_off(keep_from))?;
    Ok(())
}

/// The charm: the s3 provider library, one reconcile, statuses and three actions.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .metadata(METADATA_JSON)
        .plugin(provider())
        .on(EventKind::UpgradeCharm, migrate_peer_credentials)
        .on(EventKind::LeaderElected, migrate_peer_credentials)
        .on(EventKind::SecretRemove, prune_revision)
        .reconcile(reconcile)
        .collect_status(status)
        .action("sync-s3-credentials", sync_credentials)
        .action("get-s3-connection-info", connection_info)
        .action("get-s3-credentials", credentials)
        .action("status-detail", status_detail);
    charm
}

/// `status-detail` (the 2/ charm's action): per relation, the requirer, the version it speaks,
/// the bucket it asked for and got, and whether its credentials travel in a secret; with
/// `recompute`, the leader sends everything again first. Never shows a credential.
fn status_detail(ctx: &mut Ctx<'_>, _action: &ActionEvent) -> Result<(), Error> {
    let params: serde_json::Value = ctx.action_params()?;
    let recompute = params
        .get("recompute")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let leader = ctx.is_leader()?;
    if recompute {
        if !leader {
            return Err(Error::blocked(
                "run status-detail recompute=true on the leader unit",
            ));
        }
        reconcile(ctx)?;
    }
    let provider = provider();
    let mut relations = serde_json::Map::new();
    for relation in provider.relations(ctx)? {
        let mut detail = serde_json::Map::new();
        if let Some(app) = ctx.remote_app(&relation)? {
            detail.insert("application".into(), app.into());
        }
        let version = match provider.requirer_version(ctx, &relation) {
            Ok(PeerVersion::V1) => "v1".to_string(),
            Ok(_) => "v0".to_string(),
            Err(e) => format!("unknown ({e})"),
        };
        detail.insert("version".into(), version.into());
        if let Some(request) = provider.request(ctx, &relation).ok().flatten() {
            detail.insert("requested-bucket".into(), request.bucket.into());
            if let Some(path) = request.path {
                detail.insert("requested-path".into(), path.into());
            }
        }
        if leader {
            let sent = ctx.read(&relation, &Bag::LocalApp)?;
            let bucket = sent.get("bucket").cloned().unwrap_or_default();
            detail.insert("bucket".into(), bucket.into());
            let in_secret = sent
                .get(s3::wire::SECRET_EXTRA_KEY)
                .is_some_and(|v| !v.is_empty());
            let credentials = if in_secret {
                "in a secret"
            } else if sent.contains_key("access-key") {
                "plain"
            } else {
                "not sent"
            };
            detail.insert("credentials".into(), credentials.into());
        }
        relations.insert(relation.id.to_string(), serde_json::Value::Object(detail));
    }
    let source = match Options::load(ctx) {
        Ok(o) if o.credentials.is_some() => "credentials option",
        Ok(_) => "sync-s3-credentials",
        Err(_) => "invalid config",
    };
    ctx.action_set(&serde_json::json!({
        "credentials-source": source,
        "relations": relations,
    }))?;
    Ok(())
}
