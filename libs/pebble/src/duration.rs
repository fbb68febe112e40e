//! Go's `time.Duration` text: what Pebble reads and writes for every duration (`"500ms"`, `"1m30s"`).
//!
//! Pebble parses with Go's `time.ParseDuration` and prints with `Duration.String`, so layers and
//! plans round-trip only if both are reproduced exactly: signed decimal numbers with units `ns`,
//! `us` (`µs`, `μs`), `ms`, `s`, `m`, `h`, summed (`"1h2.5m"`); `"0"` alone needs no unit.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A Go duration: signed nanoseconds, as Pebble holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GoDuration(i64);

/// Text that Go's `time.ParseDuration` would reject; the message is Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

impl GoDuration {
    /// A duration of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: i64) -> GoDuration {
        GoDuration(nanos)
    }

    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: i64) -> GoDuration {
        GoDuration(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: i64) -> GoDuration {
        GoDuration(millis.saturating_mul(1_000_000))
    }

    /// Nanoseconds (negative for negative durations).
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Whether this is the zero duration.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The duration as a `std::time::Duration`, or `None` if negative.
    pub fn to_std(self) -> Option<Duration> {
        u64::try_from(self.0).ok().map(Duration::from_nanos)
    }

    /// Parses Go duration text, exactly as Go's `time.ParseDuration`.
    pub fn parse(text: &str) -> Result<GoDuration, DurationError> {
        parse_go(text).map(GoDuration)
    }
}

impl From<Duration> for GoDuration {
    /// Saturates at Go's maximum (about 292 years).
    fn from(d: Duration) -> GoDuration {
        GoDuration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

impl std::str::FromStr for GoDuration {
    type Err = DurationError;
    fn from_str(text: &str) -> Result<GoDuration, DurationError> {
        GoDuration::parse(text)
    }
}

fn invalid(text: &str) -> DurationError {
    DurationError(format!("time: invalid duration {}", go_quote(text)))
}

/// Go's `time.quote`: printable ASCII as is (`"` and `\\` escaped), every other byte as `\xNN`.
fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if (' '..='\u{7f}').contains(&c) {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

fn parse_go(orig: &str) -> Result<i64, DurationError> {
    let mut s = orig;
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid(orig));
    }
    // Accumulate in u64 like Go, allowing up to 1<<63 so that the minimum negative value parses.
    let limit: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let bytes = s.as_bytes();
        if !(bytes[0] == b'.' || bytes[0].is_ascii_digit()) {
            return Err(invalid(orig));
        }
        let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let int_part = &s[..int_len];
        let mut whole: u64 = 0;
        for d in int_part.bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|w| w.checked_add(u64::from(d - b'0')))
                .filter(|w| *w <= limit)
                .ok_or_else(|| invalid(orig))?;
        }
        s = &s[int_len..];
        let mut frac_digits = "";
        if let Some(rest) = s.strip_prefix('.') {
            let n = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
            frac_digits = &rest[..n];
            s = &rest[n..];
        }
        if int_part.is_empty() && frac_digits.is_empty() {
            // "." or ".s": no digits at all.
            return Err(invalid(orig));
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(DurationError(format!(
                "time: missing unit in duration {}",
                go_quote(orig)
            )));
        }
        let unit_text = &s[..unit_len];
        let unit = unit_nanos(unit_text).ok_or_else(|| {
            DurationError(format!(
                "time: unknown unit {} in duration {}",
                go_quote(unit_text),
                go_quote(orig)
            ))
        })?;
        s = &s[unit_len..];
        let mut value = whole
            .checked_mul(unit)
            .filter(|v| *v <= limit)
            .ok_or_else(|| invalid(orig))?;
        if !frac_digits.is_empty() {
            // Go keeps at most the digits that fit, scaling the fraction by the unit.
            let mut frac: u64 = 0;
            let mut scale: f64 = 1.0;
            let mut overflowed = false;
            for d in frac_digits.bytes() {
                if overflowed {
                    continue;
                }
                if frac > (i64::MAX as u64) / 10 {
                    overflowed = true;
                    continue;
                }
                let next = frac * 10 + u64::from(d - b'0');
                if next > limit {
                    overflowed = true;
                    continue;
                }
                frac = next;
                scale *= 10.0;
            }
            let extra = (frac as f64 * (unit as f64 / scale)) as u64;
            value = value
                .checked_add(extra)
                .filter(|v| *v <= limit)
                .ok_or_else(|| invalid(orig))?;
        }
        total = total
            .checked_add(value)
            .filter(|v| *v <= limit)
            .ok_or_else(|| invalid(orig))?;
    }
    if negative {
        Ok((total as i128).wrapping_neg() as i64)
    } else if total == limit {
        Err(invalid(orig))
    } else {
        Ok(total as i64)
    }
}

/// Go's `fmtFrac`: the fraction of `v` below `10^prec`, without trailing zeros.
fn frac(v: u64, prec: u32) -> (String, u64) {
    let div = 10u64.pow(prec);
    let f = v % div;
    if f == 0 {
        return (String::new(), v / div);
    }
    let mut digits = format!("{f:0width$}", width = prec as usize);
    while digits.ends_with('0') {
        digits.pop();
    }
    (format!(".{digits}"), v / div)
}

impl fmt::Display for GoDuration {
    /// Go's `Duration.String`: `"0s"`, `"1.5ms"`, `"2µs"`, `"1m30s"`, `"1h0m0s"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negative = self.0 < 0;
        let u = self.0.unsigned_abs();
        let sign = if negative { "-" } else { "" };
        if u < NANOS_PER_SEC as u64 {
            return match u {
                0 => f.write_str("0s"),
                u if u < 1_000 => write!(f, "{sign}{u}ns"),
                u if u < 1_000_000 => {
                    let (fr, whole) = frac(u, 3);
                    write!(f, "{sign}{whole}{fr}\u{b5}s")
                }
                u => {
                    let (fr, whole) = frac(u, 6);
                    write!(f, "{sign}{whole}{fr}ms")
                }
            };
        }
        let (fr, secs) = frac(u, 9);
        let mut out = format!("{}{fr}s", secs % 60);
        let mins = secs / 60;
        if mins > 0 {
            out = format!("{}m{out}", mins % 60);
            let hours = mins / 60;
            if hours > 0 {
                out = format!("{hours}h{out}");
            }
        }
        write!(f, "{sign}{out}")
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        GoDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[path = "duration_test.rs"]
mod tests;
