//! The timeline: one record per dispatch (hook or action), appended to `timeline.jsonl`, plus the
//! compact story and metrics table printed from it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::commit::Change;
use crate::error::{Error, Result};
use crate::redact::Redaction;
use crate::state::HookSpec;

/// A library event printed by a charm as `CHARM_EVENT {"event":"<Name>","fields":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharmEvent {
    /// The event name.
    pub event: String,
    /// Its fields.
    #[serde(default)]
    pub fields: Value,
}

/// One hook-tool invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Tool name.
    pub tool: String,
    /// Arguments (secret values redacted).
    pub args: Vec<String>,
    /// Exit code.
    pub exit: i32,
    /// Duration in microseconds, as measured by the tool itself.
    pub micros: u64,
}

/// One dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    /// Sequence number within the model.
    pub seq: u64,
    /// The unit.
    pub unit: String,
    /// `hook` (run by the agent), `manual` (`juju-local run`) or `action`.
    pub kind: String,
    /// What ran.
    pub hook: HookSpec,
    /// When it finished (RFC 3339).
    pub started: String,
    /// The dispatch exit code.
    pub exit_code: i32,
    /// `ok`, `failed` or `skipped` (no dispatch file).
    pub outcome: String,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether buffered changes were committed.
    pub committed: bool,
    /// Wall time of the dispatch in milliseconds.
    pub wall_ms: f64,
    /// Time spent inside hook tools, in milliseconds.
    pub tool_ms: f64,
    /// Number of hook-tool calls.
    pub tool_calls: usize,
    /// Peak RSS of the charm process and its waited-for children, KiB.
    pub max_rss_kb: u64,
    /// What changed in the model.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// Library events the charm reported.
    #[serde(default)]
    pub events: Vec<CharmEvent>,
    /// `juju-log` lines (level, message).
    #[serde(default)]
    pub juju_log: Vec<(String, String)>,
    /// Other stdout lines.
    #[serde(default)]
    pub stdout: Vec<String>,
    /// stderr lines.
    #[serde(default)]
    pub stderr: Vec<String>,
    /// Every hook-tool call.
    #[serde(default)]
    pub tools: Vec<ToolCall>,
}

/// Appends a record to a timeline file.
pub fn append(path: &Path, record: &HookRecord) -> Result<()> {
    let line = serde_json::to_string(record).map_err(|e| Error::Format {
        what: "timeline record".into(),
        message: e.to_string(),
    })?;
    crate::util::append_line(path, &line)
}

/// Reads a timeline file (missing means empty).
pub fn read(path: &Path) -> Result<Vec<HookRecord>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = crate::util::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Format {
                what: format!("timeline {} line {}", path.display(), i + 1),
                message: e.to_string(),
            })
        })
        .collect()
}

/// A compact, readable story: one line per dispatch, then what changed and which events fired;
/// with `verbose`, the hook-tool calls, `juju-log` lines and output too. The values `redaction`
/// hides (bag values, tool arguments, event fields) print as `<redacted, N chars>`.
pub fn render_story(records: &[HookRecord], verbose: bool, redaction: &Redaction) -> String {
    let mut out = String::new();
    for r in records {
        let mark = match r.outcome.as_str() {
            "ok" => "ok",
            "skipped" => "--",
            _ => "FAIL",
        };
        out.push_str(&format!(
            "#{:<4} {:<14} {:<48} {:>4} {:>8.1}ms {:>3} tools\n",
            r.seq,
            r.unit,
            r.hook.describe(),
            mark,
            r.wall_ms,
            r.tool_calls
        ));
        if let Some(e) = &r.error {
            out.push_str(&format!("        ! {e}\n"));
        }
        for c in &r.changes {
            out.push_str(&format!("        {}\n", c.describe_redacted(redaction)));
        }
        for ev in r.events.iter().map(|e| redaction.event(e)) {
            let fields = if ev.fields.is_null() {
                String::new()
            } else {
                format!(" {}", ev.fields)
            };
            out.push_str(&format!("        event {}{fields}\n", ev.event));
        }
        if verbose {
            for (level, msg) in &r.juju_log {
                out.push_str(&format!("        log {level}: {msg}\n"));
            }
            for t in r.tools.iter().map(|t| redaction.tool_call(t)) {
                out.push_str(&format!(
                    "        $ {} {} -> {} ({:.1}ms)\n",
                    t.tool,
                    t.args.join(" "),
                    t.exit,
                    t.micros as f64 / 1000.0
                ));
            }
            for l in &r.stdout {
                out.push_str(&format!("        | {l}\n"));
            }
        }
        if r.outcome == "failed" || verbose {
            for l in &r.stderr {
                out.push_str(&format!("        stderr: {l}\n"));
            }
        }
    }
    out
}

/// The metrics table: per dispatch wall time, time in hook tools, tool calls and peak RSS, plus totals.
pub fn render_metrics(records: &[HookRecord]) -> String {
    let mut out = format!(
        "{:<5} {:<14} {:<36} {:>10} {:>10} {:>6} {:>10}\n",
        "SEQ", "UNIT", "HOOK", "WALL ms", "TOOLS ms", "CALLS", "RSS MiB"
    );
    let (mut wall, mut tools, mut calls, mut rss) = (0.0, 0.0, 0usize, 0u64);
    for r in records {
        let name: String = r.hook.name.chars().take(36).collect();
        out.push_str(&format!(
            "{:<5} {:<14} {:<36} {:>10.2} {:>10.2} {:>6} {:>10.1}\n",
            r.seq,
            r.unit,
            name,
            r.wall_ms,
            r.tool_ms,
            r.tool_calls,
            r.max_rss_kb as f64 / 1024.0
        ));
        wall += r.wall_ms;
        tools += r.tool_ms;
        calls += r.tool_calls;
        rss = rss.max(r.max_rss_kb);
    }
    out.push_str(&format!(
        "{:<5} {:<14} {:<36} {:>10.2} {:>10.2} {:>6} {:>10.1}\n",
        "total",
        format!("{} runs", records.len()),
        "",
        wall,
        tools,
        calls,
        rss as f64 / 1024.0
    ));
    out
}

/// Metrics as JSON (one object per dispatch plus totals).
pub fn metrics_json(records: &[HookRecord]) -> Value {
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "seq": r.seq, "unit": r.unit, "hook": r.hook.name, "outcome": r.outcome,
                "wall_ms": r.wall_ms, "tool_ms": r.tool_ms, "tool_calls": r.tool_calls,
                "max_rss_kb": r.max_rss_kb,
            })
        })
        .collect();
    serde_json::json!({
        "dispatches": rows,
        "total": {
            "runs": records.len(),
            "wall_ms": records.iter().map(|r| r.wall_ms).sum::<f64>(),
            "tool_ms": records.iter().map(|r| r.tool_ms).sum::<f64>(),
            "tool_calls": records.iter().map(|r| r.tool_calls).sum::<usize>(),
            "max_rss_kb": records.iter().map(|r| r.max_rss_kb).max().unwrap_or(0),
        }
    })
}
