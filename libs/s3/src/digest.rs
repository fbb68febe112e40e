//! SHA-256 of the connection info, so that the requirer remembers *that* credentials changed
//! without keeping them: only a digest of the last connection info seen is stored in the charm
//! state. The hash itself comes from the RustCrypto `sha2` crate.

use sha2::{Digest, Sha256};

/// The SHA-256 digest of `data`, as lowercase hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sha256_hex;

    #[test]
    fn known_answers() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
