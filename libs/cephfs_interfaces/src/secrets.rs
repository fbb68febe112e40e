//! Owner-side housekeeping of secrets: removing revisions nobody tracks any more.

use charm::{Ctx, HookToolError, ModelError, SecretEvent};

/// Stored-state key of the revisions already removed (Juju may send `secret-remove` twice).
const REMOVED_KEY: &str = "cephfs_interfaces.removed-revisions";
/// How many removed revisions are remembered.
const REMEMBERED: usize = 64;

/// What [`prune_revision`] did with a `secret-remove` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pruned {
    /// The revision was removed.
    Removed,
    /// The secret's label is not accepted by the filter (or it has none): left alone.
    NotOurs,
    /// This unit is not the leader, so it cannot manage the application's secrets.
    NotLeader,
    /// The secret no longer exists (juju#19036, juju#20794): nothing to do.
    SecretGone,
    /// The event names no revision, or the current one: never removed.
    KeptCurrent,
    /// This revision was already removed by an earlier dispatch.
    AlreadyRemoved,
}

/// Handles `secret-remove` for the application secrets whose owner label passes `ours`.
///
/// Tolerates what Juju is known to send: events for secrets that no longer exist (checked with
/// `secret-info-get`), repeated events for the same revision (remembered in stored state), and
/// never removes the secret's latest revision. Costs no hook-tool call when the event's label
/// is not ours, and three (`is-leader`, `secret-info-get`, `secret-remove`) when it is.
pub fn prune_revision(
    ctx: &mut Ctx,
    event: &SecretEvent,
    ours: impl Fn(&str) -> bool,
) -> Result<Pruned, ModelError> {
    if let Some(label) = &event.label
        && !ours(label)
    {
        return Ok(Pruned::NotOurs);
    }
    let Some(revision) = event.revision else {
        return Ok(Pruned::KeptCurrent);
    };
    if !ctx.is_leader()? {
        return Ok(Pruned::NotLeader);
    }
    let info = match ctx.secret_info(Some(&event.id), None) {
        Ok(info) => info,
        Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => {
            tracing::info!(
                secret = %event.id,
                revision,
                "secret-remove for a secret that no longer exists: ignored"
            );
            return Ok(Pruned::SecretGone);
        }
        Err(ModelError::HookTool(HookToolError::PermissionDenied { .. })) => {
            return Ok(Pruned::NotOurs);
        }
        Err(e) => return Err(e),
    };
    if !info.label.as_deref().is_some_and(&ours) {
        return Ok(Pruned::NotOurs);
    }
    if revision >= info.revision {
        return Ok(Pruned::KeptCurrent);
    }
    let record = format!("{}/{revision}", event.id.unique());
    let mut removed: Vec<String> = ctx.stored(REMOVED_KEY)?.unwrap_or_default();
    if removed.contains(&record) {
        return Ok(Pruned::AlreadyRemoved);
    }
    ctx.remove_secret(&info.id, Some(revision))?;
    removed.push(record);
    if removed.len() > REMEMBERED {
        let excess = removed.len() - REMEMBERED;
        removed.drain(..excess);
    }
    ctx.store(REMOVED_KEY, &removed)?;
    tracing::info!(
        secret = %event.id,
        revision,
        "removed an obsolete secret revision"
    );
    Ok(Pruned::Removed)
}
