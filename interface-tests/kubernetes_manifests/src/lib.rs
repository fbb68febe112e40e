//! Fixtures for the `kubernetes_manifest` contract tests, and a ready-made benchmark: a
//! resource-dispatcher hook that reads 1,000 manifests.
//!
//! ```
//! let bench = kubernetes_manifests_contract::ProviderBench::new(1_000, 4);
//! let out = bench.run();
//! assert!(out.ok());
//! // No workload container in the bench: the relation side is what it measures.
//! assert_eq!(out.state.unit_status.unwrap().message, "Container is not ready");
//! ```

use charm::Event;
use charm::secret::SecretContent;
use charm_testing::{Harness, Output, Relation, Secret, State};
use kubernetes_manifests::{KubernetesManifest, wire};
use serde_json::{Value, json};

/// The wire fixtures: what the Python library writes for given inputs (see `fixtures/`).
pub const PYTHON_WIRE: &str = include_str!("../fixtures/python-wire.json");
/// YAML inputs and the JSON text Python's `json.dumps(yaml.safe_load(...))` writes for them.
pub const YAML11: &str = include_str!("../fixtures/yaml11.json");

/// The resource-dispatcher charm in a harness, with its config options.
pub fn dispatcher() -> Harness {
    Harness::new(resource_dispatcher::charm(), resource_dispatcher::METADATA)
        .config_yaml(resource_dispatcher::CONFIG)
}

/// The dispatcher's state: the leader (only it writes files), its workload container up (the
/// harness's in-memory Pebble).
pub fn dispatcher_state() -> State {
    State::default()
        .leader(true)
        .container(charm_testing::Container::new("resource-dispatcher"))
}

/// The manifests-tester charm in a harness, with its config options.
pub fn tester() -> Harness {
    Harness::new(manifests_tester::charm(), manifests_tester::METADATA)
        .config_yaml(manifests_tester::CONFIG)
}

/// One fixture of [`PYTHON_WIRE`] by name (`Value::Null` if absent or unreadable).
pub fn python_fixture(name: &str) -> Value {
    serde_json::from_str::<Value>(PYTHON_WIRE)
        .ok()
        .and_then(|v| v.get(name).cloned())
        .unwrap_or(Value::Null)
}

/// `n` distinct, realistic manifests (ConfigMaps of about 300 bytes of JSON each).
pub fn manifest_list(n: usize) -> Vec<KubernetesManifest> {
    (0..n)
        .filter_map(|i| {
            KubernetesManifest::from_value(json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": format!("settings-{i:05}"),
                    "labels": {"app.kubernetes.io/part-of": "kubeflow", "user.kubeflow.org/enabled": "true"},
                },
                "data": {
                    "endpoint": format!("http://minio.kubeflow.svc.cluster.local:9000/bucket-{i}"),
                    "enabled": true,
                    "retries": 3,
                    "note": "généré",
                },
            }))
            .ok()
        })
        .collect()
}

/// The JSON text a requirer sends for `n` manifests (Python `json.dumps` format).
pub fn manifest_list_json(n: usize) -> String {
    wire::encode_manifest_list(&manifest_list(n))
}

/// A resource-dispatcher hook that reads `manifests` manifests spread over `apps` requirer apps
/// on the `config-maps` endpoint (secret mode), triggered by the first relation's
/// relation-changed. Build it once; time [`ProviderBench::run`].
pub struct ProviderBench {
    /// The charm under test.
    pub harness: Harness,
    /// The event.
    pub event: Event,
    /// The model before the hook.
    pub state: State,
}

impl ProviderBench {
    /// Builds the fixture.
    pub fn new(manifests: usize, apps: usize) -> Self {
        let apps = apps.max(1);
        let all = manifest_list(manifests);
        let per_app = manifests.div_ceil(apps);
        // The leader: the unit that writes files (its container is not up here).
        let mut state = State::default().leader(true);
        let mut event = Event::UpdateStatus;
        for (i, chunk) in all.chunks(per_app.max(1)).enumerate() {
            let id = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let secret_id = format!("secret:bench{id:015}");
            let rel =
                Relation::new("config-maps", id, &format!("requirer-{id}")).remote_app_data([
                    (wire::KUBERNETES_MANIFESTS_FIELD, secret_id.as_str()),
                    (wire::IS_SECRET_FIELD, wire::IS_SECRET_TRUE),
                ]);
            if i == 0 {
                event = rel.changed(None);
            }
            let content = SecretContent::new().with(
                wire::MANIFESTS_SECRET_KEY,
                wire::encode_manifest_list(chunk),
            );
            state = state
                .relation(rel)
                .secret(Secret::granted(&secret_id, content));
        }
        // The dispatcher has run before: its summary exists, only config-maps is re-read.
        let harness = dispatcher();
        let warm = harness.run(Event::UpdateStatus, state);
        ProviderBench {
            harness,
            event,
            state: warm.state,
        }
    }

    /// Runs the hook once.
    pub fn run(&self) -> Output {
        self.harness.run(self.event.clone(), self.state.clone())
    }
}
