//! The vocabulary of the table: who acts, in which hook, doing what, expecting what; and how an
//! operation runs straight through the hook tools (without the framework's checks).

use std::collections::BTreeMap;

use charm::backend::{HookToolError, HookTools};
use charm::{
    NewSecret, RelationId, SecretContent, SecretId, SecretOwner, SecretRead, SecretUpdate,
};
use serde::{Deserialize, Serialize};

/// The acting unit: a unit of the application `app` (see the crate docs for the scene).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Who {
    /// `app/0`, the leader.
    Leader,
    /// `app/1`, not the leader.
    Follower,
}

impl Who {
    /// The unit's name.
    pub fn unit(self) -> &'static str {
        match self {
            Who::Leader => "app/0",
            Who::Follower => "app/1",
        }
    }
}

/// The dispatch the operations run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hook {
    /// `update-status`: no relation of its own.
    UpdateStatus,
    /// `db-relation-departed`, `remote/1` departing.
    Departed,
    /// `db-relation-broken`.
    Broken,
    /// The action `probe` (param `p`, default `given`).
    Action,
}

/// A relation of the acting unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rel {
    /// `app:db` to `remote:served`.
    Db,
    /// `app`'s peer relation `peers`.
    Peers,
}

impl Rel {
    /// The acting unit's endpoint.
    pub fn endpoint(self) -> &'static str {
        match self {
            Rel::Db => "db",
            Rel::Peers => "peers",
        }
    }

    /// The application on the other side.
    pub fn remote_app(self) -> &'static str {
        match self {
            Rel::Db => "remote",
            Rel::Peers => "app",
        }
    }
}

/// A databag, from the acting unit's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bag {
    /// The acting unit's own bag.
    OwnUnit,
    /// The acting unit's application's bag.
    OwnApp,
    /// The other side's application bag (on `peers`: the own application's).
    RemoteApp,
    /// Unit N of the other side (`remote/N`; on `peers`, `app/N`).
    RemoteUnit(u32),
}

/// A secret of the scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Secret {
    /// Owned by the application `app` (label `app-secret`); revisions 1 `one`, 2 `two`.
    AppOwned,
    /// Owned by the unit `app/0` (label `unit-secret`); revision 1 `mine`.
    UnitOwned,
    /// Owned by `remote`, granted to `app` over `db`; revisions 1 `r1`, 2 `r2`; `app/0`
    /// tracks revision 1, `app/1` never read it.
    Granted,
    /// Owned by `remote`, never granted to `app`.
    Ungranted,
    /// A well-formed id no secret has.
    Missing,
}

/// Which revision a `secret-get` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Read {
    /// The tracked one (the latest on the first read).
    Tracked,
    /// `--peek`: the latest, tracking unchanged.
    Peek,
    /// `--refresh`: the latest, tracked from now on.
    Refresh,
}

/// One operation, named after the hook tool it comes down to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `relation-get`: the bag's value of `who` (`""` when absent).
    ReadBag(Rel, Bag),
    /// `relation-set [--app] who=<value>`: the own unit bag, or with `true` the own app bag.
    WriteBag(Rel, bool, &'static str),
    /// `relation-list`: the remote units, sorted, comma-separated.
    RelationList(Rel),
    /// `relation-ids <endpoint>`: how many.
    RelationIds(Rel),
    /// `is-leader`.
    IsLeader,
    /// `status-set [--application] active`.
    SetStatus {
        /// The application status.
        app: bool,
    },
    /// `status-get [--application]`: the status name.
    GetStatus {
        /// The application status.
        app: bool,
    },
    /// `secret-add [--owner unit] [--label L] value=new`.
    SecretAdd {
        /// Owned by the application (else by the unit).
        app_owned: bool,
        /// The owner label.
        label: Option<&'static str>,
    },
    /// `secret-get <id> [--label L] [--peek|--refresh]`: the value of `value`.
    SecretGet(Secret, Option<&'static str>, Read),
    /// `secret-get --label L`.
    SecretGetByLabel(&'static str),
    /// `secret-set <id> value=<new>`.
    SecretSet(Secret, &'static str),
    /// `secret-info-get <id>`: the latest revision.
    SecretInfo(Secret),
    /// `secret-grant <id> -r <db>`.
    SecretGrant(Secret),
    /// `secret-revoke <id> -r <db>`.
    SecretRevoke(Secret),
    /// `secret-remove <id> [--revision N]`.
    SecretRemove(Secret, Option<u32>),
    /// `secret-ids`: how many.
    SecretIds,
    /// `action-get`: the param `p`.
    ActionGet,
    /// `action-set k=v`.
    ActionSet,
    /// `action-log`.
    ActionLog,
    /// `action-fail`.
    ActionFail,
    /// `state-get`: the value of a key (`""` when absent).
    StateGet(&'static str),
    /// `state-set key=value`.
    StateSet(&'static str, &'static str),
    /// `state-delete key`.
    StateDelete(&'static str),
}

impl Op {
    /// The hook tool the operation comes down to.
    pub fn tool(self) -> &'static str {
        match self {
            Op::ReadBag(..) => "relation-get",
            Op::WriteBag(..) => "relation-set",
            Op::RelationList(_) => "relation-list",
            Op::RelationIds(_) => "relation-ids",
            Op::IsLeader => "is-leader",
            Op::SetStatus { .. } => "status-set",
            Op::GetStatus { .. } => "status-get",
            Op::SecretAdd { .. } => "secret-add",
            Op::SecretGet(..) | Op::SecretGetByLabel(_) => "secret-get",
            Op::SecretSet(..) => "secret-set",
            Op::SecretInfo(_) => "secret-info-get",
            Op::SecretGrant(_) => "secret-grant",
            Op::SecretRevoke(_) => "secret-revoke",
            Op::SecretRemove(..) => "secret-remove",
            Op::SecretIds => "secret-ids",
            Op::ActionGet => "action-get",
            Op::ActionSet => "action-set",
            Op::ActionLog => "action-log",
            Op::ActionFail => "action-fail",
            Op::StateGet(_) => "state-get",
            Op::StateSet(..) => "state-set",
            Op::StateDelete(_) => "state-delete",
        }
    }

    /// Whether Juju's refusal `answer` of this operation depends only on what a unit knows
    /// without asking Juju about anything but leadership: the hook it runs in, whether it
    /// leads, whether the relation is a peer relation. The framework must refuse those itself,
    /// before running the tool; the others (secret ownership, grants, labels, existence) only
    /// Juju can judge.
    pub fn refusal_is_local(self, answer: Expect) -> bool {
        match self {
            // Leadership, or the relation-broken hook.
            Op::WriteBag(..) => answer.refused(),
            Op::ReadBag(_, Bag::OwnApp)
            | Op::SetStatus { app: true }
            | Op::SecretAdd {
                app_owned: true, ..
            } => answer == Expect::Denied,
            Op::ActionGet | Op::ActionSet | Op::ActionLog | Op::ActionFail => {
                answer == Expect::Fails
            }
            _ => false,
        }
    }
}

/// How Juju answers an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Accepted (any value).
    Ok,
    /// Accepted, with this value.
    Value(&'static str),
    /// Refused as not permitted: a charm sees `HookToolError::PermissionDenied`.
    Denied,
    /// Refused as not there: `SecretNotFound` or `RelationNotFound`.
    NotFound,
    /// Refused otherwise (`HookToolError::Failed`).
    Fails,
    /// Accepted by the tool; the hook fails when Juju applies the changes at its end.
    AtCommit,
}

impl Expect {
    /// Whether Juju refuses when the tool runs.
    pub fn refused(self) -> bool {
        matches!(self, Expect::Denied | Expect::NotFound | Expect::Fails)
    }

    /// Whether `outcome` is this answer.
    pub fn matches(self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (Expect::Ok, Outcome::Ok(_)) => true,
            (Expect::Value(v), Outcome::Ok(got)) => v == got,
            (Expect::Denied, Outcome::Refused(Class::Denied, _)) => true,
            (Expect::NotFound, Outcome::Refused(Class::NotFound, _)) => true,
            (Expect::Fails, Outcome::Refused(Class::Fails, _)) => true,
            (Expect::AtCommit, Outcome::AtCommit) => true,
            _ => false,
        }
    }
}

/// One case of the table.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// What it pins, as a sentence.
    pub name: &'static str,
    /// Who acts.
    pub who: Who,
    /// In which dispatch.
    pub hook: Hook,
    /// The operations, in order, with Juju's answer to each.
    pub steps: &'static [(Op, Expect)],
}

/// A refusal's class, as a charm sees it through [`HookToolError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Class {
    /// `PermissionDenied`.
    Denied,
    /// `SecretNotFound` or `RelationNotFound`.
    NotFound,
    /// `Failed`.
    Fails,
    /// Anything else (the tool could not run, bad output): never Juju's answer.
    Broken,
}

impl Class {
    /// The class of a hook-tool error.
    pub fn of(e: &HookToolError) -> Class {
        match e {
            HookToolError::PermissionDenied { .. } => Class::Denied,
            HookToolError::SecretNotFound { .. } | HookToolError::RelationNotFound { .. } => {
                Class::NotFound
            }
            HookToolError::Failed { .. } => Class::Fails,
            _ => Class::Broken,
        }
    }
}

/// What an implementation answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Accepted, with the operation's value.
    Ok(String),
    /// Refused, with the error's text.
    Refused(Class, String),
    /// Accepted by the tool, then the hook failed when its changes were applied.
    AtCommit,
}

impl Outcome {
    /// The outcome of a tool call.
    pub fn of(result: Result<String, HookToolError>) -> Outcome {
        match result {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Refused(Class::of(&e), e.to_string()),
        }
    }
}

/// What the names of a case stand for in one implementation's scene: relation ids and secret
/// ids differ from one model to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Env {
    /// The acting unit.
    pub unit: String,
    /// The id of `db`.
    pub db: u32,
    /// The id of `peers`.
    pub peers: u32,
    /// The secret ids (`secret:<xid>`), by the scene's names.
    pub secrets: BTreeMap<Secret, String>,
}

impl Env {
    /// The acting unit's relation id of `rel`.
    pub fn relation(&self, rel: Rel) -> RelationId {
        let id = match rel {
            Rel::Db => self.db,
            Rel::Peers => self.peers,
        };
        RelationId::new(rel.endpoint(), id)
    }

    /// The id of a scene secret.
    pub fn secret(&self, secret: Secret) -> Result<SecretId, HookToolError> {
        let uri = self.secrets.get(&secret).cloned().unwrap_or_default();
        SecretId::parse(&uri).map_err(|e| HookToolError::BadOutput {
            tool: "scene".into(),
            detail: format!("{secret:?} has no usable id {uri:?}: {e}"),
        })
    }

    /// The owner of a bag as `relation-get` names it, and whether it is an application bag.
    pub fn bag_owner(&self, rel: Rel, bag: Bag) -> (String, bool) {
        let app = self.unit.split('/').next().unwrap_or("app").to_string();
        match bag {
            Bag::OwnUnit => (self.unit.clone(), false),
            Bag::OwnApp => (app, true),
            Bag::RemoteApp => (rel.remote_app().to_string(), true),
            Bag::RemoteUnit(n) => (format!("{}/{n}", rel.remote_app()), false),
        }
    }
}

/// The content the scene's secret operations write.
pub fn content(value: &str) -> SecretContent {
    SecretContent::new().with("value", value)
}

fn who_of(bag: &BTreeMap<String, String>) -> String {
    bag.get("who").cloned().unwrap_or_default()
}

/// Runs `op` straight through the hook tools, as a charm bypassing the framework would.
pub fn run_raw(tools: &mut dyn HookTools, env: &Env, op: Op) -> Outcome {
    Outcome::of(raw(tools, env, op))
}

fn raw(t: &mut dyn HookTools, env: &Env, op: Op) -> Result<String, HookToolError> {
    let none = || Ok(String::new());
    match op {
        Op::ReadBag(rel, bag) => {
            let (owner, app) = env.bag_owner(rel, bag);
            t.relation_get(&env.relation(rel), &owner, app)
                .map(|b| who_of(&b))
        }
        Op::WriteBag(rel, app, value) => {
            let changes = BTreeMap::from([("who".to_string(), value.to_string())]);
            t.relation_set(&env.relation(rel), app, &changes)?;
            none()
        }
        Op::RelationList(rel) => {
            let mut units = t.relation_list(&env.relation(rel))?;
            units.sort();
            Ok(units.join(","))
        }
        Op::RelationIds(rel) => Ok(t.relation_ids(rel.endpoint())?.len().to_string()),
        Op::IsLeader => Ok(t.is_leader()?.to_string()),
        Op::SetStatus { app } => {
            t.status_set(app, &charm::Status::active("rules"))?;
            none()
        }
        Op::GetStatus { app } => Ok(t.status_get(app)?.kind.as_str().to_string()),
        Op::SecretAdd { app_owned, label } => {
            let secret = NewSecret {
                content: content("new"),
                label: label.map(str::to_string),
                owner: if app_owned {
                    SecretOwner::Application
                } else {
                    SecretOwner::Unit
                },
                ..NewSecret::default()
            };
            t.secret_add(&secret)?;
            none()
        }
        Op::SecretGet(secret, label, read) => {
            let read = match read {
                Read::Tracked => SecretRead::Tracked,
                Read::Peek => SecretRead::Peek,
                Read::Refresh => SecretRead::Refresh,
            };
            let c = t.secret_get(Some(&env.secret(secret)?), label, read)?;
            Ok(c.get("value").unwrap_or_default().to_string())
        }
        Op::SecretGetByLabel(label) => {
            let c = t.secret_get(None, Some(label), SecretRead::Tracked)?;
            Ok(c.get("value").unwrap_or_default().to_string())
        }
        Op::SecretSet(secret, value) => {
            let update = SecretUpdate {
                content: Some(content(value)),
                ..SecretUpdate::default()
            };
            t.secret_set(&env.secret(secret)?, &update)?;
            none()
        }
        Op::SecretInfo(secret) => Ok(t
            .secret_info_get(Some(&env.secret(secret)?), None)?
            .revision
            .to_string()),
        Op::SecretGrant(secret) => {
            t.secret_grant(&env.secret(secret)?, &env.relation(Rel::Db), None)?;
            none()
        }
        Op::SecretRevoke(secret) => {
            t.secret_revoke(&env.secret(secret)?, &env.relation(Rel::Db), None)?;
            none()
        }
        Op::SecretRemove(secret, revision) => {
            t.secret_remove(&env.secret(secret)?, revision)?;
            none()
        }
        Op::SecretIds => Ok(t.secret_ids()?.len().to_string()),
        Op::ActionGet => {
            let params = t.action_get()?;
            Ok(params
                .get("p")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string())
        }
        Op::ActionSet => {
            t.action_set(&BTreeMap::from([("k".to_string(), "v".to_string())]))?;
            none()
        }
        Op::ActionLog => {
            t.action_log("working")?;
            none()
        }
        Op::ActionFail => {
            t.action_fail("failed on purpose")?;
            none()
        }
        Op::StateGet(key) => Ok(t.state_get()?.get(key).cloned().unwrap_or_default()),
        Op::StateSet(key, value) => {
            t.state_set(&BTreeMap::from([(key.to_string(), value.to_string())]))?;
            none()
        }
        Op::StateDelete(key) => {
            t.state_delete(key)?;
            none()
        }
    }
}
