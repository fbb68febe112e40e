//! An in-memory Juju that enforces the same rules as the real one, for one unit.

use crate::state::{Relation, Secret, State};
use charm::app_status::AppStatusReport;
use charm::backend::{BagData, HookToolError, HookTools, LogLevel, ToolName};
use charm::cloud::CloudSpec;
use charm::goal_state::{GoalState, GoalStatus};
use charm::network::Network;
use charm::secret::{
    NewSecret, SecretContent, SecretId, SecretInfo, SecretOwner, SecretRead, SecretUpdate,
    unique_id,
};
use charm::storage::{StorageId, StorageInfo};
use charm::{Event, Port, RelationId, Status};
use std::collections::BTreeMap;

/// One hook-tool call the charm made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The tool, e.g. `relation-set`.
    pub tool: &'static str,
    /// A short rendering of its arguments (secret content is never included).
    pub args: String,
}

/// A hook tool made to fail, for testing error paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The tool.
    pub tool: String,
    /// Exit code.
    pub code: i32,
    /// What it prints on stderr.
    pub stderr: String,
    /// How many calls fail (`None`: all).
    pub times: Option<u32>,
}

/// What an action run produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionOutput {
    /// Results set with `action-set` (flat dotted keys).
    pub results: BTreeMap<String, String>,
    /// The `action-fail` message, if the action failed.
    pub failed: Option<String>,
    /// `action-log` messages.
    pub logs: Vec<String>,
}

/// The in-memory backend of one run.
pub(crate) struct MockTools {
    pub(crate) state: State,
    pub(crate) unit: String,
    pub(crate) app: String,
    pub(crate) event: Event,
    pub(crate) config_defaults: serde_json::Map<String, serde_json::Value>,
    pub(crate) action_params: Option<serde_json::Value>,
    pub(crate) failures: Vec<Failure>,
    pub(crate) calls: Vec<Call>,
    pub(crate) logs: Vec<(LogLevel, String)>,
    pub(crate) action: ActionOutput,
    pub(crate) unit_status_history: Vec<Status>,
    pub(crate) app_status_history: Vec<Status>,
    pub(crate) removed_revisions: Vec<(String, Option<u32>)>,
    /// Juju reports some errors only when the hook ends (secret changes are applied at flush).
    pub(crate) flush_error: Option<String>,
    pub(crate) next_secret: u32,
    /// The secrets created in this run (Juju checks their labels at once, the others' at flush).
    pub(crate) new_secrets: Vec<String>,
    /// The argv of every escape-hatch call ([`HookTools::run_tool`]).
    pub(crate) tool_argv: Vec<(String, Vec<String>)>,
    /// The charm's metadata (bindings, storage).
    pub(crate) meta: charm::meta::Metadata,
    /// The Pebble of every declared container (those the state does not list cannot connect).
    pub(crate) pebbles: BTreeMap<String, std::rc::Rc<crate::pebble::FakePebble>>,
}

fn err(tool: &str, stderr: &str) -> HookToolError {
    HookToolError::classify(tool, 1, stderr, false)
}

fn denied(tool: &str) -> HookToolError {
    HookToolError::classify(tool, 1, "ERROR permission denied", true)
}

/// A secret id of the test state, as Juju would print it; an id Juju never produces is a
/// broken test state, reported as bad hook-tool output.
fn state_id(tool: &str, id: &str) -> Result<SecretId, HookToolError> {
    SecretId::parse(id).map_err(|e| HookToolError::BadOutput {
        tool: tool.to_string(),
        detail: format!("the test state holds a secret id Juju never produces: {e}"),
    })
}

fn secret_not_found(tool: &str, id: &str) -> HookToolError {
    err(tool, &format!("ERROR secret {id:?} not found"))
}

impl MockTools {
    fn call(&mut self, tool: &str, args: String) -> Result<(), HookToolError> {
        let tool = crate::answers::intern(tool);
        self.calls.push(Call { tool, args });
        for failure in &mut self.failures {
            if failure.tool == tool && failure.times != Some(0) {
                if let Some(n) = &mut failure.times {
                    *n -= 1;
                }
                return Err(HookToolError::classify(
                    tool,
                    failure.code,
                    &failure.stderr,
                    false,
                ));
            }
        }
        Ok(())
    }

    fn broken(&self, id: u32) -> bool {
        matches!(&self.event, Event::RelationBroken(r) if r.relation.id == id)
    }

    fn departing(&self, id: u32) -> Option<String> {
        match &self.event {
            Event::RelationDeparted(r) if r.relation.id == id => r.departing_unit.clone(),
            _ => None,
        }
    }

    fn relation(&self, tool: &str, rel: &RelationId) -> Result<&Relation, HookToolError> {
        self.state
            .relations
            .iter()
            .find(|r| r.id == rel.id)
            .ok_or_else(|| err(tool, &format!("ERROR relation {} not found", rel.id)))
    }

    fn relation_mut(
        &mut self,
        tool: &str,
        rel: &RelationId,
    ) -> Result<&mut Relation, HookToolError> {
        self.state
            .relations
            .iter_mut()
            .find(|r| r.id == rel.id)
            .ok_or_else(|| err(tool, &format!("ERROR relation {} not found", rel.id)))
    }

    fn find_secret(&self, id: Option<&SecretId>, label: Option<&str>) -> Option<usize> {
        match (id, label) {
            (Some(id), _) => {
                let unique = id.unique();
                self.state
                    .secrets
                    .iter()
                    .position(|s| unique_id(&s.id) == unique)
            }
            (None, Some(label)) => self
                .state
                .secrets
                .iter()
                .position(|s| s.label.as_deref() == Some(label)),
            (None, None) => None,
        }
    }

    /// Whether the unit's side owns the secret, refusing a follower the application's: Juju's
    /// hook context knows the metadata of the secrets it owns. A secret it does not own it
    /// cannot judge when the tool runs (`false`).
    fn owned(&self, tool: &str, index: usize) -> Result<bool, HookToolError> {
        match self.state.secrets[index].owner {
            None => Ok(false),
            Some(SecretOwner::Application) if !self.state.leader => Err(denied(tool)),
            Some(_) => Ok(true),
        }
    }

    /// Changing a secret the unit's side does not own is accepted by the tool and fails the
    /// hook when Juju applies it.
    fn not_owned_at_flush(&mut self, tool: &str, id: &SecretId) {
        self.flush_error = Some(format!("{tool} {id}: permission denied"));
    }

    /// Whether another secret of this owner (one created in this run, with `new_only`) has
    /// the owner label `label`.
    fn owner_label_taken(
        &self,
        owner: Option<SecretOwner>,
        label: &str,
        except: Option<usize>,
        new_only: bool,
    ) -> bool {
        self.state.secrets.iter().enumerate().any(|(i, s)| {
            Some(i) != except
                && s.owner.is_some()
                && s.owner == owner
                && s.label.as_deref() == Some(label)
                && (!new_only || self.new_secrets.contains(&s.id))
        })
    }

    fn label_taken(&self, label: &str, except: Option<usize>) -> bool {
        self.state
            .secrets
            .iter()
            .enumerate()
            .any(|(i, s)| Some(i) != except && s.label.as_deref() == Some(label))
    }
}

fn apply(bag: &mut BagData, changes: &BagData) {
    for (k, v) in changes {
        if v.is_empty() {
            bag.remove(k);
        } else {
            bag.insert(k.clone(), v.clone());
        }
    }
}

impl HookTools for MockTools {
    fn pebble(&mut self, container: &str) -> Option<std::rc::Rc<dyn charm::PebbleApi>> {
        // Never the real socket from a test: a container the state does not list cannot connect.
        let pebble = self
            .pebbles
            .entry(container.to_string())
            .or_insert_with(|| {
                std::rc::Rc::new(crate::pebble::FakePebble::new(
                    crate::container::Container::new(container).can_connect(false),
                ))
            })
            .clone();
        Some(pebble)
    }

    fn relation_ids(&mut self, endpoint: &str) -> Result<Vec<RelationId>, HookToolError> {
        self.call("relation-ids", endpoint.to_string())?;
        Ok(self
            .state
            .relations
            .iter()
            // Juju leaves out the relation being broken.
            .filter(|r| r.endpoint == endpoint && !self.broken(r.id))
            .map(Relation::rid)
            .collect())
    }

    fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<String>, HookToolError> {
        self.call("relation-list", format!("-r {relation}"))?;
        let departing = self.departing(relation.id);
        let broken = self.broken(relation.id);
        let rel = self.relation("relation-list", relation)?;
        if broken {
            return Ok(Vec::new());
        }
        Ok(rel
            .remote_units
            .keys()
            .map(|n| rel.unit_name(*n))
            .filter(|u| Some(u) != departing.as_ref())
            .collect())
    }

    fn relation_remote_app(
        &mut self,
        relation: &RelationId,
    ) -> Result<Option<String>, HookToolError> {
        self.call("relation-list", format!("--app -r {relation}"))?;
        Ok(Some(
            self.relation("relation-list", relation)?.remote_app.clone(),
        ))
    }

    fn relation_get(
        &mut self,
        relation: &RelationId,
        owner: &str,
        app: bool,
    ) -> Result<BagData, HookToolError> {
        let tool = "relation-get";
        self.call(
            tool,
            format!("-r {relation}{} - {owner}", if app { " --app" } else { "" }),
        )?;
        let leader = self.state.leader;
        let own_app = self.app.clone();
        let own_unit = self.unit.clone();
        let rel = self.relation(tool, relation)?;
        if app {
            if owner == own_app && !rel.peer {
                if !leader {
                    return Err(denied(tool));
                }
                return Ok(rel.local_app_data.clone());
            }
            if owner == own_app {
                return Ok(rel.local_app_data.clone());
            }
            if owner == rel.remote_app {
                return Ok(rel.remote_app_data.clone());
            }
            return Err(err(
                tool,
                &format!("ERROR application {owner:?} is not in relation {relation}"),
            ));
        }
        if owner == own_unit {
            return Ok(rel.local_unit_data.clone());
        }
        let unit_of_remote = owner
            .strip_prefix(&format!("{}/", rel.remote_app))
            .and_then(|n| n.parse::<u32>().ok());
        match unit_of_remote.and_then(|n| rel.remote_units.get(&n)) {
            Some(data) => Ok(data.clone()),
            None => Err(err(
                tool,
                &format!("ERROR cannot read settings for unit {owner:?} in relation {relation}"),
            )),
        }
    }

    fn relation_set(
        &mut self,
        relation: &RelationId,
        app: bool,
        changes: &BagData,
    ) -> Result<(), HookToolError> {
        let tool = "relation-set";
        let keys: Vec<&str> = changes.keys().map(String::as_str).collect();
        self.call(
            tool,
            format!(
                "-r {relation}{} {}",
                if app { " --app" } else { "" },
                keys.join(",")
            ),
        )?;
        if self.broken(relation.id) {
            // Juju's texts; the real backend reads the --app one as a refusal, the other as a
            // relation that is gone.
            let stderr = if app {
                "ERROR cannot read relation application settings: permission denied (unauthorized access)"
            } else {
                "ERROR cannot read relation settings: permission denied (unauthorized access)"
            };
            return Err(HookToolError::classify(tool, 1, stderr, app));
        }
        if app && !self.state.leader {
            return Err(HookToolError::classify(
                tool,
                1,
                "ERROR cannot write relation settings",
                true,
            ));
        }
        let rel = self.relation_mut(tool, relation)?;
        apply(
            if app {
                &mut rel.local_app_data
            } else {
                &mut rel.local_unit_data
            },
            changes,
        );
        Ok(())
    }

    fn relation_model_get(&mut self, relation: &RelationId) -> Result<String, HookToolError> {
        self.call("relation-model-get", format!("-r {relation}"))?;
        Ok(self
            .relation("relation-model-get", relation)?
            .remote_model_uuid
            .clone())
    }

    fn config_get(&mut self) -> Result<serde_json::Map<String, serde_json::Value>, HookToolError> {
        self.call("config-get", String::new())?;
        let mut config = self.config_defaults.clone();
        for (k, v) in &self.state.config {
            config.insert(k.clone(), v.clone());
        }
        Ok(config)
    }

    fn is_leader(&mut self) -> Result<bool, HookToolError> {
        self.call("is-leader", String::new())?;
        Ok(self.state.leader)
    }

    fn status_get(&mut self, app: bool) -> Result<Status, HookToolError> {
        self.call("status-get", format!("--application={app}"))?;
        if app && !self.state.leader {
            return Err(denied("status-get"));
        }
        let status = if app {
            &self.state.app_status
        } else {
            &self.state.unit_status
        };
        Ok(status.clone().unwrap_or(Status {
            kind: charm::StatusKind::Unknown,
            message: String::new(),
        }))
    }

    fn status_set(&mut self, app: bool, status: &Status) -> Result<(), HookToolError> {
        self.call("status-set", format!("--application={app} {status}"))?;
        if app && !self.state.leader {
            return Err(denied("status-set"));
        }
        if app {
            self.state.app_status = Some(status.clone());
            self.app_status_history.push(status.clone());
        } else {
            self.state.unit_status = Some(status.clone());
            self.unit_status_history.push(status.clone());
        }
        Ok(())
    }

    fn application_version_set(&mut self, version: &str) -> Result<(), HookToolError> {
        self.call("application-version-set", version.to_string())?;
        self.state.workload_version = Some(version.to_string());
        Ok(())
    }

    fn juju_log(&mut self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
        self.call("juju-log", level.as_str().to_string())?;
        self.logs.push((level, message.to_string()));
        Ok(())
    }

    fn action_get(&mut self) -> Result<serde_json::Value, HookToolError> {
        self.call("action-get", String::new())?;
        self.action_params
            .clone()
            .ok_or_else(|| err("action-get", "ERROR not running an action"))
    }

    fn action_set(&mut self, results: &BTreeMap<String, String>) -> Result<(), HookToolError> {
        let keys: Vec<&str> = results.keys().map(String::as_str).collect();
        self.call("action-set", keys.join(","))?;
        if self.action_params.is_none() {
            return Err(err("action-set", "ERROR not running an action"));
        }
        self.action.results.extend(results.clone());
        Ok(())
    }

    fn action_log(&mut self, message: &str) -> Result<(), HookToolError> {
        self.call("action-log", String::new())?;
        if self.action_params.is_none() {
            return Err(err("action-log", "ERROR not running an action"));
        }
        self.action.logs.push(message.to_string());
        Ok(())
    }

    fn action_fail(&mut self, message: &str) -> Result<(), HookToolError> {
        self.call("action-fail", String::new())?;
        if self.action_params.is_none() {
            return Err(err("action-fail", "ERROR not running an action"));
        }
        self.action.failed = Some(message.to_string());
        Ok(())
    }

    fn state_get(&mut self) -> Result<BTreeMap<String, String>, HookToolError> {
        self.call("state-get", String::new())?;
        Ok(self.state.juju_state.clone())
    }

    fn state_set(&mut self, data: &BTreeMap<String, String>) -> Result<(), HookToolError> {
        self.call(
            "state-set",
            data.keys().cloned().collect::<Vec<_>>().join(","),
        )?;
        self.state.juju_state.extend(data.clone());
        Ok(())
    }

    fn state_delete(&mut self, key: &str) -> Result<(), HookToolError> {
        self.call("state-delete", key.to_string())?;
        self.state.juju_state.remove(key);
        Ok(())
    }

    fn secret_add(&mut self, secret: &NewSecret) -> Result<SecretId, HookToolError> {
        let tool = "secret-add";
        self.call(
            tool,
            format!("--owner {} {:?}", secret.owner.as_str(), secret.label),
        )?;
        if secret.owner == SecretOwner::Application && !self.state.leader {
            return Err(denied(tool));
        }
        if secret.content.is_empty() {
            return Err(HookToolError::classify(
                tool,
                2,
                "ERROR missing secret value",
                false,
            ));
        }
        if let Some(label) = &secret.label
            && self.owner_label_taken(Some(secret.owner), label, None, false)
        {
            if self.owner_label_taken(Some(secret.owner), label, None, true) {
                return Err(err(
                    tool,
                    &format!("ERROR secret with label {label:?} already exists"),
                ));
            }
            self.flush_error = Some(format!("secret with label {label:?} already exists"));
        }
        self.next_secret += 1;
        let id = state_id(tool, &format!("secret:d{:019}", self.next_secret))?;
        self.state.secrets.push(Secret {
            id: id.uri(),
            owner: Some(secret.owner),
            revisions: BTreeMap::from([(1, secret.content.clone())]),
            tracked: Some(1),
            label: secret.label.clone(),
            description: secret.description.clone(),
            expire: secret.expire.clone(),
            rotate: secret.rotate,
            grants: BTreeMap::new(),
            granted: true,
        });
        self.new_secrets.push(id.uri());
        Ok(id)
    }

    fn secret_get(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
        read: SecretRead,
    ) -> Result<SecretContent, HookToolError> {
        let tool = "secret-get";
        let uri = id.map(SecretId::uri);
        self.call(tool, format!("{uri:?} --label {label:?} {read:?}"))?;
        let shown = uri.as_deref().or(label).unwrap_or("");
        let index = self
            .find_secret(id, label)
            .ok_or_else(|| secret_not_found(tool, shown))?;
        if !self.state.secrets[index].granted {
            return Err(denied(tool));
        }
        if let (Some(_), Some(label)) = (id, label)
            && self.state.secrets[index].label.as_deref() != Some(label)
        {
            if self.label_taken(label, Some(index)) {
                return Err(err(tool, &format!("ERROR label {label:?} already in use")));
            }
            self.state.secrets[index].label = Some(label.to_string());
        }
        let secret = &mut self.state.secrets[index];
        let latest = secret.latest();
        let revision = match read {
            SecretRead::Peek => latest,
            SecretRead::Refresh => {
                secret.tracked = Some(latest);
                latest
            }
            SecretRead::Tracked => *secret.tracked.get_or_insert(latest),
        };
        secret
            .revisions
            .get(&revision)
            .cloned()
            .ok_or_else(|| secret_not_found(tool, shown))
    }

    fn secret_info_get(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
    ) -> Result<SecretInfo, HookToolError> {
        let tool = "secret-info-get";
        let uri = id.map(SecretId::uri);
        self.call(tool, format!("{uri:?} --label {label:?}"))?;
        let shown = uri.as_deref().or(label).unwrap_or("");
        let index = self
            .find_secret(id, label)
            .filter(|i| self.state.secrets[*i].owner.is_some())
            .ok_or_else(|| secret_not_found(tool, shown))?;
        self.owned(tool, index)?;
        let s = &self.state.secrets[index];
        Ok(SecretInfo {
            id: state_id(tool, &s.id)?,
            revision: s.latest(),
            label: s.label.clone(),
            owner: s.owner.unwrap_or_default(),
            description: s.description.clone(),
            expiry: s.expire.clone(),
            rotation: s.rotate,
            rotates: None,
        })
    }

    fn secret_set(&mut self, id: &SecretId, update: &SecretUpdate) -> Result<(), HookToolError> {
        let tool = "secret-set";
        self.call(tool, id.uri())?;
        let index = self
            .find_secret(Some(id), None)
            .ok_or_else(|| secret_not_found(tool, &id.uri()))?;
        if !self.owned(tool, index)? {
            self.not_owned_at_flush(tool, id);
            return Ok(());
        }
        if let Some(label) = &update.label
            && self.owner_label_taken(self.state.secrets[index].owner, label, Some(index), false)
        {
            // Juju checks an owner label when it applies the changes.
            self.flush_error = Some(format!("secret with label {label:?} already exists"));
        }
        let s = &mut self.state.secrets[index];
        if let Some(content) = &update.content {
            // Juju 3.6: identical content creates no new revision.
            if s.revisions.get(&s.latest()) != Some(content) {
                let next = s.latest() + 1;
                s.revisions.insert(next, content.clone());
            }
        }
        if let Some(label) = &update.label {
            s.label = Some(label.clone());
        }
        if let Some(d) = &update.description {
            s.description = Some(d.clone());
        }
        if let Some(e) = &update.expire {
            s.expire = Some(e.clone());
        }
        if let Some(r) = update.rotate {
            s.rotate = Some(r);
        }
        Ok(())
    }

    fn secret_grant(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), HookToolError> {
        let tool = "secret-grant";
        self.call(tool, format!("{id} --relation {}", relation.id))?;
        let index = self
            .find_secret(Some(id), None)
            .ok_or_else(|| secret_not_found(tool, &id.uri()))?;
        if !self.owned(tool, index)? {
            return Err(secret_not_found(tool, &id.uri()));
        }
        self.relation(tool, relation)?;
        let grants = self.state.secrets[index]
            .grants
            .entry(relation.id)
            .or_default();
        match unit {
            Some(u) => {
                grants.insert(u.to_string());
            }
            None => grants.clear(),
        }
        Ok(())
    }

    fn secret_revoke(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), HookToolError> {
        let tool = "secret-revoke";
        self.call(tool, format!("{id} --relation {}", relation.id))?;
        let index = self
            .find_secret(Some(id), None)
            .ok_or_else(|| secret_not_found(tool, &id.uri()))?;
        if !self.owned(tool, index)? {
            return Err(secret_not_found(tool, &id.uri()));
        }
        let grants = &mut self.state.secrets[index].grants;
        match unit {
            Some(u) => {
                if let Some(units) = grants.get_mut(&relation.id) {
                    units.remove(u);
                }
            }
            None => {
                grants.remove(&relation.id);
            }
        }
        Ok(())
    }

    fn secret_remove(&mut self, id: &SecretId, revision: Option<u32>) -> Result<(), HookToolError> {
        let tool = "secret-remove";
        self.call(tool, format!("{id} --revision {revision:?}"))?;
        let index = self
            .find_secret(Some(id), None)
            .ok_or_else(|| secret_not_found(tool, &id.uri()))?;
        if !self.owned(tool, index)? {
            self.not_owned_at_flush(tool, id);
            return Ok(());
        }
        match revision {
            Some(rev) => {
                if self.state.secrets[index].revisions.remove(&rev).is_none() {
                    // Juju accepts the call and fails the hook when it commits.
                    self.flush_error = Some(format!("secret {id} has no revision {rev}"));
                } else if self.state.secrets[index].revisions.is_empty() {
                    self.state.secrets.remove(index);
                }
            }
            None => {
                self.state.secrets.remove(index);
            }
        }
        self.removed_revisions.push((id.uri(), revision));
        Ok(())
    }

    fn secret_ids(&mut self) -> Result<Vec<SecretId>, HookToolError> {
        self.call("secret-ids", String::new())?;
        self.state
            .secrets
            .iter()
            .filter(|s| s.owner.is_some())
            .map(|s| state_id("secret-ids", &s.id))
            .collect()
    }

    fn open_port(&mut self, port: Port) -> Result<(), HookToolError> {
        self.call("open-port", port.to_string())?;
        self.state.opened_ports.insert(port);
        Ok(())
    }

    fn close_port(&mut self, port: Port) -> Result<(), HookToolError> {
        self.call("close-port", port.to_string())?;
        self.state.opened_ports.remove(&port);
        Ok(())
    }

    fn opened_ports(&mut self) -> Result<Vec<Port>, HookToolError> {
        self.call("opened-ports", String::new())?;
        Ok(self.state.opened_ports.iter().copied().collect())
    }

    fn goal_state(&mut self) -> Result<GoalState, HookToolError> {
        self.call("goal-state", String::new())?;
        let status = |s: &str| GoalStatus {
            status: s.to_string(),
            since: None,
        };
        let mut goal = GoalState::default();
        goal.units.insert(self.unit.clone(), status("active"));
        for r in &self.state.relations {
            let units = goal.relations.entry(r.endpoint.clone()).or_default();
            if !r.peer {
                units.insert(r.remote_app.clone(), status("joined"));
            }
            for n in r.remote_units.keys() {
                units.insert(r.unit_name(*n), status("active"));
            }
            if r.peer {
                // The peers are this application's other units.
                for n in r.remote_units.keys() {
                    goal.units.insert(r.unit_name(*n), status("active"));
                }
            }
        }
        Ok(goal)
    }

    fn network_get(
        &mut self,
        binding: &str,
        relation: Option<&RelationId>,
    ) -> Result<Network, HookToolError> {
        let tool = "network-get";
        match relation {
            Some(r) => self.call(tool, format!("-r {} {binding}", r.id))?,
            None => self.call(tool, binding.to_string())?,
        }
        if let Some(r) = relation {
            self.relation(tool, r)?;
        }
        crate::networks::network(&self.state, &self.meta, binding)
    }

    fn run_tool(&mut self, tool: &ToolName, args: &[String]) -> Result<String, HookToolError> {
        self.call(tool.as_str(), args.join(" "))?;
        self.tool_argv.push((tool.to_string(), args.to_vec()));
        crate::answers::answer(&self.state, tool.as_str())
    }

    fn storage_get(&mut self, id: &StorageId) -> Result<StorageInfo, HookToolError> {
        self.call("storage-get", format!("-s {id}"))?;
        crate::storages::get(&self.state, &self.meta, id)
    }

    fn storage_list(&mut self, name: &str) -> Result<Vec<StorageId>, HookToolError> {
        self.call("storage-list", name.to_string())?;
        crate::storages::list(&self.state, &self.meta, name)
    }

    fn storage_add(&mut self, name: &str, count: u32) -> Result<(), HookToolError> {
        self.call("storage-add", format!("{name}={count}"))?;
        crate::storages::add(&mut self.state, &self.meta, name, count)
    }

    fn resource_get(&mut self, name: &str) -> Result<std::path::PathBuf, HookToolError> {
        self.call("resource-get", name.to_string())?;
        crate::answers::resource(&self.state, name)
    }

    fn app_status_report(&mut self) -> Result<AppStatusReport, HookToolError> {
        self.call("status-get", "--application".to_string())?;
        if !self.state.leader {
            return Err(denied("status-get"));
        }
        let mut units = self.state.peer_unit_statuses.clone();
        units.insert(
            self.unit.clone(),
            self.state
                .unit_status
                .clone()
                .unwrap_or_else(|| Status::new(charm::StatusKind::Unknown, "")),
        );
        Ok(AppStatusReport {
            app: self
                .state
                .app_status
                .clone()
                .unwrap_or_else(|| Status::new(charm::StatusKind::Unknown, "")),
            units,
        })
    }

    fn credential_get(&mut self) -> Result<CloudSpec, HookToolError> {
        self.call("credential-get", String::new())?;
        self.state.cloud_spec.clone().ok_or_else(|| {
            HookToolError::classify(
                "credential-get",
                1,
                "ERROR cannot access cloud credentials: permission denied",
                true,
            )
        })
    }

    fn juju_reboot(&mut self, now: bool) -> Result<(), HookToolError> {
        self.call("juju-reboot", if now { "--now" } else { "" }.to_string())?;
        if matches!(self.event, Event::Action(_)) {
            return Err(err(
                "juju-reboot",
                "ERROR juju-reboot is not supported when running an action",
            ));
        }
        self.state.reboot = Some(now || self.state.reboot == Some(true));
        Ok(())
    }
}
