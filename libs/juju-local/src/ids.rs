//! Identifiers: application and unit names, secret ids (xids) and model UUIDs.

use std::fs::File;
use std::io::Read;

use crate::clock::now_secs;

/// Random bytes from the kernel (falls back to time and pid mixing when unavailable).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if let Ok(mut f) = File::open("/dev/urandom")
        && f.read_exact(&mut buf).is_ok()
    {
        return buf;
    }
    let mut x = (now_secs() as u64) ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15;
    for b in &mut buf {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x & 0xff) as u8;
    }
    buf
}

/// A random version-4 UUID in its canonical text form.
pub fn new_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Encodes 12 bytes as an xid: 20 lowercase base32hex characters (`[0-9a-v]`).
pub fn xid_encode(id: [u8; 12]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut n: u128 = 0;
    for b in id {
        n = (n << 8) | u128::from(b);
    }
    n <<= 4;
    (0..20)
        .map(|i| char::from(ALPHABET[((n >> (95 - 5 * i)) & 31) as usize]))
        .collect()
}

/// True for a syntactically valid xid (secret id).
pub fn is_xid(s: &str) -> bool {
    s.len() == 20
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'v').contains(&c))
        && matches!(s.as_bytes()[19], b'0' | b'g')
}

/// True for a valid Juju application name (`^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$`).
pub fn is_app_name(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let ok_first = first.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && first
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    ok_first
        && parts.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && p.bytes().any(|c| c.is_ascii_lowercase())
        })
}

/// Splits a unit name `app/N` into its parts.
pub fn split_unit(s: &str) -> Option<(&str, u32)> {
    let (app, n) = s.split_once('/')?;
    if !is_app_name(app) || n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((app, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xids() {
        let x = xid_encode([0xff; 12]);
        assert_eq!(x.len(), 20);
        assert!(is_xid(&x), "{x}");
        assert!(is_xid(&xid_encode([0; 12])));
        assert!(is_xid("d1k3m8fbo5jc738pq1ig"));
        assert!(!is_xid("d1k3m8fbo5jc738pq1iz"));
    }

    #[test]
    fn names_and_uuids() {
        assert!(is_app_name("postgresql-k8s"));
        assert!(!is_app_name("9lives"));
        assert!(!is_app_name("a-1"));
        assert_eq!(split_unit("pg/10"), Some(("pg", 10)));
        assert_eq!(split_unit("pg"), None);
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
