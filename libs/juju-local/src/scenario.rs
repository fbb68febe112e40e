//! Scenario files: YAML lists of steps (deploy, relate, config, leader, action, remove, settle, run)
//! and expectations (bag contents, statuses, leaders, library events, action results).
//!
//! ```yaml
//! name: db handshake
//! settle: true            # settle after every step (default)
//! hook_timeout: 30        # seconds a charm process may run (0: no limit)
//! steps:
//!   - deploy: {charm: ./charms/db, app: db, units: 2, config: {port: "5432"}}
//!   - deploy: {charm: ./charms/app}
//!   - relate: [app:db, db:db]
//!   - expect:
//!       leader: {db: db/0}
//!       status: {db/0: active, app/0: {status: active, message: ready}}
//!       bags:
//!         - {relation: "app:db db:db", bag: db, contains: {host: 10.1.1.10}}
//!       events: [{event: DatabaseCreated, unit: app/0}]
//!   - action: {unit: db/0, name: backup, params: {target: /tmp}, expect: {status: completed}}
//!   - deploy: {charm: ./charms/agent}          # a subordinate: no units until related
//!   - relate: [agent, db]                      # through db's implicit juju-info endpoint
//!   - expect:
//!       units: {agent: [agent/0, agent/1]}
//!       principal: {agent/0: db/0, agent/1: db/1}
//!       status: {agent/1: active}
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::options::{DeployOptions, ModelOptions};
use crate::state::{HookSpec, ModelState};

mod workload;

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// 1-based step number.
    pub index: usize,
    /// The step kind (`deploy`, `expect`, ...).
    pub kind: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Why it failed, or a short note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The outcome of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario name.
    pub name: String,
    /// True when every step succeeded.
    pub passed: bool,
    /// The steps run (stops at the first failure).
    pub steps: Vec<StepResult>,
    /// The model directory (kept for inspection).
    pub model_dir: PathBuf,
    /// Number of hooks run in total.
    pub hooks_run: usize,
}

impl ScenarioResult {
    /// The first failure, as `step N (kind): message`.
    pub fn failure(&self) -> Option<String> {
        self.steps.iter().find(|s| !s.ok).map(|s| {
            format!(
                "step {} ({}): {}",
                s.index,
                s.kind,
                s.message.clone().unwrap_or_default()
            )
        })
    }
}

fn fail(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

fn tool_binary_default() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("JUJU_LOCAL_BIN") {
        return Ok(PathBuf::from(p));
    }
    std::env::current_exe().map_err(|e| Error::io("cannot find own executable", "juju-local", e))
}

/// Runs a scenario file with the `juju-local` binary from `$JUJU_LOCAL_BIN` (or the running executable)
/// in a fresh temporary model.
pub fn run_file(path: impl AsRef<Path>) -> Result<ScenarioResult> {
    run_file_with(path, ModelOptions::new(tool_binary_default()?), None)
}

/// Runs a scenario file with explicit model options, in `model_dir` (fresh temp dir when `None`).
pub fn run_file_with(
    path: impl AsRef<Path>,
    opts: ModelOptions,
    model_dir: Option<&Path>,
) -> Result<ScenarioResult> {
    let path = path.as_ref();
    let text = crate::files::read_to_string(path)?;
    let doc: Value = crate::yaml::from_str(&text).map_err(|e| Error::Format {
        what: format!("scenario {}", path.display()),
        message: e.to_string(),
    })?;
    let base = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .to_path_buf();
    let dir = match model_dir {
        Some(d) => d.to_path_buf(),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            std::env::temp_dir().join(format!(
                "juju-local-scenario-{}-{nanos}",
                std::process::id()
            ))
        }
    };
    run_doc(&doc, &base, &dir, opts)
}

/// Runs a scenario file and tells its story on `out` as it goes: each `say` step as a heading, the
/// hooks every step ran (outcome, duration, bag changes, library events), and the final status.
/// This is what `make demo` prints.
pub fn run_file_story(
    path: impl AsRef<Path>,
    opts: ModelOptions,
    model_dir: &Path,
    out: &mut dyn std::io::Write,
) -> Result<ScenarioResult> {
    let path = path.as_ref();
    let text = crate::files::read_to_string(path)?;
    let doc: Value = crate::yaml::from_str(&text).map_err(|e| Error::Format {
        what: format!("scenario {}", path.display()),
        message: e.to_string(),
    })?;
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    run_doc_with(&doc, base, model_dir, opts, Some(out))
}

/// Runs an already-parsed scenario document; charm paths are relative to `base`.
pub fn run_doc(
    doc: &Value,
    base: &Path,
    model_dir: &Path,
    opts: ModelOptions,
) -> Result<ScenarioResult> {
    run_doc_with(doc, base, model_dir, opts, None)
}

fn run_doc_with(
    doc: &Value,
    base: &Path,
    model_dir: &Path,
    mut opts: ModelOptions,
    mut story: Option<&mut dyn std::io::Write>,
) -> Result<ScenarioResult> {
    if let Some(t) = doc.get("hook_timeout") {
        opts.hook_timeout = crate::options::parse_hook_timeout(&scalar(t))
            .map_err(|e| fail(format!("scenario `hook_timeout`: {e}")))?;
    }
    let name = doc
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("scenario")
        .to_string();
    let auto_settle = doc.get("settle").and_then(Value::as_bool).unwrap_or(true);
    let max_hooks = doc
        .get("max_hooks")
        .and_then(Value::as_u64)
        .map_or(500, |n| n as usize);
    let steps = doc
        .get("steps")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("scenario has no `steps` list"))?;
    let model = Model::init(model_dir, opts)?;
    let story_io = |e: std::io::Error| Error::io("cannot write the story", "stdout", e);
    // Keys whose values the printed story hides (credentials travel in plain bags in some
    // interfaces): built-in names plus the scenario's `redact:` patterns.
    let redact: Vec<String> = doc
        .get("redact")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    model.add_redactions(&redact)?;
    let redaction = crate::redact::Redaction::new(redact);
    if let Some(out) = story.as_deref_mut() {
        writeln!(out, "### {name}").map_err(story_io)?;
    }
    let mut told = 0usize;
    let mut result = ScenarioResult {
        name,
        passed: true,
        steps: Vec::new(),
        model_dir: model.dir().to_path_buf(),
        hooks_run: 0,
    };
    for (i, step) in steps.iter().enumerate() {
        let (kind, body) = match step.as_object().map(|m| m.iter().next()) {
            Some(Some((k, v))) if step.as_object().is_some_and(|m| m.len() == 1) => {
                (k.clone(), v.clone())
            }
            _ => {
                result.passed = false;
                result.steps.push(StepResult {
                    index: i + 1,
                    kind: "?".into(),
                    ok: false,
                    message: Some("each step must be a map with exactly one key".into()),
                });
                break;
            }
        };
        if let (Some(out), "say") = (story.as_deref_mut(), kind.as_str()) {
            let text = body
                .as_str()
                .map_or_else(|| body.to_string(), str::to_string);
            writeln!(out, "\n== {text}").map_err(story_io)?;
        }
        let outcome = run_step(
            &model,
            &kind,
            &body,
            base,
            auto_settle,
            max_hooks,
            &mut result.hooks_run,
        );
        if let Some(out) = story.as_deref_mut() {
            // What the step itself did, then the hooks it caused.
            if let Ok(Some(note)) = &outcome {
                writeln!(out, "  -- {note}").map_err(story_io)?;
            }
            let records = model.timeline()?;
            let new = records.get(told..).unwrap_or_default();
            told = records.len();
            let st = model.state()?;
            for r in new {
                let one = std::slice::from_ref(r);
                out.write_all(crate::story::render_story(one, false, &redaction).as_bytes())
                    .map_err(story_io)?;
                // An action's results right under it.
                let Some(outcome) = r.hook.action_id.and_then(|id| st.actions.get(&id)) else {
                    continue;
                };
                let mut results = Vec::new();
                flatten_results("", &outcome.results, &mut results);
                for (k, v) in results {
                    if matches!(k.as_str(), "return-code" | "stdout" | "stderr") {
                        continue;
                    }
                    let shown = if redaction.hides(&k, &v) {
                        redaction.show(&k, &v).into_owned()
                    } else {
                        v.replace('\n', "\n        |   ")
                    };
                    writeln!(out, "        result {k}: {shown}").map_err(story_io)?;
                }
                if !outcome.message.is_empty() {
                    writeln!(
                        out,
                        "        action {}: {}",
                        outcome.status, outcome.message
                    )
                    .map_err(story_io)?;
                }
            }
            if let Err(e) = &outcome {
                writeln!(out, "!! step {} ({kind}) failed: {e}", i + 1).map_err(story_io)?;
            }
        }
        let ok = outcome.is_ok();
        result.steps.push(StepResult {
            index: i + 1,
            kind,
            ok,
            message: outcome.err().map(|e| e.to_string()),
        });
        if !ok {
            result.passed = false;
            break;
        }
    }
    if let Some(out) = story {
        writeln!(out, "\n{}", model.status_text()?).map_err(story_io)?;
    }
    // Workload daemons do not outlive the scenario (the model directory stays for inspection).
    model.stop_containers()?;
    Ok(result)
}

/// Action results as dotted keys and text, in order.
fn flatten_results(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_results(&key, v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
        .unwrap_or_default()
}

/// A `config` step's `set`: as [`pairs`], and `{secret: NAME}` stands for the URI of the user
/// secret named NAME (a scenario cannot know the id Juju gives it).
fn config_pairs(model: &Model, v: Option<&Value>) -> Result<Vec<(String, String)>> {
    let Some(map) = v.and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let st = model.state()?;
    map.iter()
        .map(|(k, v)| match v.get("secret").and_then(Value::as_str) {
            Some(name) => st
                .secrets
                .values()
                .find(|x| x.owner.kind == "model" && x.label.as_deref() == Some(name))
                .map(|x| (k.clone(), x.uri()))
                .ok_or_else(|| fail(format!("no user secret named {name:?}"))),
            None => Ok((k.clone(), scalar(v))),
        })
        .collect()
}

/// `storage: {data: 2}` of a deploy step.
fn storage_counts(v: Option<&Value>) -> Result<Vec<(String, u32)>> {
    pairs(v)
        .into_iter()
        .map(|(name, count)| {
            let n = count
                .parse::<u32>()
                .map_err(|_| fail(format!("storage {name:?}: expected a count, got {count:?}")))?;
            Ok((name, n))
        })
        .collect()
}

fn two(v: &Value) -> Result<(String, Option<String>)> {
    match v {
        Value::Array(a) if !a.is_empty() => Ok((scalar(&a[0]), a.get(1).map(scalar))),
        Value::String(s) => {
            let mut it = s.split_whitespace();
            let a = it.next().ok_or_else(|| fail("empty relation"))?.to_string();
            Ok((a, it.next().map(str::to_string)))
        }
        Value::Number(n) => Ok((n.to_string(), None)),
        _ => Err(fail("expected [a, b] or \"a b\"")),
    }
}

fn run_step(
    model: &Model,
    kind: &str,
    body: &Value,
    base: &Path,
    auto_settle: bool,
    max_hooks: usize,
    hooks: &mut usize,
) -> Result<Option<String>> {
    let mut settle_after = auto_settle;
    let mut note = None;
    match kind {
        "say" => return Ok(None),
        k if workload::STEPS.contains(&k) => {
            let (line, ran) = workload::step(model, kind, body, max_hooks)?;
            *hooks += ran;
            settle_after &= kind != "await-hook";
            note = Some(line);
        }
        "deploy" => {
            let charm = s(body, "charm").ok_or_else(|| fail("deploy needs `charm`"))?;
            let units = body.get("units").and_then(Value::as_u64).map(|n| n as u32);
            model.deploy(
                &base.join(charm),
                DeployOptions {
                    app: s(body, "app"),
                    units,
                    config: pairs(body.get("config")),
                    env: pairs(body.get("env")),
                    storage: storage_counts(body.get("storage"))?,
                    trust: body.get("trust").and_then(Value::as_bool).unwrap_or(false),
                    resources: pairs(body.get("resources"))
                        .into_iter()
                        .map(|(k, v)| (k, base.join(v)))
                        .collect(),
                },
            )?;
        }
        "add-unit" => {
            let app = s(body, "app")
                .or_else(|| body.as_str().map(str::to_string))
                .ok_or_else(|| fail("add-unit needs `app`"))?;
            let n = body.get("units").and_then(Value::as_u64).unwrap_or(1) as u32;
            model.add_unit(&app, n)?;
        }
        "relate" => {
            let (a, b) = two(body)?;
            model.relate(&a, &b.ok_or_else(|| fail("relate needs two endpoints"))?)?;
        }
        "remove-relation" => {
            let (a, b) = two(body)?;
            model.remove_relation(&a, b.as_deref())?;
        }
        "config" => {
            let app = s(body, "app").ok_or_else(|| fail("config needs `app`"))?;
            let reset: Vec<String> = body
                .get("reset")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(scalar).collect())
                .unwrap_or_default();
            model.config(&app, &config_pairs(model, body.get("set"))?, &reset)?;
        }
        "add-secret" | "update-secret" => {
            let name = s(body, "name")
                .or_else(|| s(body, "secret"))
                .ok_or_else(|| fail(format!("{kind} needs `name`")))?;
            let content = pairs(body.get("content"));
            if kind == "add-secret" {
                model.add_secret(&name, &content)?;
            } else {
                model.update_secret(&name, &content)?;
            }
        }
        "grant-secret" | "revoke-secret" => {
            let secret = s(body, "secret").ok_or_else(|| fail(format!("{kind} needs `secret`")))?;
            let app = s(body, "app").ok_or_else(|| fail(format!("{kind} needs `app`")))?;
            if kind == "grant-secret" {
                model.grant_secret(&secret, &app)?;
            } else {
                model.revoke_secret(&secret, &app)?;
            }
        }
        "leader" => model.set_leader(&scalar(body))?,
        "remove-unit" => model.remove_unit(&scalar(body))?,
        "remove-app" => model.remove_app(&scalar(body))?,
        "resolve" => {
            let unit = s(body, "unit").unwrap_or_else(|| scalar(body));
            let retry = body.get("retry").and_then(Value::as_bool).unwrap_or(true);
            model.resolve(&unit, retry)?;
        }
        "run" => {
            let unit = s(body, "unit").ok_or_else(|| fail("run needs `unit`"))?;
            let hook = s(body, "hook").ok_or_else(|| fail("run needs `hook`"))?;
            let spec = HookSpec {
                relation: body.get("relation").and_then(Value::as_u64),
                remote_unit: s(body, "remote_unit"),
                secret: s(body, "secret"),
                ..HookSpec::simple(&hook)
            };
            let rec = model.run_hook(&unit, spec)?;
            *hooks += 1;
            let want_ok = body
                .get("expect_ok")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if want_ok && rec.outcome == "failed" {
                return Err(fail(format!(
                    "{hook} on {unit} failed: {}",
                    rec.error.unwrap_or_default()
                )));
            }
        }
        "action" => {
            let unit = s(body, "unit").ok_or_else(|| fail("action needs `unit`"))?;
            let name = s(body, "name").ok_or_else(|| fail("action needs `name`"))?;
            let params = body
                .get("params")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let out = model.run_action_json(&unit, &name, params)?;
            *hooks += 1;
            if let Some(exp) = body.get("expect") {
                if let Some(want) = s(exp, "status")
                    && want != out.status
                {
                    return Err(fail(format!(
                        "action {name} status {:?}, expected {want:?} (message {:?})",
                        out.status, out.message
                    )));
                }
                if let Some(want) = exp.get("results") {
                    subset(want, &out.results).map_err(|m| fail(format!("action results: {m}")))?;
                }
            }
        }
        "secret-rotate" | "secret-expire" => {
            let st = model.state()?;
            let uri = secret_ref(&st, body)?;
            if kind == "secret-rotate" {
                model.secret_rotate(&uri)?;
            } else {
                let rev = body
                    .get("revision")
                    .and_then(Value::as_u64)
                    .map(|r| r as u32);
                model.secret_expire(&uri, rev)?;
            }
        }
        "settle" => {
            let max = body
                .get("max_hooks")
                .and_then(Value::as_u64)
                .map_or(max_hooks, |n| n as usize);
            *hooks += model.settle(max)?.hooks_run;
            settle_after = false;
        }
        "expect" => {
            expect(model, body)?;
            settle_after = false;
        }
        other => return Err(fail(format!("unknown step {other:?}"))),
    }
    if settle_after {
        *hooks += model.settle(max_hooks)?.hooks_run;
    }
    Ok(note)
}

fn secret_ref(st: &ModelState, body: &Value) -> Result<String> {
    if let Some(s) = body.as_str() {
        return Ok(s.to_string());
    }
    if let Some(uri) = s(body, "uri") {
        return Ok(uri);
    }
    let label = s(body, "label").ok_or_else(|| fail("secret step needs `uri` or `label`"))?;
    st.secrets
        .values()
        .find(|x| x.label.as_deref() == Some(label.as_str()))
        .map(|x| x.uri())
        .ok_or_else(|| fail(format!("no secret with owner label {label:?}")))
}

/// Checks that every key in `want` appears in `got` with an equal (recursively subset) value.
fn subset(want: &Value, got: &Value) -> std::result::Result<(), String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => subset(wv, gv).map_err(|m| format!("{k}: {m}"))?,
                    None => return Err(format!("{k}: missing (have {got})")),
                }
            }
            Ok(())
        }
        (w, g) if scalar(w) == scalar(g) => Ok(()),
        (w, g) => Err(format!("expected {w}, got {g}")),
    }
}

fn expect(model: &Model, body: &Value) -> Result<()> {
    let st = model.state()?;
    if let Some(leaders) = body.get("leader").and_then(Value::as_object) {
        for (app, want) in leaders {
            let got = st
                .applications
                .get(app)
                .and_then(|a| a.leader.clone())
                .unwrap_or_default();
            if got != scalar(want) {
                return Err(fail(format!("leader of {app} is {got:?}, expected {want}")));
            }
        }
    }
    if let Some(apps) = body.get("units").and_then(Value::as_object) {
        for (app, want) in apps {
            let got: Vec<String> = st
                .applications
                .get(app)
                .ok_or_else(|| fail(format!("no application {app:?}")))?
                .units
                .values()
                .map(|u| u.name.clone())
                .collect();
            let want: Vec<String> = want
                .as_array()
                .ok_or_else(|| fail(format!("units of {app}: expected a list of unit names")))?
                .iter()
                .map(scalar)
                .collect();
            if got != want {
                return Err(fail(format!(
                    "units of {app} are {got:?}, expected {want:?}"
                )));
            }
        }
    }
    if let Some(subs) = body.get("principal").and_then(Value::as_object) {
        for (unit, want) in subs {
            let got = st
                .unit(unit)
                .ok_or_else(|| fail(format!("no unit {unit:?}")))?
                .principal
                .clone()
                .unwrap_or_default();
            if got != scalar(want) {
                return Err(fail(format!(
                    "principal of {unit} is {got:?}, expected {want}"
                )));
            }
        }
    }
    if let Some(statuses) = body.get("status").and_then(Value::as_object) {
        for (entity, want) in statuses {
            let got = match st.unit(entity) {
                Some(u) => {
                    if u.agent.error.is_some() {
                        crate::state::Status::new("error", "")
                    } else {
                        u.status.clone()
                    }
                }
                None => st
                    .applications
                    .get(entity)
                    .map(|a| a.status.clone())
                    .ok_or_else(|| fail(format!("no unit or application {entity:?}")))?,
            };
            let (ws, wm) = match want {
                Value::Object(_) => (s(want, "status"), s(want, "message")),
                other => (Some(scalar(other)), None),
            };
            if ws.as_ref().is_some_and(|w| *w != got.status)
                || wm.as_ref().is_some_and(|w| *w != got.message)
            {
                return Err(fail(format!(
                    "status of {entity} is {} {:?}, expected {want}",
                    got.status, got.message
                )));
            }
        }
    }
    if let Some(bags) = body.get("bags").and_then(Value::as_array) {
        for b in bags {
            let rel = match b.get("relation") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(v) => {
                    let (x, y) = two(v)?;
                    st.relation_between(&x, y.as_deref())
                }
                None => None,
            }
            .ok_or_else(|| fail(format!("bag expectation {b}: relation not found")))?;
            let owner = s(b, "bag").ok_or_else(|| fail("bag expectation needs `bag`"))?;
            let data = st.bag(rel, &owner).unwrap_or_default();
            let got = serde_json::to_value(&data).unwrap_or(Value::Null);
            if let Some(want) = b.get("equals") {
                let want_map: std::collections::BTreeMap<String, String> = want
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
                    .unwrap_or_default();
                if want_map != data {
                    return Err(fail(format!(
                        "bag {owner} in relation {rel} is {got}, expected {want}"
                    )));
                }
            }
            if let Some(want) = b.get("contains") {
                subset(want, &got)
                    .map_err(|m| fail(format!("bag {owner} in relation {rel}: {m}")))?;
            }
            if let Some(absent) = b.get("absent").and_then(Value::as_array) {
                for k in absent {
                    if data.contains_key(&scalar(k)) {
                        return Err(fail(format!(
                            "bag {owner} in relation {rel} has {k}, expected absent"
                        )));
                    }
                }
            }
        }
    }
    let timeline = model.timeline()?;
    if let Some(events) = body.get("events").and_then(Value::as_array) {
        for want in events {
            let name = s(want, "event").unwrap_or_else(|| scalar(want));
            let unit = s(want, "unit");
            let found = timeline.iter().any(|r| {
                unit.as_ref().is_none_or(|u| *u == r.unit)
                    && r.events.iter().any(|e| {
                        e.event == name
                            && want
                                .get("fields")
                                .is_none_or(|f| subset(f, &e.fields).is_ok())
                    })
            });
            if !found {
                return Err(fail(format!("library event {want} was not seen")));
            }
        }
    }
    if let Some(events) = body.get("no_events").and_then(Value::as_array) {
        for e in events {
            let name = scalar(e);
            if timeline
                .iter()
                .any(|r| r.events.iter().any(|x| x.event == name))
            {
                return Err(fail(format!("library event {name:?} was seen")));
            }
        }
    }
    if let Some(containers) = body.get("containers") {
        workload::expect(model, containers)?;
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_object) {
        for (unit, want) in errors {
            let got = st.unit(unit).and_then(|u| u.agent.error.clone());
            match got {
                None => return Err(fail(format!("unit {unit} is not in error"))),
                Some(f)
                    if !f.hook.name.contains(&scalar(want))
                        && !f.message.contains(&scalar(want)) =>
                {
                    return Err(fail(format!(
                        "unit {unit} failed {} ({}), expected {want}",
                        f.hook.name, f.message
                    )));
                }
                _ => {}
            }
        }
    }
    Ok(())
}
