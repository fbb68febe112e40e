//! Juju's rules about who may do what, in one place: the hook tools check them when a charm
//! calls them (as Juju's hook context does), and the commit step checks them again when the
//! dispatch's changes are flushed (as Juju's controller does). Each rule answers with Juju's own
//! error text.
//!
//! | Rule | Refused with |
//! |---|---|
//! | own application bag of a non-peer relation: read by a follower | `permission denied` |
//! | own application bag: written by a follower | `cannot write relation settings` |
//! | any bag of the relation being broken: written | `cannot read relation [application] settings: permission denied (unauthorized access)` |
//! | relation data written by a dying unit | accepted, never published |
//! | application status: set or read by a follower | `[finding application status: ]this unit is not the leader` |
//! | leader settings: written by a follower | `cannot write leadership settings: cannot write settings: not the leader` |
//! | action tools outside an action | `not running an action` |
//! | application-owned secret: created, or changed through its known metadata, by a follower | `this unit is not the leader` |
//! | a secret the unit cannot manage: changed, granted, revoked, removed (at flush) | `permission denied` |
//! | a secret neither owned by the unit's side nor granted to it: read | `permission denied` |
//! | secret metadata (`secret-info-get`) of a secret the unit cannot manage | `permission denied` |
//! | an owner label already used by a secret of this hook (at once) or of the owner (at flush); a consumer label this unit uses | `secret with label "L" already exists` |
//!
//! The same table, written as cases, is run against this crate, the in-memory harness and the
//! framework in `interface-tests/juju-rules`.

use crate::hook_run::HookRun;
use crate::state::{ModelState, Secret, SecretOwner};

/// Juju's refusal: its error text (printed as `ERROR <text>` by a tool, or failing the flush).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Refusal {
    fn new(text: impl Into<String>) -> Refusal {
        Refusal(text.into())
    }
}

/// The verdict of a rule.
pub type Verdict = Result<(), Refusal>;

fn refuse_unless(allowed: bool, text: &str) -> Verdict {
    if allowed {
        Ok(())
    } else {
        Err(Refusal::new(text))
    }
}

/// Reading the unit's own application bag: on a non-peer relation only the leader may.
pub fn read_own_app_bag(run: &HookRun, peer: bool) -> Verdict {
    refuse_unless(peer || run.leader, "permission denied")
}

/// Writing the unit's own unit bag (`app == false`) or application bag (`app == true`) of
/// relation `relation`: never in its relation-broken, the application bag only by the leader.
pub fn write_bag(run: &HookRun, relation: u64, app: bool) -> Verdict {
    if run.relations.get(&relation).is_some_and(|v| v.broken) {
        return Err(Refusal::new(if app {
            "cannot read relation application settings: permission denied (unauthorized access)"
        } else {
            "cannot read relation settings: permission denied (unauthorized access)"
        }));
    }
    refuse_unless(!app || run.leader, "cannot write relation settings")
}

/// Whether the relation data this dispatch wrote is published: not when the unit is departing
/// (Juju keeps a dying unit's writes to itself).
pub fn publishes_relation_data(run: &HookRun) -> bool {
    !run.dying
}

/// `status-set`: the application status only by the leader.
pub fn set_status(run: &HookRun, application: bool) -> Verdict {
    refuse_unless(!application || run.leader, "this unit is not the leader")
}

/// `status-get`: the application status only by the leader.
pub fn read_status(run: &HookRun, application: bool) -> Verdict {
    refuse_unless(
        !application || run.leader,
        "finding application status: this unit is not the leader",
    )
}

/// `leader-set`: only the leader.
pub fn write_leader_settings(run: &HookRun) -> Verdict {
    refuse_unless(
        run.leader,
        "cannot write leadership settings: cannot write settings: not the leader",
    )
}

/// `action-get`, `action-set`, `action-log`, `action-fail`: only while running an action.
pub fn action_tool(run: &HookRun) -> Verdict {
    refuse_unless(run.is_action(), "not running an action")
}

/// `secret-add`: an application-owned secret only by the leader.
pub fn create_secret(run: &HookRun, owner: &SecretOwner) -> Verdict {
    refuse_unless(
        owner.kind != "application" || run.leader,
        "this unit is not the leader",
    )
}

/// Whether the unit's side owns `secret` (its own unit, or its application): Juju's hook
/// context then knows the secret's metadata.
pub fn owner_side(run: &HookRun, secret: &Secret) -> bool {
    secret.owner.includes(&run.unit)
}

/// Changing a secret the unit's side owns, when the tool runs (`secret-set`, `secret-grant`,
/// `secret-revoke`, `secret-remove`): an application-owned one only by the leader. Secrets the
/// unit does not own are refused when the changes are flushed ([`manage_secret`]).
pub fn change_known_secret(run: &HookRun, secret: &Secret) -> Verdict {
    if !owner_side(run, secret) {
        return Ok(());
    }
    refuse_unless(
        secret.owner.kind != "application" || run.leader,
        "this unit is not the leader",
    )
}

/// Managing a secret when the changes are flushed: the owning unit, or the owning
/// application's leader.
pub fn manage_secret(run: &HookRun, secret: &Secret) -> Verdict {
    refuse_unless(
        secret.owner.managed_by(&run.unit, run.leader),
        "permission denied",
    )
}

/// `secret-info-get`: only who manages the secret.
pub fn read_secret_info(run: &HookRun, secret: &Secret) -> Verdict {
    manage_secret(run, secret)
}

/// `secret-get`: the owner's side, or a unit the secret was granted to.
pub fn read_secret(run: &HookRun, secret: &Secret) -> Verdict {
    refuse_unless(
        owner_side(run, secret) || secret.granted_to(&run.unit, &run.app),
        "permission denied",
    )
}

/// An owner label must be unique among the owner's secrets.
pub fn owner_label(st: &ModelState, owner: &SecretOwner, label: &str, except: &str) -> Verdict {
    let taken = st
        .secrets
        .values()
        .any(|s| s.id != except && &s.owner == owner && s.label.as_deref() == Some(label));
    refuse_unless(
        !taken,
        &format!("secret with label {label:?} already exists"),
    )
}

/// An owner label when `secret-add` runs: Juju's hook context only compares it with the
/// secrets this hook created (`view` has them, `committed` not); the others' labels are
/// compared when the changes are applied ([`owner_label`]).
pub fn new_owner_label(
    view: &ModelState,
    committed: &ModelState,
    owner: &SecretOwner,
    label: &str,
) -> Verdict {
    let taken = view.secrets.values().any(|s| {
        !committed.secrets.contains_key(&s.id)
            && &s.owner == owner
            && s.label.as_deref() == Some(label)
    });
    refuse_unless(
        !taken,
        &format!("secret with label {label:?} already exists"),
    )
}

/// A consumer label must be unique among the secrets this unit consumes.
pub fn consumer_label(st: &ModelState, unit: &str, label: &str, except: &str) -> Verdict {
    let taken = st.secrets.values().any(|s| {
        s.id != except
            && s.consumers
                .get(unit)
                .is_some_and(|c| c.label.as_deref() == Some(label))
    });
    refuse_unless(
        !taken,
        &format!("secret with label {label:?} already exists"),
    )
}
