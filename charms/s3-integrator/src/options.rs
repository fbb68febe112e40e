//! The charm's config, checked and turned into what goes on the wire.

use charm::{Classify, Ctx, Error, Outcome, SecretId};
use s3::{S3ConnectionInfo, UriStyle};
use serde::Deserialize;
use std::fmt;

/// The largest retention the real s3-integrator accepts.
pub const MAX_RETENTION_DAYS: i64 = 9_999_999;

/// `config-get`, as Juju gives it (empty strings are unset options).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RawConfig {
    /// `bucket`
    pub bucket: String,
    /// `path`
    pub path: String,
    /// `endpoint`
    pub endpoint: String,
    /// `region`
    pub region: String,
    /// `s3-uri-style`
    pub s3_uri_style: String,
    /// `storage-class`
    pub storage_class: String,
    /// `tls-ca-chain` (base64 of a PEM bundle)
    pub tls_ca_chain: String,
    /// `s3-api-version`
    pub s3_api_version: String,
    /// `experimental-delete-older-than-days`
    pub experimental_delete_older_than_days: Option<i64>,
    /// `attributes` (comma-separated)
    pub attributes: String,
    /// `credentials` (type secret: the URI of a user secret with `access-key` and `secret-key`)
    pub credentials: String,
}

/// Config options that cannot be used, each with what is wrong (a Blocked status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// `(option, problem)` pairs, in config order.
    pub problems: Vec<(&'static str, String)>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid config: ")?;
        for (i, (option, problem)) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{option} {problem}")?;
        }
        Ok(())
    }
}

impl Classify for ConfigError {
    fn outcome(&self) -> Outcome {
        Outcome::Blocked
    }
}

/// The connection options to send, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The bucket for every relation; `None`: each relation gets the bucket it asked for.
    pub bucket: Option<String>,
    /// `path`
    pub path: Option<String>,
    /// `endpoint`
    pub endpoint: Option<String>,
    /// `region`
    pub region: Option<String>,
    /// `s3-uri-style`
    pub s3_uri_style: Option<UriStyle>,
    /// `storage-class`
    pub storage_class: Option<String>,
    /// The CA certificates, one PEM block each.
    pub tls_ca_chain: Vec<String>,
    /// `s3-api-version`
    pub s3_api_version: Option<String>,
    /// The attributes, one entry each.
    pub attributes: Vec<String>,
    /// `experimental-delete-older-than-days`
    pub delete_older_than_days: Option<u32>,
    /// `credentials`: the user secret holding the credentials; `None`: those stored by the
    /// `sync-s3-credentials` action.
    pub credentials: Option<SecretId>,
}

fn set(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_string())
}

impl Options {
    /// Reads and checks the config (one `config-get` per dispatch).
    pub fn load(ctx: &mut Ctx<'_>) -> Result<Options, Error> {
        let raw: RawConfig = ctx.config()?;
        Ok(Options::check(&raw)?)
    }

    /// Checks every option and reports every problem at once.
    pub fn check(raw: &RawConfig) -> Result<Options, ConfigError> {
        let mut problems = Vec::new();
        let s3_uri_style = match raw.s3_uri_style.as_str() {
            "" => None,
            "host" => Some(UriStyle::Host),
            "path" => Some(UriStyle::Path),
            _ => {
                problems.push(("s3-uri-style", "must be host or path".to_string()));
                None
            }
        };
        let tls_ca_chain = if raw.tls_ca_chain.is_empty() {
            Vec::new()
        } else {
            match parse_ca_chain(&raw.tls_ca_chain) {
                Ok(chain) => chain,
                Err(problem) => {
                    problems.push(("tls-ca-chain", problem));
                    Vec::new()
                }
            }
        };
        let delete_older_than_days = match raw.experimental_delete_older_than_days {
            None => None,
            Some(days) if (1..=MAX_RETENTION_DAYS).contains(&days) => u32::try_from(days).ok(),
            Some(_) => {
                problems.push((
                    "experimental-delete-older-than-days",
                    format!("must be between 1 and {MAX_RETENTION_DAYS}"),
                ));
                None
            }
        };
        let credentials = match raw.credentials.trim() {
            "" => None,
            text => match SecretId::parse(text) {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push((
                        "credentials",
                        "must be a secret URI (secret:<id>), from juju add-secret".to_string(),
                    ));
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Options {
            bucket: set(&raw.bucket),
            path: set(&raw.path),
            endpoint: set(&raw.endpoint),
            region: set(&raw.region),
            s3_uri_style,
            storage_class: set(&raw.storage_class),
            tls_ca_chain,
            s3_api_version: set(&raw.s3_api_version),
            attributes: raw
                .attributes
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
            delete_older_than_days,
            credentials,
        })
    }

    /// The connection info for one relation.
    pub fn connection_info(
        &self,
        access_key: &str,
        secret_key: &str,
        bucket: String,
    ) -> S3ConnectionInfo {
        S3ConnectionInfo {
            path: self.path.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            s3_uri_style: self.s3_uri_style.clone(),
            storage_class: self.storage_class.clone(),
            tls_ca_chain: self.tls_ca_chain.clone(),
            s3_api_version: self.s3_api_version.clone(),
            attributes: self.attributes.clone(),
            delete_older_than_days: self.delete_older_than_days,
            ..S3ConnectionInfo::new(access_key, secret_key, bucket)
        }
    }
}

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// Decodes the base64 `tls-ca-chain` option and splits it into PEM certificates (markers kept).
pub fn parse_ca_chain(encoded: &str) -> Result<Vec<String>, String> {
    let bytes = decode_base64(encoded)?;
    let text = String::from_utf8(bytes).map_err(|_| "does not decode to UTF-8 text".to_string())?;
    let mut certs = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(BEGIN) {
        let from_begin = &rest[start..];
        let Some(end) = from_begin.find(END) else {
            return Err("has a certificate without its END line".into());
        };
        let cert_len = end + END.len();
        certs.push(from_begin[..cert_len].to_string());
        rest = &from_begin[cert_len..];
    }
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}

/// Standard base64 (RFC 4648 alphabet); whitespace is skipped, padding is optional.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut sextets = Vec::with_capacity(text.len());
    let mut padding = 0;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            c if c.is_ascii_whitespace() => continue,
            _ => return Err("is not valid base64".into()),
        };
        if padding > 0 {
            return Err("is not valid base64 (data after padding)".into());
        }
        sextets.push(value);
    }
    if sextets.len() % 4 == 1 || padding > 2 {
        return Err("is not valid base64 (truncated)".into());
    }
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let mut acc: u32 = 0;
        for (i, s) in chunk.iter().enumerate() {
            acc |= u32::from(*s) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(bytes.get(1..chunk.len()).unwrap_or_default());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_answers() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("Zm9v\nYmE").unwrap(), b"fooba");
        assert!(decode_base64("Zm9v!").is_err());
        assert!(decode_base64("Z").is_err());
        assert!(decode_base64("Zg==Zg").is_err());
    }

    #[test]
    fn ca_chain_splits_into_pem_blocks() {
        let pem = format!("junk\n{BEGIN}\nAAA\n{END}\n\n{BEGIN}\nBBB\n{END}\n");
        let encoded = encode(pem.as_bytes());
        let certs = parse_ca_chain(&encoded).unwrap();
        assert_eq!(
            certs,
            [
                format!("{BEGIN}\nAAA\n{END}"),
                format!("{BEGIN}\nBBB\n{END}")
            ]
        );
        assert!(
            parse_ca_chain(&encode(b"hello"))
                .unwrap_err()
                .contains("no PEM")
        );
        assert!(
            parse_ca_chain(&encode(format!("{BEGIN}\nAAA").as_bytes()))
                .unwrap_err()
                .contains("END")
        );
        assert!(parse_ca_chain("%%%").unwrap_err().contains("base64"));
        assert!(
            parse_ca_chain(&encode(&[0xff, 0xfe]))
                .unwrap_err()
                .contains("UTF-8")
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let raw = RawConfig {
            s3_uri_style: "virtual".into(),
            tls_ca_chain: "%%%".into(),
            experimental_delete_older_than_days: Some(0),
            ..RawConfig::default()
        };
        let err = Options::check(&raw).unwrap_err();
        let options: Vec<&str> = err.problems.iter().map(|(o, _)| *o).collect();
        assert_eq!(
            options,
            [
                "s3-uri-style",
                "tls-ca-chain",
                "experimental-delete-older-than-days"
            ]
        );
        assert!(
            err.to_string()
                .starts_with("invalid config: s3-uri-style must be host or path; ")
        );
        for days in [-1, 10_000_000] {
            let raw = RawConfig {
                experimental_delete_older_than_days: Some(days),
                ..RawConfig::default()
            };
            assert!(Options::check(&raw).is_err(), "{days}");
        }
    }

    #[test]
    fn attributes_are_split_and_trimmed() {
        let raw = RawConfig {
            attributes: "a1:v1, a2:v2,,a3=v3 ".into(),
            ..RawConfig::default()
        };
        assert_eq!(
            Options::check(&raw).unwrap().attributes,
            ["a1:v1", "a2:v2", "a3=v3"]
        );
        assert!(
            Options::check(&RawConfig::default())
                .unwrap()
                .attributes
                .is_empty()
        );
    }

    /// A test-only encoder, to feed the decoder.
    pub(crate) fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut acc = 0u32;
            for (i, b) in chunk.iter().enumerate() {
                acc |= u32::from(*b) << (16 - 8 * i);
            }
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((acc >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
