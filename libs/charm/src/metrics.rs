//! What a dispatch cost, for benchmarks and the local model: one JSON line per dispatch.
//!
//! Only written when the environment variable [`METRICS_ENV`](crate::dispatch::METRICS_ENV)
//! (`CHARM_METRICS_FILE`) names a file, so a charm in production pays nothing:
//!
//! ```json
//! {"unit":"app/0","hook":"config-changed","ok":true,"wall_us":1840,"tool_us":1510,"own_us":330,"tool_calls":8,"peak_rss_kb":2236}
//! ```
//!
//! `wall_us` runs from the start of [`Charm::run`](crate::Charm::run) to the end of the dispatch;
//! `tool_us` is the time spent waiting for hook tools (process start included); `own_us` is the
//! difference; `peak_rss_kb` is the process's high-water mark (`VmHWM`), which excludes the hook
//! tools it ran.

use crate::backend::ToolStats;
use crate::env::JujuEnv;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// The peak resident set size of this process in KiB (`VmHWM` from `/proc/self/status`).
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Appends one metrics line; failures are reported on stderr and otherwise ignored.
pub fn append(path: &Path, juju: &JujuEnv, wall: Duration, tools: ToolStats, ok: bool) {
    let own = wall.saturating_sub(tools.time);
    let line = serde_json::json!({
        "unit": juju.unit,
        "hook": juju.event.hook_name(),
        "ok": ok,
        "wall_us": wall.as_micros() as u64,
        "tool_us": tools.time.as_micros() as u64,
        "own_us": own.as_micros() as u64,
        "tool_calls": tools.calls,
        "peak_rss_kb": peak_rss_kb(),
    });
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        eprintln!("cannot write metrics to {}: {e}", path.display());
    }
}

#[cfg(test)]
#[path = "metrics_test.rs"]
mod tests;
