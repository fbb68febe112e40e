//! What the `rules-probe` charm does in a local model: in any dispatch that finds a request
//! in its charm directory ([`CASE_FILE`], removed once read), it runs a case's steps straight
//! through the hook tools and reports each outcome on stdout as
//! `CHARM_EVENT {"event": "rules.step", "fields": <Outcome>}`, or builds the scene.

use std::collections::BTreeMap;

use charm::backend::{HookToolError, HookTools};
use charm::{NewSecret, RelationId, SecretId, SecretOwner, SecretRead, SecretUpdate};
use serde::{Deserialize, Serialize};

use crate::cases::CASES;
use crate::op::{Env, Outcome, content, run_raw};

/// The file in a unit's charm directory that holds the [`Request`].
pub const CASE_FILE: &str = "rules-case.json";

/// The `CHARM_EVENT` name each step's outcome is reported under.
pub const STEP_EVENT: &str = "rules.step";

/// What a runner asks the probe to do in the next dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Run the steps of the case with this index in [`CASES`], with the scene's ids.
    Case {
        /// The index in [`CASES`].
        case: usize,
        /// The scene's ids in this model.
        env: Env,
    },
    /// Build part of the scene; any failure fails the hook.
    Setup(Vec<Setup>),
}

/// One step of building the scene.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Setup {
    /// `relation-set [--app] who=<who>`.
    WriteBag {
        /// The unit's endpoint.
        endpoint: String,
        /// The relation id.
        relation: u32,
        /// The application bag.
        app: bool,
        /// The value of `who`.
        who: String,
    },
    /// `state-set who=<who>`.
    StateSet {
        /// The value of `who`.
        who: String,
    },
    /// `secret-add --label <label> value=<value>` (owned by the application or the unit).
    SecretAdd {
        /// Owned by the application.
        app_owned: bool,
        /// The owner label.
        label: String,
        /// The content's `value`.
        value: String,
    },
    /// `secret-set <id> value=<value>`.
    SecretSet {
        /// The secret.
        id: String,
        /// The new `value`.
        value: String,
    },
    /// `secret-grant <id> -r <relation>` to the whole remote application.
    SecretGrant {
        /// The secret.
        id: String,
        /// The unit's endpoint.
        endpoint: String,
        /// The relation id.
        relation: u32,
    },
    /// `secret-get <id>`: starts tracking the latest revision.
    SecretGet {
        /// The secret.
        id: String,
    },
}

/// Handles a request: the outcome of every step of a case, or the scene built.
pub fn handle(tools: &mut dyn HookTools, request: &Request) -> Result<Vec<Outcome>, String> {
    match request {
        Request::Case { case, env } => {
            let case = CASES.get(*case).ok_or_else(|| format!("no case {case}"))?;
            Ok(case
                .steps
                .iter()
                .map(|(op, _)| run_raw(tools, env, *op))
                .collect())
        }
        Request::Setup(steps) => {
            for step in steps {
                setup(tools, step).map_err(|e| format!("{step:?}: {e}"))?;
            }
            Ok(Vec::new())
        }
    }
}

fn id(text: &str) -> Result<SecretId, HookToolError> {
    SecretId::parse(text).map_err(|e| HookToolError::BadOutput {
        tool: "scene".into(),
        detail: e.to_string(),
    })
}

fn setup(t: &mut dyn HookTools, step: &Setup) -> Result<(), HookToolError> {
    match step {
        Setup::WriteBag {
            endpoint,
            relation,
            app,
            who,
        } => t.relation_set(
            &RelationId::new(endpoint.clone(), *relation),
            *app,
            &BTreeMap::from([("who".to_string(), who.clone())]),
        ),
        Setup::StateSet { who } => t.state_set(&BTreeMap::from([("who".to_string(), who.clone())])),
        Setup::SecretAdd {
            app_owned,
            label,
            value,
        } => t
            .secret_add(&NewSecret {
                content: content(value),
                label: Some(label.clone()),
                owner: if *app_owned {
                    SecretOwner::Application
                } else {
                    SecretOwner::Unit
                },
                ..NewSecret::default()
            })
            .map(|_| ()),
        Setup::SecretSet { id: secret, value } => t.secret_set(
            &id(secret)?,
            &SecretUpdate {
                content: Some(content(value)),
                ..SecretUpdate::default()
            },
        ),
        Setup::SecretGrant {
            id: secret,
            endpoint,
            relation,
        } => t.secret_grant(
            &id(secret)?,
            &RelationId::new(endpoint.clone(), *relation),
            None,
        ),
        Setup::SecretGet { id: secret } => t
            .secret_get(Some(&id(secret)?), None, SecretRead::Tracked)
            .map(|_| ()),
    }
}
