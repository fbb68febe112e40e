//! The table: Juju's rules for a charm, one case per line.
//!
//! Each case names who acts (`Leader` is `app/0`, `Follower` is `app/1`), the dispatch it runs in,
//! and the operations with Juju's answer to each (see the scene in the crate docs). Answers are
//! Juju's, not any implementation's: `Denied`/`NotFound`/`Fails` are the `HookToolError` class a
//! charm sees when Juju refuses the tool call (its exact text through `HookToolError::classify`),
//! `AtCommit` a call Juju accepts and then fails the hook for when it applies the changes.
//! Sources: `juju-protocol.md` §3 and Juju's uniter hook context (`RelationIds` leaves out a
//! broken relation; `UpdateSecret`, `GrantSecret` and `RemoveSecret` refuse followers for the
//! application's secrets they know of, and `GrantSecret` does not find secrets the unit does not
//! own; labels are checked against the hook's own new secrets at once and against the others
//! when the controller applies the changes).
//!
//! A rule change is one edit here; the runners in `tests/` then show which implementations
//! disagree.

use crate::op::Bag::{OwnApp, OwnUnit, RemoteApp, RemoteUnit};
use crate::op::Expect::{AtCommit, Denied, Fails, NotFound, Ok, Value};
use crate::op::Hook::{Action, Broken, Departed, UpdateStatus};
use crate::op::Op::*;
use crate::op::Read::{Peek, Refresh, Tracked};
use crate::op::Rel::{Db, Peers};
use crate::op::Secret::{AppOwned, Granted, Missing, Ungranted, UnitOwned};
use crate::op::Who::{Follower, Leader};
use crate::op::{Case, Expect, Hook, Op, Who};

const fn case(name: &'static str, who: Who, hook: Hook, steps: &'static [(Op, Expect)]) -> Case {
    Case {
        name,
        who,
        hook,
        steps,
    }
}

/// Every case.
#[rustfmt::skip]
pub const CASES: &[Case] = &[
    // Databags (§3.1): own bags read-write, the application bag the leader's (readable by all on a
    // peer relation), remote bags read-only, a unit's own writes visible to it at once.
    case("the leader reads its own unit bag", Leader, UpdateStatus, &[(ReadBag(Db, OwnUnit), Value("app/0"))]),
    case("a follower reads its own unit bag", Follower, UpdateStatus, &[(ReadBag(Db, OwnUnit), Value("app/1"))]),
    case("the leader reads its application bag", Leader, UpdateStatus, &[(ReadBag(Db, OwnApp), Value("app"))]),
    case("a follower may not read its application bag", Follower, UpdateStatus, &[(ReadBag(Db, OwnApp), Denied)]),
    case("a follower reads its application bag of a peer relation", Follower, UpdateStatus, &[(ReadBag(Peers, OwnApp), Value("app"))]),
    case("any unit reads the remote application bag", Follower, UpdateStatus, &[(ReadBag(Db, RemoteApp), Value("remote"))]),
    case("any unit reads a remote unit's bag", Follower, UpdateStatus, &[(ReadBag(Db, RemoteUnit(0)), Value("remote/0"))]),
    case("a unit reads its peers' bags", Follower, UpdateStatus, &[(ReadBag(Peers, RemoteUnit(0)), Value("app/0"))]),
    case("reading the bag of a unit outside the relation fails", Leader, UpdateStatus, &[(ReadBag(Db, RemoteUnit(7)), Fails)]),
    case("any unit writes its own unit bag", Follower, UpdateStatus, &[(WriteBag(Db, false, "x"), Ok)]),
    case("the leader writes its application bag", Leader, UpdateStatus, &[(WriteBag(Db, true, "x"), Ok)]),
    case("a follower may not write its application bag", Follower, UpdateStatus, &[(WriteBag(Db, true, "x"), Denied)]),
    case("a follower may not write its application bag of a peer relation", Follower, UpdateStatus, &[(WriteBag(Peers, true, "x"), Denied)]),
    case("the leader writes its application bag of a peer relation", Leader, UpdateStatus, &[(WriteBag(Peers, true, "x"), Ok)]),
    case("a unit reads its own pending writes", Follower, UpdateStatus, &[(WriteBag(Db, false, "new"), Ok), (ReadBag(Db, OwnUnit), Value("new"))]),
    case("the leader reads its pending application writes", Leader, UpdateStatus, &[(WriteBag(Db, true, "new"), Ok), (ReadBag(Db, OwnApp), Value("new"))]),
    case("relation-ids lists the unit's relations of an endpoint", Leader, UpdateStatus, &[(RelationIds(Db), Value("1"))]),
    case("relation-list lists the remote units", Leader, UpdateStatus, &[(RelationList(Db), Value("remote/0,remote/1"))]),
    case("relation-list of a peer relation lists the other units", Leader, UpdateStatus, &[(RelationList(Peers), Value("app/1"))]),

    // Relation lifecycle (§3.2).
    case("in relation-departed, relation-list leaves out the departing unit", Leader, Departed, &[(RelationList(Db), Value("remote/0"))]),
    case("in relation-departed, the departing unit's bag still reads", Leader, Departed, &[(ReadBag(Db, RemoteUnit(1)), Value("remote/1"))]),
    case("in relation-departed, the unit still writes its bag", Follower, Departed, &[(WriteBag(Db, false, "bye"), Ok)]),
    case("in relation-broken, relation-list is empty", Leader, Broken, &[(RelationList(Db), Value(""))]),
    case("in relation-broken, relation-ids leaves out the broken relation", Leader, Broken, &[(RelationIds(Db), Value("0"))]),
    case("in relation-broken, the unit bag may not be written (the relation is gone)", Leader, Broken, &[(WriteBag(Db, false, "x"), NotFound)]),
    case("in relation-broken, the application bag may not be written", Leader, Broken, &[(WriteBag(Db, true, "x"), Denied)]),

    // Leadership and status (§3.4, §3.5).
    case("is-leader tells the leader", Leader, UpdateStatus, &[(IsLeader, Value("true"))]),
    case("is-leader tells a follower", Follower, UpdateStatus, &[(IsLeader, Value("false"))]),
    case("any unit sets its unit status", Follower, UpdateStatus, &[(SetStatus { app: false }, Ok)]),
    case("any unit reads its unit status", Follower, UpdateStatus, &[(GetStatus { app: false }, Value("unknown"))]),
    case("the leader sets the application status", Leader, UpdateStatus, &[(SetStatus { app: true }, Ok)]),
    case("a follower may not set the application status", Follower, UpdateStatus, &[(SetStatus { app: true }, Denied)]),
    case("the leader reads the application status", Leader, UpdateStatus, &[(GetStatus { app: true }, Value("unknown"))]),
    case("a follower may not read the application status", Follower, UpdateStatus, &[(GetStatus { app: true }, Denied)]),

    // Actions (§3.6): the action tools only inside an action.
    case("action-get outside an action fails", Leader, UpdateStatus, &[(ActionGet, Fails)]),
    case("action-set outside an action fails", Leader, UpdateStatus, &[(ActionSet, Fails)]),
    case("action-log outside an action fails", Follower, UpdateStatus, &[(ActionLog, Fails)]),
    case("action-fail outside an action fails", Follower, UpdateStatus, &[(ActionFail, Fails)]),
    case("in an action, action-get gives the parameters with their defaults", Follower, Action, &[(ActionGet, Value("given"))]),
    case("in an action, action-set, action-log and action-fail work", Leader, Action, &[(ActionSet, Ok), (ActionLog, Ok), (ActionFail, Ok)]),

    // Juju-side charm state (§4.4): per unit, read back at once.
    case("state-get reads what the unit stored", Follower, UpdateStatus, &[(StateGet("who"), Value("app/1"))]),
    case("state-set is read back in the same hook", Leader, UpdateStatus, &[(StateSet("k", "v"), Ok), (StateGet("k"), Value("v"))]),
    case("state-delete removes a key", Leader, UpdateStatus, &[(StateDelete("who"), Ok), (StateGet("who"), Value(""))]),

    // Secrets, owner side (§3.3): the application's secrets are the leader's to manage and every
    // unit's to read; a unit's secrets are its own.
    case("the leader adds an application secret", Leader, UpdateStatus, &[(SecretAdd { app_owned: true, label: None }, Ok)]),
    case("a follower may not add an application secret", Follower, UpdateStatus, &[(SecretAdd { app_owned: true, label: None }, Denied)]),
    case("a follower adds a secret of its own", Follower, UpdateStatus, &[(SecretAdd { app_owned: false, label: None }, Ok)]),
    case("an owner label already in use fails the hook when Juju applies it", Leader, UpdateStatus, &[(SecretAdd { app_owned: true, label: Some("app-secret") }, AtCommit)]),
    case("two new secrets with one label in one hook: the second is refused", Leader, UpdateStatus, &[(SecretAdd { app_owned: true, label: Some("fresh") }, Ok), (SecretAdd { app_owned: true, label: Some("fresh") }, Fails)]),
    case("the leader reads the application's secret", Leader, UpdateStatus, &[(SecretGet(AppOwned, None, Peek), Value("two"))]),
    case("a follower reads the application's secret", Follower, UpdateStatus, &[(SecretGet(AppOwned, None, Peek), Value("two"))]),
    case("the owner finds its secret by its label", Leader, UpdateStatus, &[(SecretGetByLabel("app-secret"), Ok)]),
    case("the leader updates the application's secret", Leader, UpdateStatus, &[(SecretSet(AppOwned, "three"), Ok)]),
    case("a follower may not update the application's secret", Follower, UpdateStatus, &[(SecretSet(AppOwned, "three"), Denied)]),
    case("the leader reads the application's secret's metadata", Leader, UpdateStatus, &[(SecretInfo(AppOwned), Value("2"))]),
    case("a follower may not read the application's secret's metadata", Follower, UpdateStatus, &[(SecretInfo(AppOwned), Denied)]),
    case("the leader grants the application's secret", Leader, UpdateStatus, &[(SecretGrant(AppOwned), Ok)]),
    case("a follower may not grant the application's secret", Follower, UpdateStatus, &[(SecretGrant(AppOwned), Denied)]),
    case("the leader revokes the application's secret", Leader, UpdateStatus, &[(SecretRevoke(AppOwned), Ok)]),
    case("a follower may not revoke the application's secret", Follower, UpdateStatus, &[(SecretRevoke(AppOwned), Denied)]),
    case("the leader removes a revision of the application's secret", Leader, UpdateStatus, &[(SecretRemove(AppOwned, Some(1)), Ok)]),
    case("a follower may not remove the application's secret", Follower, UpdateStatus, &[(SecretRemove(AppOwned, Some(1)), Denied)]),
    case("removing a revision that does not exist fails the hook when Juju applies it", Leader, UpdateStatus, &[(SecretRemove(AppOwned, Some(9)), AtCommit)]),
    case("the owning unit reads its own secret", Leader, UpdateStatus, &[(SecretGet(UnitOwned, None, Peek), Value("mine"))]),
    case("the owning unit updates its own secret", Leader, UpdateStatus, &[(SecretSet(UnitOwned, "new"), Ok)]),
    case("another unit of the application may not read a unit's secret", Follower, UpdateStatus, &[(SecretGet(UnitOwned, None, Peek), Denied)]),
    case("another unit of the application cannot update a unit's secret: the hook fails when Juju applies it", Follower, UpdateStatus, &[(SecretSet(UnitOwned, "x"), AtCommit)]),
    case("secret-ids lists the unit's and its application's secrets", Leader, UpdateStatus, &[(SecretIds, Value("2"))]),
    case("a follower's secret-ids lists its application's secrets", Follower, UpdateStatus, &[(SecretIds, Value("1"))]),

    // Secrets, consumer side (§3.3): granted secrets only; tracked revisions; own labels.
    case("a consumer reads the revision it tracks", Leader, UpdateStatus, &[(SecretGet(Granted, None, Tracked), Value("r1"))]),
    case("--peek reads the latest revision", Leader, UpdateStatus, &[(SecretGet(Granted, None, Peek), Value("r2"))]),
    case("--peek does not move what is tracked", Leader, UpdateStatus, &[(SecretGet(Granted, None, Peek), Value("r2")), (SecretGet(Granted, None, Tracked), Value("r1"))]),
    case("--refresh reads the latest revision and tracks it", Leader, UpdateStatus, &[(SecretGet(Granted, None, Refresh), Value("r2")), (SecretGet(Granted, None, Tracked), Value("r2"))]),
    case("the first read tracks the latest revision", Follower, UpdateStatus, &[(SecretGet(Granted, None, Tracked), Value("r2")), (SecretGet(Granted, None, Tracked), Value("r2"))]),
    case("a consumer labels a secret as it reads it, then finds it by that label", Leader, UpdateStatus, &[(SecretGet(Granted, Some("their-secret"), Tracked), Value("r1")), (SecretGetByLabel("their-secret"), Value("r1"))]),
    case("a label nobody set finds nothing", Leader, UpdateStatus, &[(SecretGetByLabel("nobody"), NotFound)]),
    case("a secret that was not granted may not be read", Leader, UpdateStatus, &[(SecretGet(Ungranted, None, Peek), Denied)]),
    case("a secret that does not exist is not found", Leader, UpdateStatus, &[(SecretGet(Missing, None, Peek), NotFound)]),
    case("a consumer cannot update the secret: the hook fails when Juju applies it", Leader, UpdateStatus, &[(SecretSet(Granted, "x"), AtCommit)]),
    case("a consumer does not find the secret's metadata", Leader, UpdateStatus, &[(SecretInfo(Granted), NotFound)]),
    case("a consumer does not find the secret to grant it", Leader, UpdateStatus, &[(SecretGrant(Granted), NotFound)]),
    case("a consumer cannot remove the secret: the hook fails when Juju applies it", Leader, UpdateStatus, &[(SecretRemove(Granted, None), AtCommit)]),
];
