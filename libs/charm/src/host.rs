//! Where the unit runs, from the dispatch environment: machine, availability zone, principal
//! unit, proxy settings and cloud API version; and which Juju features the agent's version has.

use crate::env::JujuVersion;

/// The dispatch environment's description of the unit's host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostEnv {
    /// `JUJU_MACHINE_ID` (none on Kubernetes).
    pub machine_id: Option<String>,
    /// `JUJU_AVAILABILITY_ZONE`.
    pub availability_zone: Option<String>,
    /// `JUJU_PRINCIPAL_UNIT`: the principal unit of a subordinate.
    pub principal_unit: Option<String>,
    /// `CLOUD_API_VERSION`.
    pub cloud_api_version: Option<String>,
    /// The model's `juju-*-proxy` settings (`JUJU_CHARM_*_PROXY`).
    pub proxy: ProxySettings,
}

/// Proxy settings for the workload (the model's `juju-http-proxy`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// `JUJU_CHARM_HTTP_PROXY`.
    pub http: Option<String>,
    /// `JUJU_CHARM_HTTPS_PROXY`.
    pub https: Option<String>,
    /// `JUJU_CHARM_FTP_PROXY`.
    pub ftp: Option<String>,
    /// `JUJU_CHARM_NO_PROXY`.
    pub no_proxy: Option<String>,
}

impl ProxySettings {
    /// The conventional variables for a workload process (`HTTP_PROXY` and `http_proxy`, ...),
    /// only those set.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (upper, lower, value) in [
            ("HTTP_PROXY", "http_proxy", &self.http),
            ("HTTPS_PROXY", "https_proxy", &self.https),
            ("FTP_PROXY", "ftp_proxy", &self.ftp),
            ("NO_PROXY", "no_proxy", &self.no_proxy),
        ] {
            if let Some(v) = value {
                out.push((upper, v.clone()));
                out.push((lower, v.clone()));
            }
        }
        out
    }
}

impl HostEnv {
    /// Reads the variables through `var` (empty counts as unset). Values are kept as text:
    /// none is checked beyond that, so none may become a command's option unchecked.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> HostEnv {
        let get = |name: &str| var(name).filter(|v| !v.is_empty());
        HostEnv {
            machine_id: get("JUJU_MACHINE_ID"),
            availability_zone: get("JUJU_AVAILABILITY_ZONE"),
            principal_unit: get("JUJU_PRINCIPAL_UNIT"),
            cloud_api_version: get("CLOUD_API_VERSION"),
            proxy: ProxySettings {
                http: get("JUJU_CHARM_HTTP_PROXY"),
                https: get("JUJU_CHARM_HTTPS_PROXY"),
                ftp: get("JUJU_CHARM_FTP_PROXY"),
                no_proxy: get("JUJU_CHARM_NO_PROXY"),
            },
        }
    }

    /// Whether the unit runs on Kubernetes (no machine id).
    pub fn is_kubernetes(&self) -> bool {
        self.machine_id.is_none()
    }
}

/// Feature predicates: the first Juju version with each feature (juju-protocol.md §1.5).
impl JujuVersion {
    /// Application databags (`--app`): 2.7.0.
    pub fn has_app_data(&self) -> bool {
        self.at_least(2, 7, 0)
    }

    /// `JUJU_DISPATCH_PATH`: 2.8.0.
    pub fn is_dispatch_aware(&self) -> bool {
        self.at_least(2, 8, 0)
    }

    /// `state-get`/`state-set`/`state-delete`: 2.8.0.
    pub fn has_controller_storage(&self) -> bool {
        self.at_least(2, 8, 0)
    }

    /// Charm secrets as ops uses them: 3.0.3.
    pub fn has_secrets(&self) -> bool {
        self.at_least(3, 0, 3)
    }

    /// `open-port` on Kubernetes: 3.0.3.
    pub fn supports_open_port_on_k8s(&self) -> bool {
        self.at_least(3, 0, 3)
    }

    /// Secret owners track revisions like consumers: 3.1.7 in 3.1, 3.3.1 from 3.3.
    pub fn owners_track_secret_revisions(&self) -> bool {
        match (self.major, self.minor) {
            (3, 1) => self.at_least(3, 1, 7),
            (3, 2) => false,
            (3, 3) => self.at_least(3, 3, 1),
            _ => self.at_least(3, 4, 0),
        }
    }

    /// `<container>-pebble-custom-notice`: 3.4.
    pub fn has_pebble_notices(&self) -> bool {
        self.at_least(3, 4, 0)
    }

    /// `<container>-pebble-check-failed` and `-recovered`: 3.6.
    pub fn has_pebble_check_events(&self) -> bool {
        self.at_least(3, 6, 0)
    }

    /// `secret-set` coalesces updates within a hook and skips identical content: 3.6.
    pub fn coalesces_secret_updates(&self) -> bool {
        self.at_least(3, 6, 0)
    }

    /// `relation-model-get`: 3.6.2.
    pub fn has_relation_model_get(&self) -> bool {
        self.at_least(3, 6, 2)
    }

    /// `credential-get` on Kubernetes: 3.6.10.
    pub fn supports_credential_get_on_k8s(&self) -> bool {
        self.at_least(3, 6, 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> JujuVersion {
        JujuVersion::parse(text).unwrap_or(JujuVersion {
            major: 0,
            minor: 0,
            patch: 0,
        })
    }

    #[test]
    fn host_env_reads_the_variables_and_treats_empty_as_unset() {
        let vars = [
            ("JUJU_MACHINE_ID", "3"),
            ("JUJU_AVAILABILITY_ZONE", "zone-b"),
            ("JUJU_PRINCIPAL_UNIT", ""),
            ("JUJU_CHARM_HTTP_PROXY", "http://proxy:3128"),
            ("JUJU_CHARM_NO_PROXY", "127.0.0.1,10.0.0.0/8"),
        ];
        let host = HostEnv::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        });
        assert_eq!(host.machine_id.as_deref(), Some("3"));
        assert_eq!(host.availability_zone.as_deref(), Some("zone-b"));
        assert_eq!(host.principal_unit, None);
        assert!(!host.is_kubernetes());
        assert_eq!(host.proxy.https, None);
        let env = host.proxy.env_vars();
        assert!(env.contains(&("http_proxy", "http://proxy:3128".into())));
        assert!(env.contains(&("NO_PROXY", "127.0.0.1,10.0.0.0/8".into())));
        assert_eq!(env.len(), 4);
        assert!(HostEnv::from_vars(|_| None).is_kubernetes());
    }

    #[test]
    fn version_predicates_follow_the_feature_table() {
        assert!(!v("2.6.9").has_app_data() && v("2.7.0").has_app_data());
        assert!(!v("3.0.2").has_secrets() && v("3.0.3").has_secrets());
        assert!(v("3.1.7").owners_track_secret_revisions());
        assert!(!v("3.1.6").owners_track_secret_revisions());
        assert!(!v("3.2.4").owners_track_secret_revisions());
        assert!(!v("3.3.0").owners_track_secret_revisions());
        assert!(v("3.3.1").owners_track_secret_revisions());
        assert!(v("4.0.0").owners_track_secret_revisions());
        assert!(!v("3.6.1").has_relation_model_get() && v("3.6.2").has_relation_model_get());
        assert!(!v("3.6.9").supports_credential_get_on_k8s());
        assert!(v("3.6.10").supports_credential_get_on_k8s());
        assert!(v("3.4-beta1").has_pebble_notices() && !v("3.5.0").has_pebble_check_events());
    }
}
