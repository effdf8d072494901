//! The platform configuration of a call: built-in defaults, overridden by the Crossplane
//! environment's `sco` key (from EnvironmentConfigs via function-environment-configs) and
//! then by the function input's `spec.platform`.
//!
//! Its top-level keys are the shared settings ([`Platform`]) and, beside them, each registered
//! composition's own settings under its key ([`Composition::SETTINGS_KEY`]), decoded by the
//! composition's own type. Layers merge as JSON merge patches (RFC 7386: objects key by key,
//! `null` removes the key, a default included, anything else replaces), then the result is
//! decoded strictly: an unknown key, a value of the wrong shape or a key that has moved
//! ([`platform::MOVED`]) is a Fatal result naming the key and where it came from, with the
//! others found at once (every key of each composition's settings and of the shared ones that
//! fails to read, each read again with the failing ones taken out as an XR is, every unknown
//! top-level key, and then every rule between keys that fails). Keys a composition declares
//! as following another's ([`Composition::SETTINGS_FROM`]) start from the other's resolved
//! value, patched by the layers' values under the composition's own key.
//!
//! [`Composition::SETTINGS_KEY`]: crate::compositions::Composition::SETTINGS_KEY
//! [`Composition::SETTINGS_FROM`]: crate::compositions::Composition::SETTINGS_FROM

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::compositions::platform::{self, Platform};
use crate::compositions::{AnySettings, Entry, REGISTRY};
use pbstruct::Encoded;

/// The environment key that holds platform configuration.
pub const ENVIRONMENT_KEY: &str = "sco";

/// A resolved platform configuration: the shared settings and every composition's own.
#[derive(Debug)]
pub struct Config {
    /// The settings every composition may read.
    pub platform: Platform,
    /// Each composition's own settings, by settings key.
    settings: BTreeMap<&'static str, AnySettings>,
}

impl Config {
    /// The settings of composition `entry`.
    pub fn settings(&self, entry: &Entry) -> &AnySettings {
        &self.settings[entry.settings_key]
    }

    /// The settings of composition `C`, typed.
    pub fn of<C: crate::compositions::Composition>(&self) -> &C::Settings {
        self.settings[C::SETTINGS_KEY]
            .downcast_ref()
            .expect("each composition's settings are decoded as its own type")
    }
}

/// Where a bad configuration value came from: the first bad key, and any others found at the
/// same time (every key that fails to read, or every rule between keys that fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `environment.sco` or `input spec.platform`.
    pub source_path: &'static str,
    /// The key, dotted (`virtualMachine.storageSizes.small`).
    pub key: String,
    /// What is wrong with it.
    pub message: String,
    /// Other bad keys of the same layer, with what is wrong with each.
    pub also: Vec<(String, String)>,
}

impl ConfigError {
    /// The error of `errors`, found in the layer at `source_path` (never empty: the callers
    /// make one only from a failure).
    fn new(source_path: &'static str, errors: Vec<(String, String)>) -> Self {
        let mut errors = errors.into_iter();
        let (key, message) = errors.next().unwrap_or_default();
        Self {
            source_path,
            key,
            message,
            also: errors.collect(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = self.source_path;
        write!(
            f,
            "invalid platform configuration at {source}.{}: {}",
            self.key, self.message
        )?;
        for (key, message) in &self.also {
            write!(f, "; at {source}.{key}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Layers (the environment by its encoded key) and what they resolved to.
type Resolved = (
    Option<Vec<u8>>,
    Option<Value>,
    Result<Arc<Config>, ConfigError>,
);

impl Config {
    /// Defaults, overridden by the environment's `sco` value and then the input's.
    pub fn resolve(
        environment: Option<&Value>,
        input: Option<&Value>,
    ) -> Result<Arc<Self>, ConfigError> {
        Self::resolve_layers(environment, input).map(Arc::new)
    }

    /// [`Config::resolve`] with the environment's value as the request encodes it. Shared:
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
        let mut merged = defaults_json(&Platform::default(), Entry::default_settings);
        let mut last = "environment.sco";
        for (layer, source_path) in [
            (environment, "environment.sco"),
            (input, "input spec.platform"),
        ] {
            let Some(layer) = layer else { continue };
            last = source_path;
            let fail =
                |key: String, message: String| ConfigError::new(source_path, vec![(key, message)]);
            let Value::Object(object) = layer else {
                return Err(fail(
                    String::new(),
                    format!("expected an object, got {}", pbstruct::kind_name(layer)),
                ));
            };
            if let Some((old, new)) = moved(object) {
                return Err(fail(
                    old.to_owned(),
                    format!(
                        "this key has moved: set {new} instead (every composition reads it now)"
                    ),
                ));
            }
            merge_patch(&mut merged, layer);
            // Decode after each layer so the error names the layer that broke it.
            decode(&merged).map_err(|errors| ConfigError::new(source_path, errors))?;
        }
        follow(&mut merged, [environment, input]);
        // A layer's patch of a followed key met another base than the built-in one.
        let config = decode(&merged).map_err(|errors| ConfigError::new(last, errors))?;
        // Rules between keys hold for the merged result, whichever layer set each key.
        config
            .platform
            .check()
            .map_err(|errors| ConfigError::new(last, errors))?;
        Ok(config)
    }
}

/// Applies `patch` to `target` as a JSON merge patch (RFC 7386): objects merge key by key,
/// `null` removes the key, anything else replaces (an object patch over a value that is not an
/// object starts from an empty object). Settings layers apply this way (so a layer can drop a
/// default: a quota profile's limit, an optional setting), and so does provider-kubernetes'
/// patching of a wrapped manifest without server-side apply.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target) = target {
        for (k, v) in patch {
            if v.is_null() {
                target.remove(k);
            } else {
                merge_patch(target.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Sets the keys a composition's settings take from another's ([`Entry::settings_from`]):
/// each starts from the other's resolved value, and each layer's value for it under the
/// composition's own key patches that, as the layers patch everything else.
fn follow(merged: &mut Value, layers: [Option<&Value>; 2]) {
    for entry in REGISTRY {
        let Some((from, keys)) = entry.settings_from else {
            continue;
        };
        for &key in keys {
            let mut holder = Map::new();
            if let Some(value) = merged.get(from).and_then(|s| s.get(key)) {
                holder.insert(key.to_owned(), value.clone());
            }
            let mut holder = Value::Object(holder);
            for own in layers
                .iter()
                .flatten()
                .filter_map(|l| l.get(entry.settings_key))
            {
                if let Some(patch) = own.get(key) {
                    let patch = Map::from_iter([(key.to_owned(), patch.clone())]);
                    merge_patch(&mut holder, &Value::Object(patch));
                }
            }
            let Some(settings) = merged
                .get_mut(entry.settings_key)
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            match holder.as_object_mut().and_then(|h| h.remove(key)) {
                Some(value) => settings.insert(key.to_owned(), value),
                None => settings.remove(key),
            };
        }
    }
}

/// Every key of the configuration: the shared settings and each composition's under its key.
fn defaults_json(platform: &Platform, settings: impl Fn(&'static Entry) -> Value) -> Value {
    let mut merged = serde_json::to_value(platform).expect("the shared settings serialise");
    if let Value::Object(keys) = &mut merged {
        for entry in REGISTRY {
            keys.insert(entry.settings_key.to_owned(), settings(entry));
        }
    }
    merged
}

/// The first key of `layer` that earlier versions read and that has moved, with its new key.
fn moved(layer: &Map<String, Value>) -> Option<(&'static str, &'static str)> {
    platform::MOVED.iter().copied().find(|(old, _)| {
        let (parents, key) = old.rsplit_once('.').unwrap_or(("", old));
        let mut at = Some(layer);
        for part in parents.split('.').filter(|p| !p.is_empty()) {
            at = at
                .and_then(|object| object.get(part))
                .and_then(Value::as_object);
        }
        at.is_some_and(|object| object.contains_key(key))
    })
}

/// The configuration decoded strictly from its merged JSON, or the bad keys and why: every
/// field of each composition's settings and of the shared settings that fails to read, and
/// every unknown top-level key.
fn decode(merged: &Value) -> Result<Config, Vec<(String, String)>> {
    let mut shared = merged.as_object().cloned().unwrap_or_default();
    let mut settings = BTreeMap::new();
    let mut errors = Vec::new();
    for entry in REGISTRY {
        let value = shared.remove(entry.settings_key).unwrap_or(Value::Null);
        match entry.decode_settings(&value) {
            Ok(decoded) => {
                settings.insert(entry.settings_key, decoded);
            }
            Err(failed) => {
                for e in failed {
                    let path = e.path.trim_start_matches('.');
                    let key = if path.is_empty() {
                        entry.settings_key.to_owned()
                    } else {
                        format!("{}.{path}", entry.settings_key)
                    };
                    errors.push((key, e.message));
                }
            }
        }
    }
    let unknown: Vec<String> = shared
        .keys()
        .filter(|k| !Platform::KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        let mut known: Vec<&str> = Platform::KEYS.to_vec();
        known.extend(REGISTRY.iter().map(|e| e.settings_key));
        let message = format!("unknown key; expected one of {}", known.join(", "));
        for key in unknown {
            shared.remove(&key);
            errors.push((key, message.clone()));
        }
    }
    let shared = Value::Object(shared);
    let platform = pbstruct::from_ref_every::<Platform>(&shared).map_err(|failed| {
        for e in failed {
            errors.push((e.path.trim_start_matches('.').to_owned(), e.message));
        }
    });
    match platform {
        Ok(platform) if errors.is_empty() => Ok(Config { platform, settings }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::compositions::platform::Ttl;
    use crate::compositions::virtual_machine::VirtualMachine;
    use pbstruct::Struct;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        // RFC 7386, appendix A, the cases where a patch meets a target of another shape.
        for (target, patch, result) in [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ] {
            let mut patched = target.clone();
            merge_patch(&mut patched, &patch);
            assert_eq!(patched, result, "{target} patched with {patch}");
        }
    }

    fn resolve(
        environment: Option<&Value>,
        input: Option<&Value>,
    ) -> Result<Arc<Config>, ConfigError> {
        Config::resolve(environment, input)
    }

    #[test]
    fn defaults_round_trip() {
        let config = resolve(None, None).unwrap();
        assert_eq!(config.platform, Platform::default());
        assert_eq!(
            config.of::<VirtualMachine>(),
            &crate::compositions::virtual_machine::Settings::default()
        );
        assert_eq!(
            config.platform.provider_configs.kubernetes,
            "kubernetes-provider"
        );
        assert_eq!(config.platform.waiting_ttl, Ttl(Duration::from_secs(10)));
    }

    #[test]
    fn input_wins_over_environment_over_defaults() {
        let env = json!({"providerConfigs": {"kubernetes": "env-k8s", "keycloak": "env-kc"},
            "virtualMachine": {"sshUser": "env-user", "storageClass": "fast"}});
        let input = json!({"providerConfigs": {"keycloak": "input-kc"}, "waitingTtl": "5s",
            "virtualMachine": {"sshUser": "input-user"}});
        let config = resolve(Some(&env), Some(&input)).unwrap();
        let p = &config.platform;
        assert_eq!(p.provider_configs.kubernetes, "env-k8s");
        assert_eq!(p.provider_configs.keycloak, "input-kc");
        assert_eq!(p.provider_configs.kcp_root, "kcp-root-provider");
        assert_eq!(p.waiting_ttl, Ttl(Duration::from_secs(5)));
        let vm = config.of::<VirtualMachine>();
        assert_eq!(vm.ssh_user.to_string(), "input-user");
        assert_eq!(vm.storage_class.as_deref(), Some("fast"));
    }

    #[test]
    fn node_pools_follow_the_cluster_size_table_unless_told_otherwise() {
        use crate::compositions::openshift_cluster::OpenShiftCluster;
        use crate::compositions::openshift_node_pool::OpenShiftNodePool;
        use crate::resources::hypershift::UpgradeType;
        let pools = |env: Value, input: Option<Value>| {
            let config = resolve(Some(&env), input.as_ref()).unwrap();
            config.of::<OpenShiftNodePool>().clone()
        };
        // Nothing set: the built-in table, the same for both.
        let defaults = resolve(None, None).unwrap();
        assert_eq!(
            defaults.of::<OpenShiftNodePool>().sizes,
            defaults.of::<OpenShiftCluster>().sizes
        );
        // What the platform sets for clusters, pools get.
        let cluster = json!({"openshiftCluster": {
            "sizes": {"small": {"cores": 6}, "xlarge": null},
            "agentLabels": {"medium": {"agents.example.com/size": "m"}},
            "rootVolumeStorageClass": "fast",
            "upgradeType": "InPlace"}});
        let followed = pools(cluster.clone(), None);
        let small = followed.sizes.small.as_ref().unwrap();
        assert_eq!((small.cores, small.memory.as_str()), (6, "8Gi"));
        assert_eq!(followed.sizes.xlarge, None);
        assert_eq!(
            followed.agent_labels.medium.as_ref().unwrap()["agents.example.com/size"],
            "m"
        );
        assert_eq!(followed.root_volume_storage_class.as_deref(), Some("fast"));
        assert_eq!(followed.upgrade_type, Some(UpgradeType::InPlace));
        // What is set for pools patches the cluster's, from any layer, null included.
        let mut both = cluster.clone();
        both["openshiftNodePool"] = json!({"sizes": {"small": {"cores": 3}}});
        let input = json!({"openshiftNodePool": {"rootVolumeStorageClass": null}});
        let patched = pools(both, Some(input));
        let small = patched.sizes.small.as_ref().unwrap();
        assert_eq!((small.cores, small.memory.as_str()), (3, "8Gi"));
        assert_eq!(patched.sizes.xlarge, None, "the cluster's removal stands");
        assert_eq!(patched.root_volume_storage_class, None);
        assert_eq!(patched.upgrade_type, Some(UpgradeType::InPlace));
        let resolved = resolve(Some(&cluster), None).unwrap();
        assert_eq!(
            resolved
                .of::<OpenShiftCluster>()
                .sizes
                .small
                .as_ref()
                .unwrap()
                .cores,
            6,
            "the cluster's own table is untouched"
        );
        // A pool entry that only patches a size the cluster removed is incomplete.
        let broken = json!({
            "openshiftCluster": {"sizes": {"small": null}},
            "openshiftNodePool": {"sizes": {"small": {"cores": 3}}}});
        let err = resolve(Some(&broken), None).unwrap_err();
        assert!(
            err.key.starts_with("openshiftNodePool.sizes.small"),
            "{err}"
        );
    }

    #[test]
    fn null_removes_a_key_a_default_included() {
        let layer =
            json!({"project": {"quotaProfiles": {"small": {"hard": {"limits.cpu": null}}}}});
        let config = resolve(Some(&layer), None).unwrap();
        let small = &config
            .of::<crate::compositions::project::Project>()
            .quota_profiles["small"];
        assert_eq!(small.hard.get("limits.cpu"), None);
        assert_eq!(small.hard["limits.memory"], "16Gi", "the other keys stay");
        // An optional setting set by the environment, unset again by the input.
        let env = json!({"virtualMachine": {"storageClass": "fast"}});
        let input = json!({"virtualMachine": {"storageClass": null}});
        let config = resolve(Some(&env), Some(&input)).unwrap();
        assert_eq!(config.of::<VirtualMachine>().storage_class, None);
        // A list replaces whole: the nulls of Helm values inside it are Helm's, and stay.
        let values = json!({"securityContext": {"runAsUser": null}});
        let layer = json!({"openshiftCluster": {"bootstrap": {"releases": [{
            "name": "app", "chart": "app", "repository": "https://charts.example.com",
            "version": "1.0.0", "namespace": "app", "values": values}]}}});
        let config = resolve(Some(&layer), None).unwrap();
        let bootstrap = &config
            .of::<crate::compositions::openshift_cluster::OpenShiftCluster>()
            .bootstrap;
        assert_eq!(Value::Object(bootstrap.releases[0].values.clone()), values);
    }

    #[test]
    fn bad_keys_of_several_sections_are_named_at_once() {
        let layer = json!({
            "waitingTtl": "soon",
            "virtualMachine": {"sshUser": "Bad User"},
            "project": {"quotaProfiles": {"small": {"hard": "lots"}}},
            "virtualMachines": {},
            "keycloak": {"verifyEmail": true}});
        let err = resolve(Some(&layer), None).unwrap_err();
        let mut keys = vec![err.key.as_str()];
        keys.extend(err.also.iter().map(|(key, _)| key.as_str()));
        assert_eq!(
            keys,
            [
                "project.quotaProfiles.small.hard",
                "virtualMachine.sshUser",
                "virtualMachines",
                "waitingTtl"
            ],
            "{err}"
        );
        let text = err.to_string();
        for key in keys {
            assert!(text.contains(&format!("environment.sco.{key}: ")), "{text}");
        }
        // Rules between keys are checked once every key decodes, all of them at once.
        let rules = json!({"keycloak": {"verifyEmail": true, "kubectl": {"clientId": "broker"}}});
        let err = resolve(Some(&rules), None).unwrap_err();
        assert_eq!(err.key, "keycloak.verifyEmail");
        assert_eq!(err.also.len(), 1, "{err}");
        assert_eq!(err.also[0].0, "keycloak.kubectl.clientId");
    }

    #[test]
    fn every_bad_key_of_one_section_is_named_at_once() {
        let layer = json!({
            "waitingTtl": "soon",
            "kcp": {"serverUrl": "http://kcp.example.com"},
            "virtualMachine": {
                "sshUser": "Bad User",
                "storageSizes": {"small": "lots"},
                "networkBinding": "bridge-ish"}});
        let err = resolve(Some(&layer), None).unwrap_err();
        let mut keys = vec![err.key.as_str()];
        keys.extend(err.also.iter().map(|(key, _)| key.as_str()));
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "kcp.serverUrl",
                "virtualMachine.networkBinding",
                "virtualMachine.sshUser",
                "virtualMachine.storageSizes.small",
                "waitingTtl"
            ],
            "{err}"
        );
    }

    #[test]
    fn a_bad_value_names_its_key_and_layer() {
        let err = resolve(Some(&json!({"waitingTtl": "soon"})), None).unwrap_err();
        assert_eq!(err.source_path, "environment.sco");
        assert_eq!(err.key, "waitingTtl");
        let err =
            resolve(None, Some(&json!({"providerConfigs": {"kubernetse": "x"}}))).unwrap_err();
        assert_eq!(err.source_path, "input spec.platform");
        assert!(err.to_string().contains("providerConfigs"), "{err}");
        assert!(err.to_string().contains("kubernetse"), "{err}");
        assert!(resolve(Some(&json!("text")), None).is_err());
        let err = resolve(
            Some(&json!({"virtualMachine": {"sshUser": "Bad User"}})),
            None,
        )
        .unwrap_err();
        assert_eq!(err.key, "virtualMachine.sshUser");
        let err = resolve(Some(&json!({"virtualMachines": {}})), None).unwrap_err();
        assert_eq!(err.key, "virtualMachines");
        assert!(
            err.message.contains("virtualMachine,") || err.message.ends_with("virtualMachine"),
            "{err}"
        );
    }

    #[test]
    fn a_moved_key_is_refused_naming_the_new_one() {
        for (old, layer, new) in [
            (
                "organisation.kcp",
                json!({"organisation": {"kcp": {"rootWorkspace": "root"}}}),
                "set kcp",
            ),
            (
                "organisation.keycloak",
                json!({"organisation": {"keycloak": {"url": "https://sso.example.com"}}}),
                "set keycloak",
            ),
            (
                "organisation.adminGroup",
                json!({"organisation": {"adminGroup": "admins"}}),
                "set keycloak.adminGroup",
            ),
        ] {
            let err = resolve(None, Some(&layer)).unwrap_err();
            assert_eq!(err.key, old);
            assert!(err.message.contains(new), "{err}");
        }
        assert!(resolve(Some(&json!({"keycloak": {"adminGroup": "admins"}})), None).is_ok());
    }

    #[test]
    fn a_repeated_resolution_gives_the_same_answer_and_a_new_one_a_new_answer() {
        let five = json!({"waitingTtl": "5s"});
        let bad = json!({"waitingTtl": "soon"});
        for _ in 0..2 {
            assert_eq!(
                resolve(Some(&five), None).unwrap().platform.waiting_ttl,
                Ttl(Duration::from_secs(5))
            );
            assert_eq!(
                resolve(Some(&five), Some(&json!({"waitingTtl": "7s"})))
                    .unwrap()
                    .platform
                    .waiting_ttl,
                Ttl(Duration::from_secs(7))
            );
            assert_eq!(resolve(Some(&bad), None).unwrap_err().key, "waitingTtl");
            assert_eq!(resolve(None, None).unwrap().platform, Platform::default());
        }
    }

    #[test]
    fn an_encoded_environment_is_read_again_only_when_its_bytes_change() {
        let encoded = |v: Value| pbstruct::from_json_value(&json!({"sco": v})).unwrap();
        let (five, seven, bad) = (
            encoded(json!({"waitingTtl": "5s"})),
            encoded(json!({"waitingTtl": "7s"})),
            encoded(json!({"waitingTtl": "soon"})),
        );
        fn at(s: &Struct) -> Option<Encoded<'_>> {
            s.encoded_at(&["sco"])
        }
        let first = Config::resolve_encoded(at(&five), None).unwrap();
        let again = Config::resolve_encoded(at(&five), None).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same bytes: the same resolution"
        );
        assert_eq!(first.platform.waiting_ttl, Ttl(Duration::from_secs(5)));
        let other = Config::resolve_encoded(at(&seven), None).unwrap();
        assert_eq!(other.platform.waiting_ttl, Ttl(Duration::from_secs(7)));
        let input = json!({"waitingTtl": "9s"});
        let with_input = Config::resolve_encoded(at(&seven), Some(&input)).unwrap();
        assert_eq!(with_input.platform.waiting_ttl, Ttl(Duration::from_secs(9)));
        for _ in 0..2 {
            let err = Config::resolve_encoded(at(&bad), None).unwrap_err();
            assert_eq!(err.key, "waitingTtl");
        }
        assert_eq!(
            Config::resolve_encoded(None, None).unwrap().platform,
            Platform::default()
        );
    }
}
