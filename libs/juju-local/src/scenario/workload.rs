//! Scenario steps and expectations for workload containers, all through each container's Pebble
//! API (so a scenario also exercises the daemon a charm talks to):
//!
//! ```yaml
//! - stop-container: {unit: web/0, container: web}     # services stop, the socket goes away
//! - start-container: {unit: web/0, container: web}    # a new boot: web-pebble-ready
//! - notify: {unit: web/0, container: web, key: example.com/reload}   # web-pebble-custom-notice
//! - exec: {unit: web/0, container: web, command: [cat, /etc/web.yaml], expect: {stdout: "port: 80\n", exit: 0}}
//! - await-hook: {unit: web/0, hook: web-pebble-check-failed, times: 1, timeout: 20}   # settles until it has run `times` times in all
//! - expect:
//!     containers:
//!       web/0:
//!         web:
//!           state: running                    # running | down | exited
//!           files: {/etc/web.yaml: "port: 80\n", /etc/old.yaml: null}   # null: absent
//!           services: {web: active}
//!           plan: {services: {web: {command: /bin/web}}}                # a subset of the plan
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{fail, s, scalar, subset};
use crate::error::Result;
use crate::model::Model;

/// The step kinds this module runs.
pub const STEPS: &[&str] = &[
    "stop-container",
    "start-container",
    "notify",
    "exec",
    "await-hook",
];

fn unit_container(body: &Value, step: &str) -> Result<(String, String)> {
    let unit = s(body, "unit").ok_or_else(|| fail(format!("{step} needs `unit`")))?;
    let container =
        s(body, "container").ok_or_else(|| fail(format!("{step} needs `container`")))?;
    Ok((unit, container))
}

fn client(model: &Model, unit: &str, container: &str) -> Result<pebble::Client> {
    Ok(pebble::Client::new(
        model.container_socket(unit, container)?,
    ))
}

fn pebble_err(what: &str, e: pebble::Error) -> crate::error::Error {
    fail(format!("{what}: {e}"))
}

/// Runs one workload step; returns the line `--story` prints for it. The caller settles after it
/// (except after `await-hook`, which settles itself).
pub fn step(model: &Model, kind: &str, body: &Value, max_hooks: usize) -> Result<(String, usize)> {
    match kind {
        "stop-container" => {
            let (unit, c) = unit_container(body, kind)?;
            model.stop_container(&unit, &c)?;
            Ok((format!("container {c} of {unit} stopped"), 0))
        }
        "start-container" => {
            let (unit, c) = unit_container(body, kind)?;
            model.start_container(&unit, &c)?;
            Ok((format!("container {c} of {unit} started"), 0))
        }
        "notify" => {
            let (unit, c) = unit_container(body, kind)?;
            let key = s(body, "key").ok_or_else(|| fail("notify needs `key`"))?;
            let data: BTreeMap<String, String> = body
                .get("data")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
                .unwrap_or_default();
            let id = client(model, &unit, &c)?
                .notify(&key, &data, None)
                .map_err(|e| pebble_err("notify", e))?;
            Ok((format!("notice {id} {key:?} recorded in {c} of {unit}"), 0))
        }
        "exec" => {
            let (unit, c) = unit_container(body, kind)?;
            let command: Vec<String> = body
                .get("command")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(scalar).collect())
                .filter(|a: &Vec<String>| !a.is_empty())
                .ok_or_else(|| fail("exec needs `command` (a non-empty list)"))?;
            let client = client(model, &unit, &c)?;
            let (code, stdout, stderr) = match client
                .exec(command.clone())
                .timeout(Duration::from_secs(60))
                .output()
            {
                Ok(out) => (0, out.stdout_text(), out.stderr_text()),
                Err(pebble::Error::Exec(e)) => (
                    e.exit_code,
                    String::from_utf8_lossy(&e.stdout).into_owned(),
                    String::from_utf8_lossy(&e.stderr).into_owned(),
                ),
                Err(e) => return Err(pebble_err("exec", e)),
            };
            if let Some(want) = body.get("expect") {
                let exit = want.get("exit").and_then(Value::as_i64).unwrap_or(0);
                if exit != code {
                    return Err(fail(format!(
                        "exec {command:?} exited {code}, expected {exit} (stderr {stderr:?})"
                    )));
                }
                if let Some(w) = s(want, "stdout")
                    && w != stdout
                {
                    return Err(fail(format!("exec stdout {stdout:?}, expected {w:?}")));
                }
                if let Some(w) = s(want, "contains")
                    && !stdout.contains(&w)
                {
                    return Err(fail(format!("exec stdout {stdout:?} lacks {w:?}")));
                }
            }
            let shown: String = stdout.trim_end().chars().take(400).collect();
            Ok((
                format!(
                    "exec {} in {c} of {unit}: exit {code}\n        |   {}",
                    command.join(" "),
                    shown.replace('\n', "\n        |   ")
                ),
                0,
            ))
        }
        "await-hook" => {
            let unit = s(body, "unit").ok_or_else(|| fail("await-hook needs `unit`"))?;
            let hook = s(body, "hook").ok_or_else(|| fail("await-hook needs `hook`"))?;
            let secs = body.get("timeout").and_then(Value::as_f64).unwrap_or(20.0);
            let limit = Duration::try_from_secs_f64(secs)
                .map_err(|_| fail(format!("await-hook timeout {secs} not valid")))?;
            let times = body.get("times").and_then(Value::as_u64).unwrap_or(1);
            let deadline = Instant::now() + limit;
            let mut ran = 0;
            loop {
                ran += model.settle(max_hooks)?.hooks_run;
                let seen = model
                    .timeline()?
                    .iter()
                    .filter(|r| r.unit == unit && r.hook.name == hook && r.outcome != "failed")
                    .count() as u64;
                if seen >= times {
                    return Ok((format!("{hook} ran on {unit} ({seen} times)"), ran));
                }
                if Instant::now() > deadline {
                    return Err(fail(format!(
                        "{hook} ran {seen} times on {unit}, not {times}, within {secs} s"
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        other => Err(fail(format!("unknown step {other:?}"))),
    }
}

/// `expect: {containers: {<unit>: {<container>: {state, files, services, plan}}}}`.
pub fn expect(model: &Model, want: &Value) -> Result<()> {
    let units = want
        .as_object()
        .ok_or_else(|| fail("containers: expected a map of units"))?;
    for (unit, containers) in units {
        let containers = containers
            .as_object()
            .ok_or_else(|| fail(format!("containers of {unit}: expected a map")))?;
        for (c, w) in containers {
            let at = format!("container {c} of {unit}");
            if let Some(state) = s(w, "state") {
                let got = model.container_state(unit, c)?;
                if got != state {
                    return Err(fail(format!("{at} is {got}, expected {state}")));
                }
            }
            let client = client(model, unit, c)?;
            if let Some(files) = w.get("files").and_then(Value::as_object) {
                for (path, content) in files {
                    let got = client.pull(path);
                    match (content, got) {
                        (Value::Null, Err(pebble::Error::Path(_))) => {}
                        (Value::Null, Ok(_)) => {
                            return Err(fail(format!("{at}: {path} exists, expected absent")));
                        }
                        (want, Ok(bytes)) => {
                            let text = String::from_utf8_lossy(&bytes);
                            let ok = match want {
                                Value::Object(m) => {
                                    m.get("contains").is_none_or(|x| text.contains(&scalar(x)))
                                }
                                other => text == scalar(other),
                            };
                            if !ok {
                                return Err(fail(format!(
                                    "{at}: {path} holds {text:?}, expected {want}"
                                )));
                            }
                        }
                        (_, Err(e)) => return Err(pebble_err(&format!("{at}: {path}"), e)),
                    }
                }
            }
            if let Some(services) = w.get("services").and_then(Value::as_object) {
                let got = client.get_services(&[]).map_err(|e| pebble_err(&at, e))?;
                for (name, want) in services {
                    let current = got
                        .iter()
                        .find(|i| i.name == *name)
                        .map(|i| scalar(&serde_json::to_value(&i.current).unwrap_or_default()))
                        .unwrap_or_else(|| "absent".into());
                    if current != scalar(want) {
                        return Err(fail(format!(
                            "{at}: service {name} is {current}, expected {want}"
                        )));
                    }
                }
            }
            if let Some(plan) = w.get("plan") {
                let got = client.get_plan().map_err(|e| pebble_err(&at, e))?;
                let got = serde_json::to_value(&got).map_err(|e| fail(e.to_string()))?;
                subset(plan, &got).map_err(|m| fail(format!("{at}: plan: {m}")))?;
            }
        }
    }
    Ok(())
}
