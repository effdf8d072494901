//! Platform configuration: one typed structure with built-in defaults, overridden by the
//! Crossplane environment's `sco` key (from EnvironmentConfigs via function-environment-configs)
//! and then by the function input's `spec.platform`.
//!
//! Layers merge as JSON (objects key by key, anything else replaces), then the result is
//! decoded strictly: an unknown key or a value of the wrong shape is a Fatal result naming the
//! key and where it came from.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::compositions::{organisation, virtual_machine};
use crate::sdk::response::merge;
use pbstruct as structpb;
use pbstruct::Encoded;

/// The environment key that holds platform configuration.
pub const ENVIRONMENT_KEY: &str = "sco";

/// Platform configuration shared by every composition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Platform {
    /// Names of the Crossplane provider configs composed resources use.
    pub provider_configs: ProviderConfigs,
    /// TTL of responses while a composition waits for something it depends on (a workspace
    /// URL, a load balancer address), so that the XR is looked at again soon.
    pub waiting_ttl: Ttl,
    /// VirtualMachine settings.
    pub virtual_machine: virtual_machine::Settings,
    /// Organisation settings.
    pub organisation: organisation::Settings,
}

impl Default for Platform {
    fn default() -> Self {
        Self {
            provider_configs: ProviderConfigs::default(),
            waiting_ttl: Ttl(Duration::from_secs(10)),
            virtual_machine: virtual_machine::Settings::default(),
            organisation: organisation::Settings::default(),
        }
    }
}

/// Provider config names. Cluster-scoped XRs reference `ProviderConfig`s of these names;
/// namespaced XRs reference `ClusterProviderConfig`s of these names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ProviderConfigs {
    /// provider-kubernetes config for the service cluster (where XRs live).
    pub kubernetes: String,
    /// provider-kubernetes config whose kubeconfig points at KCP's root workspace.
    pub kcp_root: String,
    /// provider-keycloak config with admin access to the Keycloak master realm.
    pub keycloak: String,
}

impl Default for ProviderConfigs {
    fn default() -> Self {
        Self {
            kubernetes: "kubernetes-provider".into(),
            kcp_root: "kcp-root-provider".into(),
            keycloak: "keycloak-provider".into(),
        }
    }
}

/// A duration written as `10s`, `5m`, `500ms` or `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct Ttl(pub Duration);

impl Serialize for Ttl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let text = if d.subsec_millis() != 0 {
            format!("{}ms", d.as_millis())
        } else if d.as_secs() % 3600 == 0 && d.as_secs() > 0 {
            format!("{}h", d.as_secs() / 3600)
        } else if d.as_secs() % 60 == 0 && d.as_secs() > 0 {
            format!("{}m", d.as_secs() / 60)
        } else {
            format!("{}s", d.as_secs())
        };
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Ttl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::sdk::args::parse_duration(&text)
            .map(Ttl)
            .map_err(serde::de::Error::custom)
    }
}

/// Where a bad configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform configuration at {source_path}.{key}: {message}")]
pub struct ConfigError {
    /// `environment.sco` or `input spec.platform`.
    pub source_path: &'static str,
    /// The key, dotted (`virtualMachine.storageSizes.small`).
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

/// Layers (the environment by its encoded key) and what they resolved to.
type Resolved = (
    Option<Vec<u8>>,
    Option<Value>,
    Result<Arc<Platform>, ConfigError>,
);

impl Platform {
    /// Defaults, overridden by the environment's `sco` value and then the input's.
    pub fn resolve(
        environment: Option<&Value>,
        input: Option<&Value>,
    ) -> Result<Arc<Self>, ConfigError> {
        Self::resolve_layers(environment, input).map(Arc::new)
    }

    /// [`Platform::resolve`] with the environment's value as the request encodes it. Shared:
    /// calls with the same layers get the same resolution, and the environment is compared
    /// by its bytes, so that it is read only when it changes.
    pub fn resolve_encoded(
        environment: Option<Encoded<'_>>,
        input: Option<&Value>,
    ) -> Result<Arc<Self>, ConfigError> {
        thread_local! {
            /// The last resolution on this thread. Crossplane sends the same environment and
            /// input with nearly every call, and resolving them (a merge and a strict decode
            /// per layer) costs more than most renders.
            static LAST: RefCell<Option<Resolved>> = const { RefCell::new(None) };
        }
        let same_environment = |key: &Option<Vec<u8>>| match (key, environment) {
            (None, None) => true,
            (Some(key), Some(environment)) => environment.has_key(key),
            _ => false,
        };
        LAST.with_borrow_mut(|last| match last {
            Some((e, i, result)) if same_environment(e) && i.as_ref() == input => result.clone(),
            _ => {
                let json = environment.map(Encoded::to_json);
                let result = Self::resolve(json.as_ref(), input);
                *last = Some((environment.map(|e| e.key()), input.cloned(), result.clone()));
                result
            }
        })
    }

    fn resolve_layers(
        environment: Option<&Value>,
        input: Option<&Value>,
    ) -> Result<Self, ConfigError> {
        let mut merged = serde_json::to_value(Self::default()).expect("defaults serialise");
        for (layer, source_path) in [
            (environment, "environment.sco"),
            (input, "input spec.platform"),
        ] {
            let Some(layer) = layer else { continue };
            if !layer.is_object() {
                return Err(ConfigError {
                    source_path,
                    key: String::new(),
                    message: format!("expected an object, got {}", structpb::kind_name(layer)),
                });
            }
            merge(&mut merged, layer);
            // Decode after each layer so the error names the layer that broke it.
            structpb::from_value::<Self>(merged.clone()).map_err(|e| ConfigError {
                source_path,
                key: e.path.trim_start_matches('.').to_owned(),
                message: e.message,
            })?;
        }
        Ok(structpb::from_value(merged).expect("validated above"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbstruct::Struct;
    use serde_json::json;

    #[test]
    fn defaults_round_trip() {
        let p = Platform::default();
        assert_eq!(*Platform::resolve(None, None).unwrap(), p);
        assert_eq!(p.provider_configs.kubernetes, "kubernetes-provider");
        assert_eq!(p.waiting_ttl, Ttl(Duration::from_secs(10)));
    }

    #[test]
    fn input_wins_over_environment_over_defaults() {
        let env = json!({"providerConfigs": {"kubernetes": "env-k8s", "keycloak": "env-kc"}});
        let input = json!({"providerConfigs": {"keycloak": "input-kc"}, "waitingTtl": "5s"});
        let p = Platform::resolve(Some(&env), Some(&input)).unwrap();
        assert_eq!(p.provider_configs.kubernetes, "env-k8s");
        assert_eq!(p.provider_configs.keycloak, "input-kc");
        assert_eq!(p.provider_configs.kcp_root, "kcp-root-provider");
        assert_eq!(p.waiting_ttl, Ttl(Duration::from_secs(5)));
    }

    #[test]
    fn a_bad_value_names_its_key_and_layer() {
        let err = Platform::resolve(Some(&json!({"waitingTtl": "soon"})), None).unwrap_err();
        assert_eq!(err.source_path, "environment.sco");
        assert_eq!(err.key, "waitingTtl");
        let err = Platform::resolve(None, Some(&json!({"providerConfigs": {"kubernetse": "x"}})))
            .unwrap_err();
        assert_eq!(err.source_path, "input spec.platform");
        assert!(err.to_string().contains("providerConfigs"), "{err}");
        assert!(err.to_string().contains("kubernetse"), "{err}");
        assert!(Platform::resolve(Some(&json!("text")), None).is_err());
    }

    #[test]
    fn a_repeated_resolution_gives_the_same_answer_and_a_new_one_a_new_answer() {
        let five = json!({"waitingTtl": "5s"});
        let bad = json!({"waitingTtl": "soon"});
        for _ in 0..2 {
            assert_eq!(
                Platform::resolve(Some(&five), None).unwrap().waiting_ttl,
                Ttl(Duration::from_secs(5))
            );
            assert_eq!(
                Platform::resolve(Some(&five), Some(&json!({"waitingTtl": "7s"})))
                    .unwrap()
                    .waiting_ttl,
                Ttl(Duration::from_secs(7))
            );
            assert_eq!(
                Platform::resolve(Some(&bad), None).unwrap_err().key,
                "waitingTtl"
            );
            assert_eq!(*Platform::resolve(None, None).unwrap(), Platform::default());
        }
    }

    #[test]
    fn an_encoded_environment_is_read_again_only_when_its_bytes_change() {
        let encoded = |v: Value| structpb::from_json_value(&json!({"sco": v})).unwrap();
        let (five, seven, bad) = (
            encoded(json!({"waitingTtl": "5s"})),
            encoded(json!({"waitingTtl": "7s"})),
            encoded(json!({"waitingTtl": "soon"})),
        );
        fn at(s: &Struct) -> Option<Encoded<'_>> {
            s.encoded_at(&["sco"])
        }
        let first = Platform::resolve_encoded(at(&five), None).unwrap();
        let again = Platform::resolve_encoded(at(&five), None).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same bytes: the same resolution"
        );
        assert_eq!(first.waiting_ttl, Ttl(Duration::from_secs(5)));
        let other = Platform::resolve_encoded(at(&seven), None).unwrap();
        assert_eq!(other.waiting_ttl, Ttl(Duration::from_secs(7)));
        let input = json!({"waitingTtl": "9s"});
        let with_input = Platform::resolve_encoded(at(&seven), Some(&input)).unwrap();
        assert_eq!(with_input.waiting_ttl, Ttl(Duration::from_secs(9)));
        for _ in 0..2 {
            let err = Platform::resolve_encoded(at(&bad), None).unwrap_err();
            assert_eq!(err.key, "waitingTtl");
        }
        assert_eq!(
            *Platform::resolve_encoded(None, None).unwrap(),
            Platform::default()
        );
    }

    #[test]
    fn ttl_text_round_trips() {
        for text in ["10s", "5m", "2h", "500ms"] {
            let ttl: Ttl = serde_json::from_value(json!(text)).unwrap();
            assert_eq!(serde_json::to_value(ttl).unwrap(), json!(text));
        }
    }
}
