//! Masking secrets in captured output, before it is cut to its limit.

/// What a masked secret is replaced with.
pub const MARK: &[u8] = b"<redacted>";

/// Masks every occurrence of each secret in `raw` (overlapping ones included), then keeps what
/// the first `limit` bytes of `raw` said.
///
/// The cut is made in `raw`'s coordinates, after masking: a secret that starts before the cut
/// is replaced as a whole (the caller must pass at least `limit + longest secret - 1` bytes
/// when it has them), and nothing after the cut is shown, so masks shorter than the secrets
/// they replace cannot pull a later, partly captured secret into view.
pub fn redact_bounded(raw: &[u8], limit: usize, secrets: &[&[u8]]) -> Vec<u8> {
    let mut masked = vec![false; raw.len()];
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let Some(&first) = secret.first() else {
            continue;
        };
        let mut from = 0;
        while let Some(at) = raw[from..].iter().position(|&b| b == first) {
            let start = from + at;
            if raw[start..].starts_with(secret) {
                masked[start..start + secret.len()].fill(true);
            }
            from = start + 1;
        }
    }
    let end = raw.len().min(limit);
    let mut out = Vec::with_capacity(end);
    let mut i = 0;
    while i < end {
        if masked[i] {
            out.extend_from_slice(MARK);
            while i < raw.len() && masked[i] {
                i += 1;
            }
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}
