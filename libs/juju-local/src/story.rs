//! The timeline printed for people: the compact story (`timeline`, `run`, `scenario --story`)
//! and the metrics table, with credentials redacted.

use serde_json::Value;

use crate::redact::Redaction;
use crate::timeline::{Change, HookRecord};

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
            out.push_str(&format!("        {}\n", describe(c, redaction)));
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

/// A one-line description in which the values `redaction` hides are replaced by their length.
pub fn describe(change: &Change, redaction: &Redaction) -> String {
    let show = |key: &str, v: &str| {
        if redaction.hides(key, v) {
            redaction.show(key, v).into_owned()
        } else {
            short(v)
        }
    };
    match change {
        Change::Bag {
            relation,
            bag,
            key,
            old,
            new,
        } => match (old, new) {
            (None, Some(n)) => format!("rel {relation} [{bag}] +{key}={}", show(key, n)),
            (Some(_), None) => format!("rel {relation} [{bag}] -{key}"),
            (Some(o), Some(n)) => {
                format!(
                    "rel {relation} [{bag}] {key}: {} -> {}",
                    show(key, o),
                    show(key, n)
                )
            }
            (None, None) => format!("rel {relation} [{bag}] {key}"),
        },
        Change::Status { entity, status } => {
            if status.message.is_empty() {
                format!("{entity} status {}", status.status)
            } else {
                format!("{entity} status {} {:?}", status.status, status.message)
            }
        }
        Change::Secret { id, what } => format!("secret:{id} {what}"),
        Change::Other { entity, what } => format!("{entity} {what}"),
    }
}

fn short(s: &str) -> String {
    let one_line = s.replace('\n', "\\n");
    if one_line.chars().count() > 40 {
        let cut: String = one_line.chars().take(37).collect();
        format!("{cut:?}...")
    } else {
        format!("{one_line:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bag_changes_describe_redacted() {
        let change = Change::Bag {
            relation: 1,
            bag: "a".into(),
            key: "secret-key".into(),
            old: None,
            new: Some("hunter2".into()),
        };
        let shown = describe(&change, &Redaction::default());
        assert_eq!(shown, "rel 1 [a] +secret-key=<redacted, 7 chars>");
        assert_eq!(
            describe(&change, &Redaction::reveal_all()),
            "rel 1 [a] +secret-key=\"hunter2\""
        );
    }
}
