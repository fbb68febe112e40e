//! Helpers of the s3 contract tests: the two charms under test, the Python fixtures, and a
//! by-hand relation between one provider and several requirers (bags copied across after each run).

use charm::{BagData, Event};
use charm_testing::{Harness, Output, Relation, Secret, State};

/// The `s3` endpoint on both sides.
pub const ENDPOINT: &str = "s3-credentials";
/// The provider application's name.
pub const PROVIDER_APP: &str = "s3-integrator";

/// What the Python requirer writes for relation 3 when given no bucket name.
pub const PY_REQUIRER_DEFAULT: &str = include_str!("../fixtures/python-requirer-default.json");
/// What the Python requirer writes when given `test-bucket`.
pub const PY_REQUIRER_NAMED: &str = include_str!("../fixtures/python-requirer-named.json");
/// What the Python s3-integrator sends for the inputs in `fixtures/README.md`.
pub const PY_PROVIDER_FULL: &str = include_str!("../fixtures/python-provider-full.json");
/// What the Python s3-integrator sends after resetting its list options.
pub const PY_PROVIDER_RESET_LISTS: &str =
    include_str!("../fixtures/python-provider-reset-lists.json");

/// What the published Python v1 requirer (`object-storage-charmlib` 1.0.0) writes in its app bag
/// for bucket `wanted`, path `backups/`.
pub const PY_V1_REQUIRER: &str = include_str!("../fixtures/python-v1-requirer.json");
/// ... and in its leader's own unit bag.
pub const PY_V1_REQUIRER_UNIT: &str = include_str!("../fixtures/python-v1-requirer-unit.json");
/// What the published Python v1 provider writes for that request (credentials in its secret).
pub const PY_V1_PROVIDER: &str = include_str!("../fixtures/python-v1-provider.json");
/// The same answer from s3-integrator 2/'s own library (`lib-version`, no `version`).
pub const S3_INTEGRATOR_2_PROVIDER: &str =
    include_str!("../fixtures/s3-integrator-2-provider.json");

/// A fixture as a bag. Fixtures are ours and valid: a bad one is a broken test.
pub fn fixture(text: &str) -> BagData {
    match serde_json::from_str(text) {
        Ok(bag) => bag,
        #[allow(clippy::panic)]
        Err(e) => panic!("fixture is not a JSON object of strings: {e}"),
    }
}

/// What the Python requirer's `get_s3_connection_info()` makes of a bag: every value that parses as
/// JSON is replaced by the parsed value (`"7"` becomes 7), the rest stay strings.
pub fn python_view(bag: &BagData) -> serde_json::Value {
    let object = bag
        .iter()
        .map(|(k, v)| {
            let value =
                serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.clone()));
            (k.clone(), value)
        })
        .collect();
    serde_json::Value::Object(object)
}

/// The s3-integrator under test, as unit `n`.
pub fn provider(n: u32) -> Harness {
    Harness::new(s3_integrator::charm(), s3_integrator::METADATA)
        .config_yaml(s3_integrator::CONFIG)
        .unit(n)
}

/// The s3-consumer under test.
pub fn consumer() -> Harness {
    Harness::new(s3_consumer::charm(), s3_consumer::METADATA).config_yaml(s3_consumer::CONFIG)
}

/// One provider application related to several requirer applications, one unit each side.
#[derive(Debug, Clone)]
pub struct Model {
    /// The provider leader's view.
    pub provider: State,
    /// Each requirer application: its name, relation id and its leader's view.
    pub requirers: Vec<(String, u32, State)>,
}

impl Model {
    /// A provider (leader) and no requirer yet.
    pub fn new(provider: State) -> Self {
        Model {
            provider: provider.leader(true),
            requirers: Vec::new(),
        }
    }

    /// Relates a requirer application `app` (its leader's state `state`) under relation `id`.
    pub fn relate(&mut self, app: &str, id: u32, state: State) {
        let on_provider = Relation::new(ENDPOINT, id, app).remote_unit(0, BagData::new());
        let on_requirer = Relation::new(ENDPOINT, id, PROVIDER_APP).remote_unit(0, BagData::new());
        self.provider.relations.push(on_provider);
        self.requirers
            .push((app.to_string(), id, state.relation(on_requirer)));
    }

    /// Relates a requirer application whose relation started as s3 v0: its leader's bag already
    /// holds `bucket=relation-<id>` and no v1 key (a v0 charm refreshed in place), so both sides
    /// keep speaking v0 on it.
    pub fn relate_v0(&mut self, app: &str, id: u32, state: State) {
        self.relate(app, id, state);
        let bucket = format!("relation-{id}");
        let state = self.requirer_mut(id);
        if let Some(rel) = state.relations.iter_mut().find(|r| r.id == id) {
            rel.local_app_data.insert("bucket".into(), bucket);
        }
    }

    /// The requirer of `id` runs relation-created (its leader asks for secrets: s3 v1).
    pub fn requirer_created(&mut self, harness: &Harness, id: u32) -> Output {
        let event = Relation::new(ENDPOINT, id, PROVIDER_APP).created();
        self.run_requirer(harness, id, event)
    }

    /// The requirer state of relation `id`.
    pub fn requirer(&self, id: u32) -> &State {
        match self.requirers.iter().find(|(_, rid, _)| *rid == id) {
            Some((_, _, state)) => state,
            #[allow(clippy::panic)]
            None => panic!("no requirer on relation {id}"),
        }
    }

    fn requirer_mut(&mut self, id: u32) -> &mut State {
        match self.requirers.iter_mut().find(|(_, rid, _)| *rid == id) {
            Some((_, _, state)) => state,
            #[allow(clippy::panic)]
            None => panic!("no requirer on relation {id}"),
        }
    }

    /// The provider app bag on relation `id` (what the requirer reads).
    pub fn provider_bag(&self, id: u32) -> BagData {
        self.provider
            .rel(id)
            .map(|r| r.local_app_data.clone())
            .unwrap_or_default()
    }

    /// The requirer app bag on relation `id` (what the provider reads).
    pub fn requirer_bag(&self, id: u32) -> BagData {
        self.requirer(id)
            .rel(id)
            .map(|r| r.local_app_data.clone())
            .unwrap_or_default()
    }

    /// Runs `event` on the provider leader; keeps the new state.
    pub fn run_provider(&mut self, harness: &Harness, event: Event) -> Output {
        let out = harness.run(event, self.provider.clone());
        self.provider = out.state.clone();
        out
    }

    /// Runs an action on the provider leader; keeps the new state.
    pub fn provider_action(
        &mut self,
        harness: &Harness,
        name: &str,
        params: serde_json::Value,
    ) -> Output {
        let out = harness.run_action(name, params, self.provider.clone());
        self.provider = out.state.clone();
        out
    }

    /// Runs `event` on the requirer of relation `id`; keeps the new state.
    pub fn run_requirer(&mut self, harness: &Harness, id: u32, event: Event) -> Output {
        let out = harness.run(event, self.requirer(id).clone());
        *self.requirer_mut(id) = out.state.clone();
        out
    }

    /// The requirer of `id` joins (its leader asks for a bucket).
    pub fn requirer_joins(&mut self, harness: &Harness, id: u32) -> Output {
        let event = Relation::new(ENDPOINT, id, PROVIDER_APP).joined(0);
        self.run_requirer(harness, id, event)
    }

    /// Copies the requirer bag of `id` to the provider and runs its relation-changed.
    pub fn to_provider(&mut self, harness: &Harness, id: u32) -> Output {
        let bag = self.requirer_bag(id);
        if let Some(rel) = self.provider.relations.iter_mut().find(|r| r.id == id) {
            rel.remote_app_data = bag;
        }
        let event = self
            .provider
            .rel(id)
            .map(|r| r.changed(None))
            .unwrap_or(Event::UpdateStatus);
        self.run_provider(harness, event)
    }

    /// Copies the provider bag of `id` to its requirer and runs the requirer's relation-changed.
    pub fn to_requirer(&mut self, harness: &Harness, id: u32) -> Output {
        let bag = self.provider_bag(id);
        self.share_secret(id);
        let state = self.requirer_mut(id);
        if let Some(rel) = state.relations.iter_mut().find(|r| r.id == id) {
            rel.remote_app_data = bag;
        }
        let event = Relation::new(ENDPOINT, id, PROVIDER_APP).changed(None);
        self.run_requirer(harness, id, event)
    }

    /// Copies the provider's credentials secret of relation `id` (v1) to its requirer, as a
    /// secret granted to it; what the requirer tracks and its label stay. Returns the requirer's
    /// copy, if there is one.
    pub fn share_secret(&mut self, id: u32) -> Option<Secret> {
        let label = format!("{ENDPOINT}.{id}.extra.secret");
        let owned = self.provider.secret_by(&label)?.clone();
        let state = self.requirer_mut(id);
        let unique = charm::secret::unique_id(&owned.id).to_string();
        let mut copy = Secret::granted(&owned.id, charm::SecretContent::new());
        copy.revisions = owned.revisions.clone();
        match state
            .secrets
            .iter_mut()
            .find(|s| charm::secret::unique_id(&s.id) == unique)
        {
            Some(existing) => {
                existing.revisions = owned.revisions;
                Some(existing.clone())
            }
            None => {
                state.secrets.push(copy.clone());
                Some(copy)
            }
        }
    }

    /// The provider made a new revision of relation `id`'s secret: the requirer runs
    /// secret-changed (as Juju sends it to a consumer tracking an older revision).
    pub fn secret_to_requirer(&mut self, harness: &Harness, id: u32) -> Option<Output> {
        let secret = self.share_secret(id)?;
        Some(self.run_requirer(harness, id, secret.changed()))
    }
}
