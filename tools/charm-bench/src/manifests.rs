//! What a resource-dispatcher hook costs when a requirer sends 1,000 manifests (target: under
//! 20 ms of the charm's own time per hook).
//!
//! The hook is `config-maps-relation-changed` on a dispatcher that has run before (its summary is
//! stored, so only `config-maps` is re-read): read the requirer's bag, read its secret (one
//! `secret-get`: label, refresh and content), decode and check the JSON list of 1,000 ConfigMaps
//! (about 300 KB), look for conflicts, store the summary, set the status.
//!
//! 1. The release `resource-dispatcher` binary (next to this executable in `target/release`), run
//!    as a process against stub hook tools (`/bin/sh` scripts): its own time as it measures it
//!    (`CHARM_METRICS_FILE`: wall time minus the time spent waiting for hook tools), the same from
//!    exec to exit (process start-up included), hook-tool calls, peak RSS.
//! 2. The same hook in process through the in-memory harness (`charm-testing`), where hook tools
//!    cost nothing, with the 1,000 manifests from one app and spread over four.
//!
//! Medians over [`RUNS`] runs, after one warm-up run.

use charm::Event;
use charm::secret::SecretContent;
use charm_testing::{Harness, Relation, Secret, State, StubTools};
use kubernetes_manifests::{KubernetesManifest, wire};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs per measurement.
pub const RUNS: usize = 50;
/// Manifests the requirers send in total.
pub const MANIFESTS: usize = 1_000;
/// The target for the charm's own time per hook, in milliseconds.
pub const TARGET_MS: f64 = 20.0;

/// `n` distinct, realistic manifests (ConfigMaps of about 300 bytes of JSON each).
fn manifest_list(n: usize) -> Result<Vec<KubernetesManifest>, String> {
    (0..n)
        .map(|i| {
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
            .map_err(|e| format!("benchmark manifest {i}: {e}"))
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One row of the table.
struct Row {
    what: String,
    own_ms: f64,
    exec_ms: Option<f64>,
    calls: f64,
    rss_mib: Option<f64>,
}

/// The secret id of requirer `n` (20 base32hex characters, as Juju makes them).
fn secret_id(n: usize) -> String {
    format!("secret:bench{n:015}")
}

/// The harness fixture: `apps` requirers on `config-maps` sharing the manifests; the event is the
/// first relation's relation-changed, on a dispatcher that has already run once.
fn harness_fixture(
    all: &[KubernetesManifest],
    apps: usize,
) -> Result<(Harness, Event, State), String> {
    let per_app = all.len().div_ceil(apps.max(1)).max(1);
    let mut state = State::default().leader(true);
    let mut event = None;
    for (i, chunk) in all.chunks(per_app).enumerate() {
        let id = u32::try_from(i + 1).map_err(|e| e.to_string())?;
        let secret = secret_id(i + 1);
        let rel = Relation::new("config-maps", id, &format!("requirer-{id}")).remote_app_data([
            (wire::KUBERNETES_MANIFESTS_FIELD, secret.as_str()),
            (wire::IS_SECRET_FIELD, wire::IS_SECRET_TRUE),
        ]);
        if event.is_none() {
            event = Some(rel.changed(None));
        }
        let content = SecretContent::new().with(
            wire::MANIFESTS_SECRET_KEY,
            wire::encode_manifest_list(chunk),
        );
        state = state
            .relation(rel)
            .secret(Secret::granted(&secret, content));
    }
    let event = event.ok_or("no manifests to send")?;
    let harness = Harness::new(resource_dispatcher::charm(), resource_dispatcher::METADATA)
        .config_yaml(resource_dispatcher::CONFIG);
    // The first hook reads every endpoint and stores the summary; later ones re-read config-maps.
    let warm = harness.run(Event::UpdateStatus, state);
    if !warm.ok() {
        return Err(format!("warm-up hook failed: {:?}", warm.result));
    }
    Ok((harness, event, warm.state))
}

fn harness_row(all: &[KubernetesManifest], apps: usize) -> Result<Row, String> {
    let (harness, event, state) = harness_fixture(all, apps)?;
    // No workload container in the bench: the dispatcher reads the relations (what is measured)
    // and says it waits for its container.
    let _ = (all.len(), apps);
    let want = "Container is not ready".to_string();
    let mut times = Vec::with_capacity(RUNS);
    let mut calls = 0;
    for _ in 0..=RUNS {
        let input = state.clone();
        let start = Instant::now();
        let out = harness.run(event.clone(), input);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        let status = out.state.unit_status.as_ref().map(|s| s.message.as_str());
        if !out.ok() || status != Some(want.as_str()) {
            return Err(format!(
                "harness hook: {:?}, status {status:?}, expected {want:?}",
                out.result
            ));
        }
        calls = out.calls.len();
        std::hint::black_box(&out);
    }
    times.remove(0);
    Ok(Row {
        what: format!(
            "in process, harness, {apps} app{} x {}",
            if apps == 1 { "" } else { "s" },
            all.len().div_ceil(apps.max(1))
        ),
        own_ms: median(times),
        exec_ms: None,
        calls: calls as f64,
        rss_mib: None,
    })
}

/// The release binary next to this executable (`make charms` builds it).
fn release_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find charm-bench: {e}"))?;
    let path = exe
        .parent()
        .map(|d| d.join("resource-dispatcher"))
        .ok_or("charm-bench has no parent directory")?;
    if !path.is_file() {
        return Err(format!(
            "{} is missing (run `make charms`, which builds every binary in release mode)",
            path.display()
        ));
    }
    Ok(path)
}

/// One line of `CHARM_METRICS_FILE`: (own µs, tool µs, tool calls, peak RSS KiB, ok).
fn metric_lines(path: &Path) -> Vec<(f64, f64, f64, f64, bool)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            (
                v["own_us"].as_f64().unwrap_or(0.0),
                v["tool_us"].as_f64().unwrap_or(0.0),
                v["tool_calls"].as_f64().unwrap_or(0.0),
                v["peak_rss_kb"].as_f64().unwrap_or(0.0),
                v["ok"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn binary_row(all: &[KubernetesManifest]) -> Result<Row, String> {
    let binary = release_binary()?;
    let io = |e: std::io::Error| format!("stub hook tools: {e}");
    let stubs = StubTools::new().map_err(io)?;
    let work = stubs.root().join("charm");
    std::fs::create_dir_all(&work).map_err(io)?;
    let bag = json!({
        wire::IS_SECRET_FIELD: wire::IS_SECRET_TRUE,
        wire::KUBERNETES_MANIFESTS_FIELD: secret_id(1),
    });
    let content = json!({ wire::MANIFESTS_SECRET_KEY: wire::encode_manifest_list(all) });
    let answers = [
        ("relation-ids", "[]".to_string()),
        ("relation-list", r#""requirer""#.to_string()),
        ("relation-get", bag.to_string()),
        ("secret-get", content.to_string()),
        ("is-leader", "true".to_string()),
        ("config-get", "{}".to_string()),
    ];
    for (tool, out) in &answers {
        stubs.answer(tool, out).map_err(io)?;
    }
    stubs
        .answer_for("relation-ids", "config-maps", r#"["config-maps:1"]"#)
        .map_err(io)?;
    let metrics = stubs.root().join("metrics.jsonl");
    let path = format!(
        "{}:{}",
        stubs.bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut outside = Vec::with_capacity(RUNS);
    for run in 0..=RUNS {
        // The first run reads every endpoint and stores the summary; it is left out.
        let start = Instant::now();
        let status = Command::new(&binary)
            .env_clear()
            .env("PATH", &path)
            .env("JUJU_DISPATCH_PATH", "hooks/config-maps-relation-changed")
            .env("JUJU_UNIT_NAME", "resource-dispatcher/0")
            .env("JUJU_VERSION", "3.6.14")
            .env("JUJU_CHARM_DIR", &work)
            .env("JUJU_RELATION", "config-maps")
            .env("JUJU_RELATION_ID", "config-maps:1")
            .env("JUJU_REMOTE_APP", "requirer")
            .env("JUJU_REMOTE_UNIT", "requirer/0")
            .env("CHARM_METRICS_FILE", &metrics)
            .current_dir(&work)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        if !status.success() {
            return Err(format!(
                "resource-dispatcher config-maps-relation-changed failed ({status})"
            ));
        }
        if run > 0 {
            outside.push(start.elapsed());
        }
    }
    let lines = metric_lines(&metrics);
    if lines.len() != RUNS + 1 || lines.iter().any(|l| !l.4) {
        return Err(format!(
            "expected {} successful metrics lines in {}, found {}",
            RUNS + 1,
            metrics.display(),
            lines.len()
        ));
    }
    // The dispatcher ran to the end (no workload container here, so it waits for one).
    let status_set = stubs
        .calls()
        .into_iter()
        .rfind(|c| c.first().is_some_and(|t| t == "status-set"))
        .map(|c| c.join(" "))
        .unwrap_or_default();
    let want = "Container is not ready".to_string();
    if !status_set.contains(&want) {
        return Err(format!(
            "the dispatcher did not report {want:?} (last status-set: {status_set:?})"
        ));
    }
    let lines = &lines[1..];
    let exec_own: Vec<f64> = outside
        .iter()
        .zip(lines)
        .map(|(d, l)| (d.as_secs_f64() * 1e6 - l.1) / 1000.0)
        .collect();
    Ok(Row {
        what: "release binary, stub hook tools, 1 app".to_string(),
        own_ms: median(lines.iter().map(|l| l.0).collect()) / 1000.0,
        exec_ms: Some(median(exec_own)),
        calls: median(lines.iter().map(|l| l.2).collect()),
        rss_mib: Some(median(lines.iter().map(|l| l.3).collect()) / 1024.0),
    })
}

/// Measures the dispatcher over 1,000 manifests and prints the table; fails if a hook fails or
/// reports the wrong count (not if it is slow: the target is printed next to the figures).
pub fn run() -> Result<(), String> {
    let all = manifest_list(MANIFESTS)?;
    let bytes = wire::encode_manifest_list(&all).len();
    let started = Instant::now();
    let rows = vec![
        binary_row(&all)?,
        harness_row(&all, 1)?,
        harness_row(&all, 4)?,
    ];
    println!(
        "\n== resource-dispatcher: config-maps-relation-changed over {MANIFESTS} manifests ({} KiB of JSON), {RUNS} runs, medians",
        bytes / 1024
    );
    println!(
        "{:<36} {:>9} {:>14} {:>7} {:>9}",
        "measured", "own ms", "exec->exit ms", "calls", "RSS MiB"
    );
    let dash = |v: Option<f64>, prec: usize| v.map_or("-".to_string(), |v| format!("{v:.prec$}"));
    for row in &rows {
        println!(
            "{:<36} {:>9.2} {:>14} {:>7} {:>9}",
            row.what,
            row.own_ms,
            dash(row.exec_ms, 2),
            row.calls,
            dash(row.rss_mib, 2)
        );
    }
    let worst = rows.iter().map(|r| r.own_ms).fold(0.0, f64::max);
    println!(
        "target: own time under {TARGET_MS:.0} ms per hook: {} (worst median {worst:.2} ms; measured in {:.1} s)",
        if worst < TARGET_MS { "met" } else { "NOT met" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
