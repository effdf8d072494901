//! Unit tests of the Organisation render: settings, names, flavour and the workspace gate.
//! The stage-by-stage walk is in `tests/organisation.rs`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::compositions::{Desired, Observed};
use crate::config::Config;
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::Name;

/// Function credentials holding a test seed.
fn seed() -> &'static crate::compositions::secrets::Credentials {
    use crate::compositions::secrets::{Credentials, SEED_CREDENTIAL, SEED_KEY};
    static SEED: std::sync::OnceLock<Credentials> = std::sync::OnceLock::new();
    SEED.get_or_init(|| {
        Credentials(BTreeMap::from([(
            SEED_CREDENTIAL.to_owned(),
            BTreeMap::from([(SEED_KEY.to_owned(), vec![42; 32])]),
        )]))
    })
}

fn xr(name: &str, namespace: Option<&str>) -> Value {
    let mut xr = json!({
        "apiVersion": "tenant.cloud.stakater.com/v1", "kind": "Organisation",
        "metadata": {"name": name, "uid": "00000000-0000-4000-8000-000000000001"},
        "spec": {"parameters": {"name": name, "displayName": "ACME", "admin": {"email": "Ada@ACME.example"}}},
    });
    if let Some(ns) = namespace {
        xr["metadata"]["namespace"] = json!(ns);
    }
    xr
}

fn platform() -> Platform {
    let sco = json!({"keycloak": {
        "url": "https://sso.example.com/", "console": {"clientId": "sco-console", "redirectUris": ["https://console.example.com/*"]}}});
    Config::resolve(Some(&sco), None)
        .expect("valid settings")
        .platform
        .clone()
}

fn render(
    composite: &Value,
    resources: &BTreeMap<Name, ObservedComposed>,
    platform: &Platform,
) -> Result<Desired, Invalid> {
    let typed: spec::Organisation = pbstruct::from_value(composite.clone()).expect("a valid XR");
    let required = BTreeMap::new();
    let observed = Observed {
        resources,
        required: &required,
        credentials: seed(),
    };
    Organisation::render(
        &typed,
        Context {
            observed: &observed,
            platform,
            settings: &Settings::default(),
        },
    )
}

/// The admin's initial password Secret, observed.
fn password_observed() -> BTreeMap<Name, ObservedComposed<'static>> {
    observed(
        names::ADMIN_PASSWORD,
        json!({"data": {"password": "cGFzcw=="}}),
    )
}

fn observed(name: &str, resource: Value) -> BTreeMap<Name, ObservedComposed<'static>> {
    BTreeMap::from([(
        Name::from(name),
        ObservedComposed::new(&resource, BTreeMap::new()),
    )])
}

#[test]
fn token_validation_is_off_and_names_have_defaults() {
    let settings = Platform::default();
    assert!(!settings.token_validation.enabled);
    assert_eq!(settings.keycloak.admin_group, "org-admins");
    assert_eq!(settings.kcp.admin_kubeconfig.key, "kubeconfig");
    assert_eq!(
        settings.keycloak.kubectl.redirect_uris,
        ["http://localhost:8000", "http://localhost:18000"]
    );
    let round_trip: Platform =
        serde_json::from_value(serde_json::to_value(&settings).unwrap()).unwrap();
    assert_eq!(round_trip, settings);
}

#[test]
fn console_redirect_uris_are_required() {
    let sco = json!({"keycloak": {"url": "https://sso.example.com"}});
    let platform = Config::resolve(Some(&sco), None).unwrap().platform.clone();
    let err = render(&xr("acme", None), &BTreeMap::new(), &platform).unwrap_err();
    assert_eq!(err.0[0].path, "platform keycloak.console.redirectUris");
    assert_eq!(err.reason(), "InvalidPlatformConfig");
}

#[test]
fn client_settings_the_keycloak_provider_refuses_are_named() {
    for (kubectl, path) in [
        (
            json!({"redirectUris": []}),
            "platform keycloak.kubectl.redirectUris",
        ),
        (
            json!({"webOrigins": ["https://a.example.com", "https://a.example.com"]}),
            "platform keycloak.kubectl.webOrigins",
        ),
    ] {
        let sco = json!({"keycloak": {
            "url": "https://sso.example.com",
            "console": {"redirectUris": ["https://console.example.com/*"]},
            "kubectl": kubectl,
        }});
        let platform = Config::resolve(Some(&sco), None).unwrap().platform.clone();
        let err = render(&xr("acme", None), &BTreeMap::new(), &platform).unwrap_err();
        assert_eq!(err.0[0].path, path);
    }
}

#[test]
fn a_bad_keycloak_url_is_refused_where_it_is_configured() {
    let sco = json!({"keycloak": {"url": "sso.example.com"}});
    let err = Config::resolve(Some(&sco), None).unwrap_err();
    assert_eq!(err.key, "keycloak.url");
    assert!(err.message.contains("is not an https URL"), "{err}");
}

#[test]
fn the_issuer_and_username_are_derived() {
    let desired = render(&xr("acme", None), &password_observed(), &platform()).unwrap();
    let user = &desired.resources[&Name::from(names::ADMIN_USER)]
        .manifest
        .to_json()["spec"]["forProvider"];
    assert_eq!(
        user["username"], "ada@acme.example",
        "Keycloak stores usernames in lower case"
    );
    assert_eq!(
        user["email"], "ada@acme.example",
        "Keycloak stores emails in lower case: anything else diffs on every poll"
    );
    let composite = xr("acme", None);
    let typed: spec::Organisation = pbstruct::from_value(composite.clone()).unwrap();
    let (resources, required) = (BTreeMap::new(), BTreeMap::new());
    let observed = Observed {
        resources: &resources,
        required: &required,
        credentials: seed(),
    };
    let platform = platform();
    let cx = Context {
        observed: &observed,
        platform: &platform,
        settings: &Settings::default(),
    };
    let render = Organisation::validate(&typed, cx).map(|r| r.issuer);
    assert_eq!(
        render.unwrap(),
        "https://sso.example.com/realms/acme",
        "no double slash"
    );
}

#[test]
fn long_organisation_names_give_valid_deterministic_object_names() {
    let long = "a".repeat(63);
    let first = render(&xr(&long, None), &BTreeMap::new(), &platform()).unwrap();
    let second = render(&xr(&long, None), &BTreeMap::new(), &platform()).unwrap();
    assert_eq!(first, second);
    let mut seen = std::collections::BTreeSet::new();
    for (name, composed) in &first.resources {
        let manifest = composed.manifest.to_json();
        let object = manifest["metadata"]["name"].as_str().unwrap();
        assert!(
            crate::sdk::resource::is_dns_label(object),
            "{name}: {object}"
        );
        assert!(
            seen.insert((
                manifest["kind"].as_str().unwrap().to_owned(),
                object.to_owned()
            )),
            "{name}: {object} twice"
        );
    }
    assert_eq!(
        first.resources[&Name::from(names::REALM)]
            .manifest
            .to_json()["spec"]["forProvider"]["realm"],
        long.as_str()
    );
}

#[test]
fn a_namespaced_xr_composes_the_namespaced_flavour() {
    let desired = render(
        &xr("acme", Some("tenants")),
        &password_observed(),
        &platform(),
    )
    .unwrap();
    let manifest = |name: &str| desired.resources[&Name::from(name)].manifest.to_json();
    assert_eq!(
        manifest(names::WORKSPACE)["apiVersion"],
        "kubernetes.m.crossplane.io/v1alpha1"
    );
    assert_eq!(
        manifest(names::WORKSPACE)["spec"]["providerConfigRef"],
        json!({"kind": "ClusterProviderConfig", "name": "kcp-root-provider"})
    );
    assert_eq!(
        manifest(names::REALM)["apiVersion"],
        "realm.keycloak.m.crossplane.io/v1alpha1"
    );
    assert_eq!(manifest(names::REALM)["metadata"]["namespace"], "tenants");
    assert_eq!(manifest(names::USAGE_REALM_BY_USER)["kind"], "Usage");
    assert_eq!(
        manifest(names::ADMIN_USER)["spec"]["initProvider"]["initialPassword"][0]["valueSecretRef"],
        json!({"key": "password", "name": "acme-admin-initial-password"}),
        "the namespaced kind reads the Secret in its own namespace"
    );
    assert_eq!(
        manifest(names::ADMIN_PASSWORD)["metadata"]["namespace"],
        "tenants"
    );
    assert_eq!(
        manifest(names::USAGE_REALM_BY_USER)["metadata"]["namespace"],
        "tenants"
    );
}

#[test]
fn a_workspace_with_a_url_but_not_ready_is_waited_for() {
    let object = json!({"status": {
        "conditions": [{"type": "Ready", "status": "False"}],
        "atProvider": {"manifest": {"spec": {"URL": "https://kcp/clusters/root:acme"}, "status": {"phase": "Initializing"}}}}});
    let desired = render(
        &xr("acme", None),
        &observed(names::WORKSPACE, object),
        &platform(),
    )
    .unwrap();
    let waiting = desired.waiting.expect("waiting");
    assert_eq!(waiting.reason, "WaitingForWorkspace");
    assert_eq!(
        waiting.message,
        "KCP workspace root:acme is in phase Initializing"
    );
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::KUBECONFIG))
    );
    assert_eq!(
        desired.status["workspace"]["url"],
        "https://kcp/clusters/root:acme"
    );
    assert_eq!(desired.status["workspaceReady"], false);
}

#[test]
fn an_object_ready_without_a_ready_workspace_is_not_ready() {
    let object = json!({"status": {
        "conditions": [{"type": "Ready", "status": "True"}],
        "atProvider": {"manifest": {"status": {"phase": "Scheduling"}}}}});
    let desired = render(
        &xr("acme", None),
        &observed(names::WORKSPACE, object),
        &platform(),
    )
    .unwrap();
    assert!(!desired.resources[&Name::from(names::WORKSPACE)].ready);
}

#[test]
fn the_first_administrators_identity_and_name_are_fixed_in_the_xrd() {
    // The admin user is only ever created (an update would remove federated links): a change
    // the provider would never make is refused by the API server instead of ignored.
    let xrd = Organisation::definition();
    let admin = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["parameters"]["properties"]["admin"];
    let rules: Vec<&str> = admin["x-kubernetes-validations"]
        .as_array()
        .expect("rules on admin")
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(rules.iter().any(|r| r.contains("username")), "{rules:?}");
    assert!(
        rules
            .iter()
            .any(|r| r.contains("self.firstName") && r.contains("oldSelf.lastName")),
        "{rules:?}"
    );
    assert_eq!(
        admin["properties"]["email"]["x-kubernetes-validations"][0]["rule"],
        "self == oldSelf"
    );
}
