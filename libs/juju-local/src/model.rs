//! The [`Model`] API: a model directory and its operations (the CLI's verbs), and the settle
//! loop that runs the hooks the unit agents would run, one at a time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::action_params::{parse_param_value, set_dotted, validate_params};
use crate::clock::{now_secs, rfc3339};
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::files::FileLock;
use crate::meta::{CharmMeta, Role, parse_config_arg};
use crate::options::{DeployOptions, ModelOptions};
use crate::redact::Redaction;
use crate::resolver::{Source, complete_spec, mark_done, next_hook, owner_unit, tidy, unit_key};
use crate::state::{
    ActionOutcome, AgentState, Application, HookFailure, HookSpec, Life, ModelState, Relation,
    RelationEndpoint, Secret, SecretGrant, SecretOwner, SecretRevision, Status, Unit,
};
use crate::timeline::HookRecord;
use crate::workload::{ContainerState, Pods};

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// The xid of the user secret `reference` names: its name, or its URI (any form).
fn find_user_secret(st: &ModelState, reference: &str) -> Option<String> {
    let user = |s: &&Secret| s.owner.kind == "model";
    st.find_secret(reference)
        .filter(user)
        .or_else(|| {
            st.secrets
                .values()
                .filter(user)
                .find(|s| s.label.as_deref() == Some(reference))
        })
        .map(|s| s.id.clone())
}

/// `key=value` pairs as stored content (key → base64), keys checked as Juju checks them.
fn user_secret_content(content: &[(String, String)]) -> Result<BTreeMap<String, String>> {
    if content.is_empty() {
        return Err(invalid("missing secret value"));
    }
    content
        .iter()
        .map(|(k, v)| {
            if crate::tools::valid_secret_key(k) {
                Ok((k.clone(), crate::base64::b64_encode(v.as_bytes())))
            } else {
                Err(invalid(format!("invalid secret key {k:?}")))
            }
        })
        .collect()
}

/// What `settle` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettleReport {
    /// Number of hooks run.
    pub hooks_run: usize,
    /// Units left in error, with the failed hook.
    pub errors: Vec<(String, String)>,
}

/// A local model in a directory.
#[derive(Debug, Clone)]
pub struct Model {
    dir: PathBuf,
    opts: ModelOptions,
}

fn copy_dir(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst).map_err(|e| Error::io("cannot create", dst, e))?;
    let entries = std::fs::read_dir(src).map_err(|e| Error::io("cannot read", src, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot read", src, e))?;
        let path = entry.path();
        let target = dst.join(entry.file_name());
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("cannot stat", &path, e))?;
        if ft.is_symlink() {
            let link =
                std::fs::read_link(&path).map_err(|e| Error::io("cannot read link", &path, e))?;
            let _ = std::fs::remove_file(&target);
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| Error::io("cannot create link", &target, e))?;
        } else if ft.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| Error::io("cannot copy", &path, e))?;
        }
    }
    Ok(())
}

impl Model {
    /// Creates a fresh model in `dir` (which may exist but must not hold a model).
    pub fn init(dir: impl Into<PathBuf>, opts: ModelOptions) -> Result<Model> {
        let dir: PathBuf = dir.into();
        crate::files::create_private_dir(&dir)?;
        let dir = dir
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve", &dir, e))?;
        if dir.join("state.json").exists() {
            return Err(Error::ModelExists(dir));
        }
        let model = Model { dir, opts };
        let _lock = model.lock()?;
        ModelState::new(&model.opts.name).save(&model.dir)?;
        model.ensure_tools()?;
        Ok(model)
    }

    /// Opens an existing model.
    pub fn open(dir: impl Into<PathBuf>, opts: ModelOptions) -> Result<Model> {
        let dir: PathBuf = dir.into();
        if !dir.join("state.json").exists() {
            return Err(Error::NoModel(dir));
        }
        let dir = dir
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve", &dir, e))?;
        let model = Model { dir, opts };
        ModelState::load(&model.dir)?;
        Ok(model)
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the committed model state.
    pub fn state(&self) -> Result<ModelState> {
        ModelState::load(&self.dir)
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.dir.join("lock"))
    }

    fn pods(&self) -> Pods {
        Pods {
            dir: self.dir.clone(),
            server: crate::workload::server_binary(&self.opts.tool_binary),
            detach: self.opts.detach_containers,
        }
    }

    fn executor(&self) -> Executor<'_> {
        Executor {
            dir: &self.dir,
            opts: &self.opts,
        }
    }

    /// Creates (or refreshes) the directory of hook-tool symlinks.
    fn ensure_tools(&self) -> Result<()> {
        let dir = self.executor().tools_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        let target = self
            .opts
            .tool_binary
            .canonicalize()
            .map_err(|e| Error::io("cannot find tool binary", &self.opts.tool_binary, e))?;
        for name in crate::tools::TOOL_NAMES {
            let link = dir.join(name);
            if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
                continue;
            }
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&target, &link)
                .map_err(|e| Error::io("cannot create link", &link, e))?;
        }
        Ok(())
    }

    fn mutate<T>(&self, f: impl FnOnce(&mut ModelState) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        let mut st = self.state()?;
        let out = f(&mut st)?;
        self.ensure_subordinates(&mut st)?;
        tidy(&mut st);
        st.save(&self.dir)?;
        Ok(out)
    }

    // ------------------------------------------------------------------ model operations

    /// Deploys a charm directory; queues install, leader-elected, config-changed and start.
    pub fn deploy(&self, charm_dir: &Path, opts: DeployOptions) -> Result<String> {
        let meta = CharmMeta::load(charm_dir)?;
        let source = charm_dir
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve", charm_dir, e))?;
        let dispatch = source.join("dispatch");
        if !dispatch.exists() {
            return Err(Error::Charm {
                path: source,
                message: "no dispatch file".into(),
            });
        }
        let name = opts.app.clone().unwrap_or_else(|| meta.name.clone());
        if !crate::ids::is_app_name(&name) {
            return Err(invalid(format!("invalid application name {name:?}")));
        }
        let storage = crate::storage::deploy_counts(&meta, &opts.storage).map_err(invalid)?;
        let mut resources = BTreeMap::new();
        for (res, path) in &opts.resources {
            let copy = crate::resources::attach(&self.dir, &meta, &name, res, path)?;
            resources.insert(res.clone(), copy);
        }
        self.mutate(|st| {
            if st.applications.contains_key(&name) {
                return Err(invalid(format!("application {name:?} already exists")));
            }
            let mut config = BTreeMap::new();
            for (k, v) in &opts.config {
                let opt = meta
                    .config
                    .get(k)
                    .ok_or_else(|| invalid(format!("unknown option {k:?}")))?;
                let value = parse_config_arg(&opt.kind, v)
                    .map_err(|m| invalid(format!("option {k:?}: {m}")))?;
                config.insert(k.clone(), value);
            }
            st.next_app_index += 1;
            let app = Application {
                name: name.clone(),
                index: st.next_app_index,
                charm_source: source.clone(),
                meta: meta.clone(),
                config,
                config_version: 1,
                leader: None,
                leader_term: 0,
                leader_settings: BTreeMap::new(),
                leader_settings_version: 1,
                status: Status::default(),
                next_unit: 0,
                units: BTreeMap::new(),
                life: Life::Alive,
                env: opts.env.iter().cloned().collect(),
                storage: storage.clone(),
                resources: resources.clone(),
                trusted: opts.trust,
            };
            st.applications.insert(name.clone(), app);
            for ep in meta.endpoints.iter().filter(|e| e.role == Role::Peer) {
                let id = st.next_relation_id;
                st.next_relation_id += 1;
                st.relations.insert(
                    id,
                    Relation {
                        id,
                        interface: ep.interface.clone(),
                        endpoints: vec![RelationEndpoint {
                            app: name.clone(),
                            endpoint: ep.name.clone(),
                            role: Role::Peer,
                        }],
                        scope: ep.scope.clone(),
                        life: Life::Alive,
                        app_data: BTreeMap::new(),
                        unit_data: BTreeMap::new(),
                    },
                );
            }
            // Juju deploys a subordinate with no units (`-n 1`, the default, means none).
            let n = match (meta.subordinate, opts.units) {
                (true, None | Some(0 | 1)) => 0,
                (true, Some(_)) => {
                    return Err(invalid(
                        "cannot use --num-units or --to with subordinate application",
                    ));
                }
                (false, n) => n.unwrap_or(1),
            };
            for _ in 0..n {
                self.add_unit_to(st, &name)?;
            }
            Ok(name.clone())
        })
    }

    fn add_unit_to(&self, st: &mut ModelState, app_name: &str) -> Result<String> {
        let app = st
            .applications
            .get_mut(app_name)
            .ok_or_else(|| Error::not_found("application", app_name))?;
        if app.life == Life::Dying {
            return Err(invalid(format!("application {app_name:?} is dying")));
        }
        let n = app.next_unit;
        app.next_unit += 1;
        let name = format!("{app_name}/{n}");
        let charm_dir = self
            .dir
            .join("units")
            .join(format!("{app_name}-{n}"))
            .join("charm");
        if charm_dir.exists() {
            std::fs::remove_dir_all(&charm_dir)
                .map_err(|e| Error::io("cannot clean", &charm_dir, e))?;
        }
        copy_dir(&app.charm_source, &charm_dir)?;
        app.units.insert(
            n,
            Unit {
                name: name.clone(),
                number: n,
                charm_dir,
                principal: None,
                status: Status::new("waiting", "agent initialising"),
                workload_version: String::new(),
                ports: Vec::new(),
                charm_state: BTreeMap::new(),
                life: Life::Alive,
                since: rfc3339(now_secs()),
                agent: AgentState::default(),
                storage: BTreeMap::new(),
            },
        );
        let counts = app.storage.clone();
        for (storage, count) in counts {
            crate::storage::attach(st, &self.dir, &name, &storage, count).map_err(invalid)?;
        }
        let Some(app) = st.applications.get_mut(app_name) else {
            return Ok(name);
        };
        if app.leader.is_none() {
            app.leader = Some(name.clone());
            app.leader_term += 1;
        }
        Ok(name)
    }

    /// Creates the missing subordinate units: one per principal unit that has entered the scope
    /// of an alive container-scoped relation (relation-created done) with an alive subordinate
    /// application and has no unit of that application yet, as Juju's principal agents do.
    fn ensure_subordinates(&self, st: &mut ModelState) -> Result<()> {
        let mut wanted: Vec<(String, String)> = Vec::new();
        for rel in st
            .relations
            .values()
            .filter(|r| r.life == Life::Alive && r.is_container() && !r.is_peer())
        {
            for (p_ep, s_ep) in [(0, 1), (1, 0)] {
                let (Some(p_ep), Some(s_ep)) = (rel.endpoints.get(p_ep), rel.endpoints.get(s_ep))
                else {
                    continue;
                };
                let (Some(pa), Some(sa)) = (
                    st.applications.get(&p_ep.app),
                    st.applications.get(&s_ep.app),
                ) else {
                    continue;
                };
                if pa.meta.subordinate
                    || !sa.meta.subordinate
                    || pa.life != Life::Alive
                    || sa.life != Life::Alive
                {
                    continue;
                }
                for pu in pa.units.values() {
                    let in_scope = pu.agent.relations.get(&rel.id).is_some_and(|r| r.created);
                    let has_sub = sa
                        .units
                        .values()
                        .any(|x| x.principal.as_deref() == Some(pu.name.as_str()));
                    let pair = (sa.name.clone(), pu.name.clone());
                    if pu.life == Life::Alive && in_scope && !has_sub && !wanted.contains(&pair) {
                        wanted.push(pair);
                    }
                }
            }
        }
        for (sub_app, principal) in wanted {
            let name = self.add_unit_to(st, &sub_app)?;
            if let Some(u) = st.unit_mut(&name) {
                u.principal = Some(principal);
            }
        }
        Ok(())
    }

    /// Adds `count` units to a principal application (subordinate units come from relations).
    pub fn add_unit(&self, app: &str, count: u32) -> Result<Vec<String>> {
        self.mutate(|st| {
            let a = st
                .applications
                .get(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            if a.meta.subordinate {
                return Err(invalid(format!(
                    "cannot add units to subordinate application {app:?}: relate it to a principal application instead"
                )));
            }
            (0..count).map(|_| self.add_unit_to(st, app)).collect()
        })
    }

    /// Grants (or, with `false`, removes) `trust` for `app`: whether `credential-get` answers.
    pub fn trust(&self, app: &str, trusted: bool) -> Result<()> {
        self.mutate(|st| {
            let a = st
                .applications
                .get_mut(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            a.trusted = trusted;
            Ok(())
        })
    }

    /// Attaches file `path` as resource `name` of `app` (a new revision): each unit then runs
    /// `upgrade-charm`, as Juju's agents do when a resource changes.
    pub fn attach_resource(&self, app: &str, name: &str, path: &Path) -> Result<()> {
        self.mutate(|st| {
            let a = st
                .applications
                .get_mut(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            let copy = crate::resources::attach(&self.dir, &a.meta, app, name, path)?;
            a.resources.insert(name.to_string(), copy);
            for u in a.units.values_mut().filter(|u| u.agent.installed) {
                u.agent.queue.push_back(HookSpec::simple("upgrade-charm"));
            }
            Ok(())
        })
    }

    /// Sets config values (`key=value`, validated against `config.yaml`) and resets `reset` keys.
    pub fn config(&self, app: &str, values: &[(String, String)], reset: &[String]) -> Result<()> {
        self.mutate(|st| {
            let a = st
                .applications
                .get_mut(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            let before = a.effective_config();
            for (k, v) in values {
                let opt = a
                    .meta
                    .config
                    .get(k)
                    .ok_or_else(|| invalid(format!("unknown option {k:?}")))?;
                let value = parse_config_arg(&opt.kind, v)
                    .map_err(|m| invalid(format!("option {k:?}: {m}")))?;
                a.config.insert(k.clone(), value);
            }
            for k in reset {
                if !a.meta.config.contains_key(k) {
                    return Err(invalid(format!("unknown option {k:?}")));
                }
                a.config.remove(k);
            }
            if a.effective_config() != before {
                a.config_version += 1;
            }
            Ok(())
        })
    }

    /// Moves leadership to `unit`: leader-elected there, leader-settings-changed on the others.
    pub fn set_leader(&self, unit: &str) -> Result<()> {
        self.mutate(|st| {
            let u = st
                .unit(unit)
                .ok_or_else(|| Error::not_found("unit", unit))?;
            if u.life == Life::Dying {
                return Err(invalid(format!("unit {unit:?} is dying")));
            }
            let (app, _) = unit_key(unit);
            let a = st
                .applications
                .get_mut(&app)
                .ok_or_else(|| Error::not_found("application", &app))?;
            if a.leader.as_deref() != Some(unit) {
                a.leader = Some(unit.to_string());
                a.leader_term += 1;
                a.leader_settings_version += 1;
            }
            Ok(())
        })
    }

    /// Relates two endpoints (`app:endpoint` or `app` when unambiguous). Returns the relation id.
    pub fn relate(&self, a: &str, b: &str) -> Result<u64> {
        self.mutate(|st| crate::relate::relate(st, a, b))
    }

    /// Removes a relation (by id, or by the two endpoints): departed and broken hooks follow.
    pub fn remove_relation(&self, a: &str, b: Option<&str>) -> Result<u64> {
        self.mutate(|st| {
            let id = crate::relate::find_relation(st, a, b)?;
            if let Some(r) = st.relations.get_mut(&id) {
                if r.is_peer() {
                    return Err(invalid("cannot remove a peer relation"));
                }
                r.life = Life::Dying;
            }
            Ok(id)
        })
    }

    /// Removes a unit: it departs its relations, gets relation-broken, stop and remove.
    pub fn remove_unit(&self, unit: &str) -> Result<()> {
        self.mutate(|st| {
            let u = st
                .unit_mut(unit)
                .ok_or_else(|| Error::not_found("unit", unit))?;
            if u.principal.is_some() {
                let (app, _) = unit_key(unit);
                return Err(invalid(format!(
                    "unit {unit:?} is a subordinate, to remove use remove-relation. Note: this will remove all units of {app:?}"
                )));
            }
            // Its subordinates become dying with it (see `tidy`).
            u.life = Life::Dying;
            Ok(())
        })
    }

    /// Removes an application with all its units and relations.
    pub fn remove_app(&self, app: &str) -> Result<()> {
        self.mutate(|st| {
            let a = st
                .applications
                .get_mut(app)
                .ok_or_else(|| Error::not_found("application", app))?;
            a.life = Life::Dying;
            for u in a.units.values_mut() {
                u.life = Life::Dying;
            }
            for r in st.relations.values_mut().filter(|r| r.involves(app)) {
                r.life = Life::Dying;
            }
            Ok(())
        })
    }

    // ----- user secrets (Juju 3.3+: `juju add-secret`, `grant-secret`, `update-secret`)

    /// `juju add-secret <name> key=value...`: a secret owned by the model, readable by the
    /// applications it is granted to ([`Model::grant_secret`]); returns its URI. The name is
    /// unique among user secrets; keys follow Juju's rule.
    pub fn add_secret(&self, name: &str, content: &[(String, String)]) -> Result<String> {
        let content = user_secret_content(content)?;
        self.mutate(|st| {
            if name.is_empty() {
                return Err(invalid("secret name cannot be empty"));
            }
            if find_user_secret(st, name).is_some() {
                return Err(invalid(format!("secret with name {name:?} already exists")));
            }
            let id = crate::tools::new_secret_id(&st.uuid);
            let owner = SecretOwner {
                kind: "model".into(),
                name: st.name.clone(),
            };
            let revision = SecretRevision {
                content,
                created: rfc3339(now_secs()),
                expire: None,
            };
            st.secrets.insert(
                id.clone(),
                Secret {
                    id: id.clone(),
                    owner,
                    label: Some(name.to_string()),
                    description: None,
                    rotate: None,
                    next_rotate: None,
                    revisions: BTreeMap::from([(1, revision)]),
                    latest: 1,
                    grants: Vec::new(),
                    consumers: BTreeMap::new(),
                    remove_notified: Default::default(),
                },
            );
            Ok(format!("secret:{id}"))
        })
    }

    /// `juju update-secret <name|uri> key=value...`: a new revision when the content differs
    /// (consumers tracking an older one then get `secret-changed`).
    pub fn update_secret(&self, secret: &str, content: &[(String, String)]) -> Result<u32> {
        let content = user_secret_content(content)?;
        self.mutate(|st| {
            let id =
                find_user_secret(st, secret).ok_or_else(|| Error::not_found("secret", secret))?;
            let Some(sec) = st.secrets.get_mut(&id) else {
                return Err(Error::not_found("secret", secret));
            };
            if sec.revisions.get(&sec.latest).map(|r| &r.content) != Some(&content) {
                sec.latest += 1;
                sec.revisions.insert(
                    sec.latest,
                    SecretRevision {
                        content,
                        created: rfc3339(now_secs()),
                        expire: None,
                    },
                );
            }
            Ok(sec.latest)
        })
    }

    /// `juju grant-secret <name|uri> <app>`: every unit of `app` may read the user secret.
    pub fn grant_secret(&self, secret: &str, app: &str) -> Result<()> {
        self.mutate(|st| {
            if !st.applications.contains_key(app) {
                return Err(Error::not_found("application", app));
            }
            let id =
                find_user_secret(st, secret).ok_or_else(|| Error::not_found("secret", secret))?;
            let Some(sec) = st.secrets.get_mut(&id) else {
                return Err(Error::not_found("secret", secret));
            };
            if !sec
                .grants
                .iter()
                .any(|g| g.app == app && g.relation.is_none())
            {
                sec.grants.push(SecretGrant {
                    app: app.to_string(),
                    unit: None,
                    relation: None,
                });
            }
            Ok(())
        })
    }

    /// `juju revoke-secret <name|uri> <app>`: `app`'s units can no longer read the user secret.
    pub fn revoke_secret(&self, secret: &str, app: &str) -> Result<()> {
        self.mutate(|st| {
            let id =
                find_user_secret(st, secret).ok_or_else(|| Error::not_found("secret", secret))?;
            let Some(sec) = st.secrets.get_mut(&id) else {
                return Err(Error::not_found("secret", secret));
            };
            sec.grants
                .retain(|g| !(g.app == app && g.relation.is_none()));
            let prefix = format!("{app}/");
            sec.consumers.retain(|u, _| !u.starts_with(&prefix));
            Ok(())
        })
    }

    /// Queues secret-rotate for the secret's owner.
    pub fn secret_rotate(&self, uri: &str) -> Result<String> {
        self.mutate(|st| {
            let sec = st
                .find_secret(uri)
                .ok_or_else(|| Error::not_found("secret", uri))?;
            let id = sec.id.clone();
            let target =
                owner_unit(st, &sec.owner).ok_or_else(|| invalid("secret owner has no unit"))?;
            let spec = HookSpec {
                secret: Some(id),
                ..HookSpec::simple("secret-rotate")
            };
            if let Some(u) = st.unit_mut(&target) {
                u.agent.queue.push_back(spec);
            }
            Ok(target)
        })
    }

    /// Queues secret-expired (for `revision`, default the latest) for the secret's owner.
    pub fn secret_expire(&self, uri: &str, revision: Option<u32>) -> Result<String> {
        self.mutate(|st| {
            let sec = st
                .find_secret(uri)
                .ok_or_else(|| Error::not_found("secret", uri))?;
            let rev = revision.unwrap_or(sec.latest);
            if !sec.revisions.contains_key(&rev) {
                return Err(Error::not_found(
                    "secret revision",
                    format!("{}/{rev}", sec.id),
                ));
            }
            let id = sec.id.clone();
            let target =
                owner_unit(st, &sec.owner).ok_or_else(|| invalid("secret owner has no unit"))?;
            let spec = HookSpec {
                secret: Some(id),
                secret_revision: Some(rev),
                ..HookSpec::simple("secret-expired")
            };
            if let Some(u) = st.unit_mut(&target) {
                u.agent.queue.push_back(spec);
            }
            Ok(target)
        })
    }

    /// Clears a unit's hook error: `retry` reruns the failed hook, otherwise it is skipped.
    pub fn resolve(&self, unit: &str, retry: bool) -> Result<()> {
        self.mutate(|st| {
            let u = st
                .unit_mut(unit)
                .ok_or_else(|| Error::not_found("unit", unit))?;
            let Some(failure) = u.agent.error.take() else {
                return Err(invalid(format!("unit {unit:?} is not in error")));
            };
            if !retry {
                mark_done(st, unit, &failure.hook, failure.queued);
            }
            Ok(())
        })
    }

    /// The next hook each unit would run (for `status`).
    pub fn pending(&self) -> Result<Vec<(String, String)>> {
        let st = self.state()?;
        Ok(st
            .unit_names()
            .into_iter()
            .filter_map(|u| next_hook(&st, &u).map(|(h, _)| (u, h.describe())))
            .collect())
    }

    /// Runs queued hooks until nothing is pending (units in error are skipped), at most `max_hooks`.
    pub fn settle(&self, max_hooks: usize) -> Result<SettleReport> {
        let _lock = self.lock()?;
        self.ensure_tools()?;
        let pods = self.pods();
        pods.ensure_up(&self.state()?)?;
        let mut report = SettleReport::default();
        let mut cursor: Option<String> = None;
        loop {
            let mut st = self.state()?;
            tidy(&mut st);
            // What the workload containers reported becomes hooks, as Juju's pollers queue them.
            pods.poll(&mut st)?;
            let units = st.unit_names();
            let start = cursor
                .as_ref()
                .and_then(|c| units.iter().position(|u| u == c).map(|i| i + 1))
                .unwrap_or(0);
            let order = units.iter().cycle().skip(start).take(units.len());
            let mut next = None;
            for u in order {
                if let Some((spec, source)) = next_hook(&st, u) {
                    next = Some((u.clone(), spec, source));
                    break;
                }
            }
            let Some((unit, spec, source)) = next else {
                st.save(&self.dir)?;
                break;
            };
            if report.hooks_run >= max_hooks {
                st.save(&self.dir)?;
                let pending: Vec<String> = units
                    .iter()
                    .filter_map(|u| {
                        next_hook(&st, u).map(|(h, _)| format!("{u}: {}", h.describe()))
                    })
                    .collect();
                return Err(Error::DidNotSettle(max_hooks, pending.join("; ")));
            }
            self.run_agent_hook(&mut st, &unit, &spec, source == Source::Queue)?;
            report.hooks_run += 1;
            cursor = Some(unit);
        }
        let st = self.state()?;
        pods.reap_removed(&st)?;
        for u in st.applications.values().flat_map(|a| a.units.values()) {
            if let Some(e) = &u.agent.error {
                report.errors.push((u.name.clone(), e.message.clone()));
            }
        }
        Ok(report)
    }

    /// Starts `unit`'s workload `container` (a new Pebble boot: `<container>-pebble-ready` at the
    /// next `settle`), also after [`Model::stop_container`].
    pub fn start_container(&self, unit: &str, container: &str) -> Result<()> {
        let _lock = self.lock()?;
        self.check_container(unit, container)?;
        self.pods().start(unit, container)
    }

    /// Stops `unit`'s workload `container` (its services stop, its socket goes away) and keeps it
    /// down until [`Model::start_container`]; hooks meanwhile find no Pebble.
    pub fn stop_container(&self, unit: &str, container: &str) -> Result<()> {
        let _lock = self.lock()?;
        self.check_container(unit, container)?;
        self.pods().stop(unit, container, true)
    }

    /// Stops every workload container of the model (their daemons do not outlive a test or a
    /// scenario); the next `settle` starts them again with new boot ids.
    pub fn stop_containers(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.pods().stop_all(&self.state()?)
    }

    /// The host path of `unit`'s Pebble socket for `container` (`/charm/containers/<container>/
    /// pebble.socket` inside its hooks).
    pub fn container_socket(&self, unit: &str, container: &str) -> Result<PathBuf> {
        self.check_container(unit, container)?;
        Ok(crate::workload::socket_path(&self.dir, unit, container))
    }

    /// The host directory that is `container`'s `/` for `unit`.
    pub fn container_root(&self, unit: &str, container: &str) -> Result<PathBuf> {
        self.check_container(unit, container)?;
        Ok(crate::workload::root_dir(&self.dir, unit, container))
    }

    /// `running`, `down` (stopped on purpose) or `exited` (restarted by the next `settle`).
    pub fn container_state(&self, unit: &str, container: &str) -> Result<&'static str> {
        self.check_container(unit, container)?;
        Ok(match self.pods().state(unit, container) {
            ContainerState::Running(_) => "running",
            ContainerState::Down => "down",
            ContainerState::Exited => "exited",
        })
    }

    fn check_container(&self, unit: &str, container: &str) -> Result<()> {
        let st = self.state()?;
        st.unit(unit)
            .ok_or_else(|| Error::not_found("unit", unit))?;
        let (app, _) = unit_key(unit);
        let declared = st
            .applications
            .get(&app)
            .is_some_and(|a| a.meta.containers.iter().any(|c| c == container));
        if !declared {
            return Err(invalid(format!(
                "application {app:?} has no container {container:?}"
            )));
        }
        Ok(())
    }

    /// Runs one hook on a unit by hand, outside the agent's bookkeeping. Relation hooks need
    /// `spec.relation`; the other event variables default sensibly.
    pub fn run_hook(&self, unit: &str, spec: HookSpec) -> Result<HookRecord> {
        let _lock = self.lock()?;
        self.ensure_tools()?;
        let mut st = self.state()?;
        st.unit(unit)
            .ok_or_else(|| Error::not_found("unit", unit))?;
        let spec = complete_spec(&st, unit, spec)?;
        let rec = self.executor().execute(&mut st, unit, &spec, "manual")?;
        Ok(rec)
    }

    /// Runs an action on a unit with `key=value` parameters (YAML values, dotted keys nest).
    pub fn run_action(
        &self,
        unit: &str,
        action: &str,
        params: &[(String, String)],
    ) -> Result<ActionOutcome> {
        let mut map = serde_json::Map::new();
        for (k, v) in params {
            set_dotted(&mut map, k, parse_param_value(v));
        }
        self.run_action_json(unit, action, map)
    }

    /// Runs an action with parameters given as a JSON object.
    pub fn run_action_json(
        &self,
        unit: &str,
        action: &str,
        params: serde_json::Map<String, Value>,
    ) -> Result<ActionOutcome> {
        let _lock = self.lock()?;
        self.ensure_tools()?;
        let mut st = self.state()?;
        let u = st
            .unit(unit)
            .ok_or_else(|| Error::not_found("unit", unit))?;
        if u.life == Life::Dying {
            return Err(invalid(format!("unit {unit:?} is dying")));
        }
        let (app, _) = unit_key(unit);
        let spec_def = st
            .applications
            .get(&app)
            .and_then(|a| a.meta.actions.get(action))
            .cloned()
            .ok_or_else(|| invalid(format!("action {action:?} not defined on unit {unit:?}")))?;
        let params = validate_params(&spec_def, params)?;
        let id = st.next_action_id;
        st.next_action_id += 1;
        let spec = HookSpec {
            action_id: Some(id),
            action_params: Some(params),
            ..HookSpec::simple(action)
        };
        self.executor().execute(&mut st, unit, &spec, "action")?;
        let st = self.state()?;
        st.actions
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found("action", id.to_string()))
    }

    /// The `status` table (with the hook each unit would run next).
    pub fn status_text(&self) -> Result<String> {
        let st = self.state()?;
        let mut text = crate::report::status_text(&st, &self.pending()?);
        // Workload containers, when there are any (`running`, `down` or `exited`).
        let pods = self.pods();
        let mut rows = Vec::new();
        for app in st.applications.values() {
            for u in app.units.values() {
                for c in &app.meta.containers {
                    let state = match pods.state(&u.name, c) {
                        ContainerState::Running(_) => "running",
                        ContainerState::Down => "down",
                        ContainerState::Exited => "exited",
                    };
                    rows.push(format!("{:<24} {:<24} {state}\n", u.name, c));
                }
            }
        }
        if !rows.is_empty() {
            text.push_str(&format!("\n{:<24} {:<24} State\n", "Unit", "Container"));
            text.extend(rows);
        }
        Ok(text)
    }

    /// The whole model as JSON (`show --format json`, `status --format json`); databag and
    /// secret values shown only with `reveal`.
    pub fn show_json(&self, reveal: bool) -> Result<Value> {
        Ok(crate::report::show_json(
            &self.state()?,
            &self.pending()?,
            reveal,
        ))
    }

    /// The recorded timeline.
    pub fn timeline(&self) -> Result<Vec<HookRecord>> {
        crate::timeline::read(&self.dir.join("timeline.jsonl"))
    }

    /// Adds key patterns whose values printed output hides (kept in the model for `timeline`).
    pub fn add_redactions(&self, patterns: &[String]) -> Result<()> {
        if patterns.is_empty() {
            return Ok(());
        }
        self.mutate(|st| {
            for p in patterns {
                if !st.redact.contains(p) {
                    st.redact.push(p.clone());
                }
            }
            Ok(())
        })
    }

    /// What printed output of this model hides: everything of [`Redaction`]'s rules, or nothing
    /// with `reveal`.
    pub fn redaction(&self, reveal: bool) -> Result<Redaction> {
        if reveal {
            return Ok(Redaction::reveal_all());
        }
        Ok(Redaction::new(self.state()?.redact))
    }

    // ------------------------------------------------------------------ running hooks

    fn run_agent_hook(
        &self,
        st: &mut ModelState,
        unit: &str,
        spec: &HookSpec,
        queued: bool,
    ) -> Result<()> {
        // Juju shows "maintenance: installing charm software" while install runs.
        if spec.name == "install"
            && let Some(u) = st.unit_mut(unit)
            && u.status == Status::new("waiting", "agent initialising")
        {
            u.status = Status::new("maintenance", "installing charm software");
        }
        let rec = self.executor().execute(st, unit, spec, "hook")?;
        let mut st2 = self.state()?;
        if rec.outcome == "failed" {
            if let Some(u) = st2.unit_mut(unit) {
                u.agent.error = Some(HookFailure {
                    hook: spec.clone(),
                    message: rec
                        .error
                        .clone()
                        .unwrap_or_else(|| format!("exit status {}", rec.exit_code)),
                    queued,
                });
            }
        } else {
            mark_done(&mut st2, unit, spec, queued);
            self.ensure_subordinates(&mut st2)?;
        }
        tidy(&mut st2);
        st2.save(&self.dir)?;
        *st = st2;
        Ok(())
    }
}
