//! The cloud an application runs on, with its credential (`credential-get`): only for
//! applications granted `juju trust`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// `credential-get --format=json`: the cloud and the credential Juju uses on it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct CloudSpec {
    /// Cloud type, e.g. `openstack`, `lxd`, `kubernetes`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Cloud name.
    pub name: String,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// API endpoint.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Identity endpoint.
    #[serde(default, rename = "identity-endpoint")]
    pub identity_endpoint: Option<String>,
    /// Storage endpoint.
    #[serde(default, rename = "storage-endpoint")]
    pub storage_endpoint: Option<String>,
    /// The credential.
    #[serde(default)]
    pub credential: Option<CloudCredential>,
    /// CA certificates (PEM) to trust for the endpoints.
    #[serde(default, rename = "cacertificates")]
    pub ca_certificates: Vec<String>,
    /// Skip TLS verification of the endpoints.
    #[serde(default, rename = "skip-tls-verify")]
    pub skip_tls_verify: bool,
    /// Whether this is the controller's cloud.
    #[serde(default, rename = "is-controller-cloud")]
    pub is_controller_cloud: bool,
}

/// A cloud credential. Its attributes are secrets: `Debug` shows their names only.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct CloudCredential {
    /// Auth type, e.g. `userpass`, `certificate`.
    #[serde(rename = "auth-type")]
    pub auth_type: String,
    /// Attributes (user names, passwords, keys).
    #[serde(default)]
    pub attrs: BTreeMap<String, String>,
    /// Attributes Juju redacted.
    #[serde(default)]
    pub redacted: Vec<String>,
}

impl fmt::Debug for CloudCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudCredential")
            .field("auth_type", &self.auth_type)
            .field("attrs", &self.attrs.keys().collect::<Vec<_>>())
            .field("redacted", &self.redacted)
            .finish()
    }
}

impl fmt::Debug for CloudSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSpec")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("credential", &self.credential)
            .field("skip_tls_verify", &self.skip_tls_verify)
            .field("is_controller_cloud", &self.is_controller_cloud)
            .finish_non_exhaustive()
    }
}

impl CloudSpec {
    /// Reads `credential-get --format=json` output; `Err` says what is wrong (never the values).
    pub fn from_json(text: &str) -> Result<CloudSpec, String> {
        let spec: CloudSpec = serde_json::from_str(text).map_err(|e| {
            // serde's message may quote a value: give only the position.
            format!(
                "not a cloud spec (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        if spec.kind.is_empty() || spec.name.is_empty() {
            return Err("the cloud spec has no type or name".into());
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_spec_reads_and_hides_its_secrets() {
        let spec = CloudSpec::from_json(
            r#"{"type":"openstack","name":"os","region":"r1","endpoint":"https://ks:5000/v3",
                "credential":{"auth-type":"userpass","attrs":{"username":"u","password":"hunter2"}},
                "cacertificates":["-----BEGIN CERTIFICATE-----"],"skip-tls-verify":false,
                "is-controller-cloud":true}"#,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(spec.kind, "openstack");
        assert_eq!(spec.region.as_deref(), Some("r1"));
        assert!(spec.is_controller_cloud);
        let cred = spec.credential.clone().unwrap_or_else(|| unreachable!());
        assert_eq!(cred.attrs["password"], "hunter2");
        let shown = format!("{spec:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("password"),
            "{shown}"
        );
    }

    #[test]
    fn bad_cloud_specs_do_not_echo_values() {
        for bad in [
            r#"{"type":"x","name":"y","credential":{"auth-type":"a","attrs":{"password":1234}}}"#,
            r#"{"type":"","name":"y"}"#,
            r#"{"name":"y"}"#,
            "secret-text",
        ] {
            match CloudSpec::from_json(bad) {
                Err(e) => assert!(!e.contains("1234") && !e.contains("secret-text"), "{e}"),
                Ok(s) => unreachable!("{bad} read as {s:?}"),
            }
        }
    }
}
