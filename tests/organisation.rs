//! The Organisation composition walked through its stages (`tests/fixtures/organisation/`):
//! what is composed at each stage, readiness, the conditions and the status; and bad input,
//! which must be a Fatal result naming the field.

mod support;

use std::path::PathBuf;

use function_sco::sdk::proto::v1::{Ready, Status};
use function_sco::sdk::render;
use serde_json::{Value, json};
use support::outcome::Outcome;
use support::{case_input, composed_name, observed_mut, render_case, root};

fn stage(name: &str) -> PathBuf {
    root().join("tests/fixtures/organisation").join(name)
}

fn run(name: &str) -> Outcome {
    let outcome = Outcome::of(render_case(&stage(name)).1);
    assert_eq!(outcome.fatal(), None, "{name}: unexpected Fatal");
    outcome
}

const KEYCLOAK: [&str; 9] = [
    "admin-initial-password",
    "realm",
    "console-client",
    "kubectl-client",
    "console-groups-mapper",
    "kubectl-groups-mapper",
    "admins-group",
    "admin-user",
    "admin-membership",
];
const REALM_USAGES: [&str; 4] = [
    "usage-realm-by-admin-user",
    "usage-realm-by-admins-group",
    "usage-realm-by-console-client",
    "usage-realm-by-kubectl-client",
];
const KCP_RBAC: [&str; 6] = [
    "admins-project-creator",
    "admins-workspace-access",
    "project-creator-role",
    // The ProviderConfig outlives each object it manages in the workspace.
    "usage-provider-config-by-admins-project-creator",
    "usage-provider-config-by-admins-workspace-access",
    "usage-provider-config-by-project-creator-role",
];
const PROVIDER_CONFIG: [&str; 4] = [
    "kubeconfig",
    "provider-config",
    "usage-kubeconfig-by-provider-config",
    "usage-workspace-by-provider-config",
];

/// The pipeline's environment in a stage's input (its `sco` key holds the platform settings).
fn sco_environment(input: &mut function_sco::sdk::render::RenderInput) -> &mut Value {
    input
        .context
        .get_mut("apiextensions.crossplane.io/environment")
        .expect("the stage has an environment")
}

fn sorted(parts: &[&[&'static str]]) -> Vec<&'static str> {
    let mut all: Vec<&str> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    all.sort_unstable();
    all
}

#[test]
fn nothing_observed_composes_workspace_and_realm_and_waits_for_the_workspace() {
    let out = run("01-nothing-observed");
    // The admin user waits for its initial password Secret to be observed.
    let before_password: Vec<&str> = sorted(&[&["workspace"], &KEYCLOAK, &REALM_USAGES])
        .into_iter()
        .filter(|n| {
            ![
                "admin-user",
                "admin-membership",
                "usage-realm-by-admin-user",
            ]
            .contains(n)
        })
        .collect();
    assert_eq!(out.names(), before_password);
    assert!(
        out.composed
            .values()
            .all(|(_, ready)| *ready == Ready::False)
    );

    let workspace = out.manifest("workspace");
    assert_eq!(workspace["apiVersion"], "kubernetes.crossplane.io/v1alpha2");
    assert_eq!(
        workspace["spec"]["providerConfigRef"],
        json!({"name": "kcp-root-provider"})
    );
    assert_eq!(
        workspace["spec"]["readiness"],
        json!({"policy": "DeriveFromCelQuery", "celQuery": "has(object.status) && has(object.status.phase) && object.status.phase == 'Ready'"})
    );
    assert_eq!(
        workspace["spec"]["forProvider"]["manifest"]["metadata"]["name"],
        "acme"
    );
    assert_eq!(
        out.manifest("realm")["spec"]["forProvider"]["realm"],
        "acme"
    );

    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForWorkspace")
    );
    assert!(message.contains("root:acme"), "{message}");
    assert_eq!(out.condition("Valid").0, Status::ConditionTrue);
    assert_eq!(out.composite_ready(), Ready::False);
    assert_eq!(
        out.ttl_seconds(),
        10,
        "a waiting XR is looked at again soon"
    );

    let requirement = &out
        .response
        .requirements
        .as_ref()
        .expect("requirements")
        .resources["kcp-admin-kubeconfig"];
    assert_eq!(
        (requirement.kind.as_str(), requirement.namespace.as_deref()),
        ("Secret", Some("crossplane-system"))
    );

    assert_eq!(out.status["workspaceReady"], false);
    assert_eq!(out.status["allResourcesReady"], false);
    assert!(out.status.get("workspace").is_none() && out.status.get("realm").is_none());
}

#[test]
fn a_ready_workspace_brings_its_kubeconfig_and_provider_config() {
    let out = run("02-workspace-ready");
    assert_eq!(
        out.names(),
        sorted(&[&["workspace"], &KEYCLOAK, &REALM_USAGES, &PROVIDER_CONFIG])
    );
    assert!(out.ready("workspace"));
    assert!(
        !out.ready("kubeconfig") && !out.ready("provider-config"),
        "not observed yet"
    );

    let secret = out.manifest("kubeconfig");
    assert_eq!(
        (
            secret["metadata"]["name"].as_str(),
            secret["metadata"]["namespace"].as_str()
        ),
        (Some("acme-kcp-kubeconfig"), Some("crossplane-system"))
    );
    let kubeconfig = decode(&secret["data"]["kubeconfig"]);
    let kubeconfig: Value = serde_norway::from_str(&kubeconfig).unwrap();
    assert_eq!(
        kubeconfig["clusters"][0]["cluster"]["server"],
        "https://kcp.cloud.example.com/clusters/root:acme"
    );
    assert_eq!(kubeconfig["current-context"], "root:acme");

    let provider_config = out.manifest("provider-config");
    assert_eq!(provider_config["metadata"]["name"], "kcp-acme");
    assert_eq!(
        provider_config["spec"]["credentials"]["secretRef"],
        json!({"name": "acme-kcp-kubeconfig", "namespace": "crossplane-system", "key": "kubeconfig"})
    );
    let usage = out.manifest("usage-workspace-by-provider-config");
    assert_eq!(usage["kind"], "ClusterUsage");
    assert_eq!(usage["spec"]["of"]["resourceRef"]["name"], "acme-workspace");
    assert_eq!(usage["spec"]["by"]["resourceRef"]["name"], "kcp-acme");
    assert_eq!(
        out.manifest("usage-kubeconfig-by-provider-config")["kind"],
        "Usage"
    );

    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "Creating")
    );
    assert!(
        message.contains("realm") && message.contains("provider-config"),
        "{message}"
    );
    assert_eq!(out.status["workspaceReady"], true);
    assert_eq!(out.status["providerConfigReady"], false);
    assert_eq!(out.status["realmReady"], false);
    assert_eq!(
        out.status["workspace"]["url"],
        "https://kcp.cloud.example.com/clusters/root:acme"
    );
    assert!(out.status.get("providerConfig").is_none());
}

#[test]
fn everything_observed_ready_makes_the_organisation_ready() {
    let out = run("03-all-ready");
    assert_eq!(
        out.names(),
        sorted(&[
            &["workspace"],
            &KEYCLOAK,
            &REALM_USAGES,
            &PROVIDER_CONFIG,
            &KCP_RBAC
        ])
    );
    assert!(
        out.composed
            .values()
            .all(|(_, ready)| *ready == Ready::True)
    );
    assert_eq!(out.composite_ready(), Ready::True);
    assert_eq!(
        out.condition("ResourcesReady"),
        (Status::ConditionTrue, "Available".into(), String::new())
    );
    assert_eq!(out.ttl_seconds(), 60);
    assert_eq!(
        out.status,
        json!({
            "workspace": {"name": "acme", "path": "root:acme", "url": "https://kcp.cloud.example.com/clusters/root:acme"},
            "realm": {"name": "acme", "issuerUrl": "https://sso.cloud.example.com/realms/acme"},
            "providerConfig": "kcp-acme",
            "adminInitialPassword": {"name": "acme-admin-initial-password", "namespace": "crossplane-system", "key": "password"},
            "workspaceReady": true, "providerConfigReady": true, "realmReady": true, "clientsReady": true,
            "adminReady": true, "allResourcesReady": true,
        })
    );
}

#[test]
fn the_first_admin_gets_creation_only_fields_in_init_provider() {
    // Regression (issue 13, point 1): in forProvider, requiredActions and emailVerified are
    // re-applied on every poll and undo the admin's completed first login.
    let out = run("03-all-ready");
    let spec = &out.manifest("admin-user")["spec"];
    let for_provider = &spec["forProvider"];
    for field in ["requiredActions", "emailVerified", "initialPassword"] {
        assert!(
            for_provider.get(field).is_none(),
            "{field} must not be in forProvider: {for_provider}"
        );
    }
    let init = &spec["initProvider"];
    assert_eq!(init["emailVerified"], false);
    assert!(
        init.get("realmIdRef").is_none(),
        "references stay in forProvider"
    );
    assert_eq!(
        init["initialPassword"],
        json!([{"temporary": true, "valueSecretRef": {
            "key": "password", "name": "acme-admin-initial-password", "namespace": "crossplane-system"}}])
    );
    // The platform of this stage has SMTP: the address is verified by mail.
    assert_eq!(
        init["requiredActions"],
        json!(["VERIFY_EMAIL", "UPDATE_PASSWORD"])
    );
    assert_eq!(
        spec["managementPolicies"],
        json!(["Observe", "Create", "Delete"])
    );
    assert_eq!(for_provider["username"], "ada@acme.example");
    assert_eq!(for_provider["email"], "ada@acme.example");
    let realm = &out.manifest("realm")["spec"]["forProvider"];
    assert_eq!(
        (
            realm["verifyEmail"].as_bool(),
            realm["resetPasswordAllowed"].as_bool()
        ),
        (Some(true), Some(true))
    );
    let out = run("02-workspace-ready");
    let membership = &out.manifest("admin-membership")["spec"]["forProvider"];
    assert_eq!(
        membership["exhaustive"], false,
        "admins added later are kept"
    );
    assert_eq!(
        membership["groupIdsRefs"],
        json!([{"name": "acme-org-admins", "policy": {"resolve": "Always"}}])
    );
    let client = &out.manifest("kubectl-client")["spec"]["forProvider"];
    assert_eq!(
        (
            client["accessType"].as_str(),
            client["pkceCodeChallengeMethod"].as_str()
        ),
        (Some("PUBLIC"), Some("S256"))
    );
    let mapper = &out.manifest("console-groups-mapper")["spec"]["forProvider"];
    assert_eq!(
        (mapper["claimName"].as_str(), mapper["fullPath"].as_bool()),
        (Some("groups"), Some(false))
    );
}

#[test]
fn a_missing_admin_kubeconfig_is_waited_for_not_fatal() {
    let out = run("04-admin-kubeconfig-missing");
    assert!(
        !out.composed.contains_key("kubeconfig") && !out.composed.contains_key("provider-config")
    );
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForKcpAdminKubeconfig")
    );
    assert_eq!(
        message,
        "the KCP admin kubeconfig Secret crossplane-system/kcp-admin-kubeconfig does not exist"
    );
    assert_eq!(out.status["workspaceReady"], true);
}

#[test]
fn an_existing_kubeconfig_is_kept_when_the_admin_kubeconfig_goes() {
    let out = run("05-admin-kubeconfig-gone-kubeconfig-kept");
    let observed = support::case_input(&stage("05-admin-kubeconfig-gone-kubeconfig-kept")).observed;
    let observed_secret = observed
        .iter()
        .find(|o| o["kind"] == "Secret")
        .expect("observed kubeconfig");
    assert_eq!(out.manifest("kubeconfig")["data"], observed_secret["data"]);
    assert!(out.ready("kubeconfig") && out.ready("provider-config"));
    let (_, reason, message) = out.condition("ResourcesReady");
    assert_eq!(reason, "WaitingForKcpAdminKubeconfig");
    assert!(
        message.ends_with("the existing kubeconfig for root:acme is kept"),
        "{message}"
    );
    assert_eq!(out.composite_ready(), Ready::False);
}

#[test]
fn token_validation_waits_for_the_provider_config_then_the_realm() {
    let out = run("06-token-validation-waiting-for-provider-config");
    assert!(
        !out.composed.contains_key("auth-config")
            && !out.composed.contains_key("project-workspace-type")
    );
    assert!(out.composed.contains_key("provider-config"));
    assert_eq!(
        out.condition("ResourcesReady").1,
        "WaitingForProviderConfig"
    );
    assert_eq!(out.status["tokenValidationReady"], false);

    let out = run("07-token-validation-waiting-for-realm");
    assert!(!out.composed.contains_key("auth-config"));
    assert_eq!(out.condition("ResourcesReady").1, "WaitingForRealm");
}

#[test]
fn token_validation_trusts_the_realm_in_the_organisation_workspace() {
    let out = run("08-token-validation-all-ready");
    assert_eq!(out.composite_ready(), Ready::True);
    let auth = out.manifest("auth-config");
    assert_eq!(
        auth["spec"]["providerConfigRef"],
        json!({"name": "kcp-globex"}),
        "created inside the organisation's workspace"
    );
    assert_eq!(
        auth["spec"]["readiness"],
        json!({"policy": "SuccessfulCreate"})
    );
    let issuer = &auth["spec"]["forProvider"]["manifest"]["spec"]["jwt"][0]["issuer"];
    assert_eq!(issuer["url"], "https://sso.cloud.example.com/realms/globex");
    assert_eq!(
        issuer["audiences"],
        json!(["kubectl", "sco-console", "https://kcp.cloud.example.com"])
    );
    let workspace_type = &out.manifest("project-workspace-type")["spec"]["forProvider"]["manifest"];
    assert_eq!(workspace_type["metadata"]["name"], "project");
    assert_eq!(
        workspace_type["spec"]["authenticationConfigurations"],
        json!([{"name": "keycloak-realm"}])
    );
    for client in ["console", "kubectl"] {
        let mapper = &out.manifest(&format!("{client}-kcp-audience-mapper"))["spec"]["forProvider"];
        assert_eq!(
            mapper["includedCustomAudience"],
            "https://kcp.cloud.example.com"
        );
    }
    let kubeconfig: Value =
        serde_norway::from_str(&decode(&out.manifest("kubeconfig")["data"]["kubeconfig"])).unwrap();
    assert_eq!(
        kubeconfig["clusters"][0]["cluster"]["server"],
        "https://kcp-front-proxy.kcp-system.svc:8443/clusters/root:globex"
    );

    assert_eq!(
        out.status["projectWorkspaceType"],
        json!({"name": "project", "path": "root:globex"})
    );
    assert_eq!(out.status["tokenValidationReady"], true);
    assert_eq!(out.status["identityProviderReady"], true);
    assert_eq!(
        out.status["identityProvider"],
        json!({"alias": "entra-id", "redirectUri": "https://sso.cloud.example.com/realms/globex/broker/entra-id/endpoint"})
    );
    assert_eq!(
        out.status["workspace"]["url"], "https://kcp.cloud.example.com/clusters/root:globex",
        "the status shows KCP's own URL"
    );
}

#[test]
fn the_workspace_provider_config_outlives_every_object_it_manages() {
    // Regression: under foreground deletion provider-kubernetes' ProviderConfigUsage goes
    // while an Object still terminates; only a Usage keeps the ProviderConfig until then.
    let out = run("08-token-validation-all-ready");
    let provider_config = out.manifest("provider-config")["metadata"]["name"].clone();
    let kept: Vec<Value> = out
        .composed
        .values()
        .filter(|(m, _)| {
            m["kind"] == "ClusterUsage"
                && m["spec"]["of"]["kind"] == "ProviderConfig"
                && m["spec"]["of"]["resourceRef"]["name"] == provider_config
        })
        .map(|(m, _)| m["spec"]["by"]["resourceRef"]["name"].clone())
        .collect();
    let in_workspace: Vec<(Value, Value)> = out
        .composed
        .values()
        .filter(|(m, _)| {
            m["kind"] == "Object" && m["spec"]["providerConfigRef"]["name"] == provider_config
        })
        .map(|(m, _)| {
            (
                m["metadata"]["name"].clone(),
                m["spec"]["forProvider"]["manifest"]["kind"].clone(),
            )
        })
        .collect();
    assert_eq!(in_workspace.len(), 5, "{in_workspace:?}");
    for (object, kind) in in_workspace {
        assert!(
            kept.contains(&object),
            "{kind} {object} is not kept: {kept:?}"
        );
    }
}

#[test]
fn the_identity_provider_waits_for_its_client_id_secret_and_logs_the_browser_out() {
    // upjet sends an empty value for a Secret it cannot find: created before its client-ID
    // Secret, the provider would get client ID "".
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    input.observed.retain(|o| {
        !matches!(
            composed_name(o),
            "identity-provider"
                | "identity-provider-client-id"
                | "usage-realm-by-identity-provider"
                | "usage-identity-provider-client-id-by-identity-provider"
        )
    });
    assert_the_identity_provider_waits(&input, &["globex-idp-client-id"]);
    // Once it exists the provider is composed; with an end-session endpoint Keycloak must
    // send the browser there (not a back-channel call), or the corporate session outlives
    // the logout.
    let out = run("08-token-validation-all-ready");
    let idp = &out.manifest("identity-provider")["spec"]["forProvider"];
    assert!(idp["logoutUrl"].is_string());
    assert_eq!(idp["backchannelSupported"], false);
}

/// Created without its client secret, the provider would fail every login until an update
/// carried the secret: a new one waits for it, as for its client ID.
#[test]
fn a_new_identity_provider_waits_for_its_client_secret() {
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    input
        .observed
        .retain(|o| composed_name(o) != "identity-provider");
    input
        .required
        .retain(|o| o["metadata"]["name"] != "globex-entra-id");
    assert_the_identity_provider_waits(
        &input,
        &["crossplane-system/globex-entra-id", "client secret"],
    );
}

/// Asserts `input` composes the client-ID Secret but not the identity provider, waiting for
/// a Secret its message describes with every one of `says`.
fn assert_the_identity_provider_waits(input: &render::RenderInput, says: &[&str]) {
    let out = Outcome::of(support::render_input(input));
    assert_eq!(out.fatal(), None);
    assert!(out.composed.contains_key("identity-provider-client-id"));
    assert!(!out.composed.contains_key("identity-provider"));
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForIdentityProviderSecret")
    );
    assert!(says.iter().all(|s| message.contains(s)), "{message}");
}

#[test]
fn the_identity_provider_reads_its_client_credentials_from_secrets() {
    let out = run("08-token-validation-all-ready");
    let idp = &out.manifest("identity-provider")["spec"]["forProvider"];
    assert_eq!(
        idp["clientIdSecretRef"],
        json!({"name": "globex-idp-client-id", "namespace": "crossplane-system", "key": "clientId"})
    );
    assert_eq!(
        idp["clientSecretSecretRef"],
        json!({"name": "globex-entra-id", "namespace": "crossplane-system", "key": "clientSecret"})
    );
    assert_eq!(idp["validateSignature"], true);
    assert_eq!(
        decode(&out.manifest("identity-provider-client-id")["data"]["clientId"]),
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    );
    for usage in [
        "usage-realm-by-identity-provider",
        "usage-identity-provider-client-id-by-identity-provider",
    ] {
        assert_eq!(
            out.manifest(usage)["spec"]["by"]["kind"],
            "IdentityProvider"
        );
    }
}

/// upjet reads a missing Secret or key as an empty value, and Keycloak then drops the SMTP
/// password or has no client secret for the federated provider: while the Secret the settings
/// or the XR name cannot give one, the Organisation says which and what it does.
#[test]
fn a_missing_smtp_password_or_client_secret_is_warned_about() {
    fn secret(name: &str) -> impl Fn(&Value) -> bool + '_ {
        move |o: &Value| o["kind"] == "Secret" && o["metadata"]["name"] == name
    }
    for (stage_name, secret_name, key, says) in [
        (
            "03-all-ready",
            "sco-smtp",
            "password",
            "no SMTP password (keycloak.smtp.auth.passwordSecret) and Keycloak drops the one it has: the realm sends no mail (address verification, password reset) until the Secret has it; with keycloak.verifyEmail, a new user's first login waits",
        ),
        (
            "08-token-validation-all-ready",
            "globex-entra-id",
            "clientSecret",
            "no client secret",
        ),
    ] {
        let base = case_input(&stage(stage_name));
        assert!(
            base.required.iter().any(secret(secret_name)),
            "{stage_name} has Secret {secret_name}"
        );
        assert_eq!(
            Outcome::of(support::render_input(&base)).warnings(),
            Vec::<&str>::new()
        );
        let mut missing = base.clone();
        missing.required.retain(|o| !secret(secret_name)(o));
        let mut without_key = base.clone();
        let mut empty = base.clone();
        for (input, value) in [(&mut without_key, None), (&mut empty, Some(json!("")))] {
            let data = &mut input
                .required
                .iter_mut()
                .find(|o| secret(secret_name)(o))
                .unwrap()["data"];
            match value {
                None => data.as_object_mut().unwrap().clear(),
                Some(v) => data[key] = v,
            }
        }
        for (input, problem) in [
            (
                missing,
                format!("Secret crossplane-system/{secret_name} does not exist"),
            ),
            (
                without_key,
                format!("Secret crossplane-system/{secret_name} has no key {key}"),
            ),
            (
                empty,
                format!("key {key} of Secret crossplane-system/{secret_name} is empty"),
            ),
        ] {
            let out = Outcome::of(support::render_input(&input));
            assert_eq!(out.fatal(), None);
            let warnings = out.warnings();
            assert!(
                warnings
                    .iter()
                    .any(|w| w.starts_with(&problem) && w.contains(says)),
                "{stage_name}: no warning {problem:?}: {warnings:?}"
            );
            // Everything is still composed: the Secret may come later.
            assert!(out.composed.contains_key("realm"));
            if stage_name.starts_with("08") {
                assert!(out.composed.contains_key("identity-provider"), "it exists");
            }
        }
    }
}

#[test]
fn no_secret_value_reaches_status_or_conditions() {
    for name in [
        "03-all-ready",
        "04-admin-kubeconfig-missing",
        "05-admin-kubeconfig-gone-kubeconfig-kept",
        "08-token-validation-all-ready",
    ] {
        let out = run(name);
        let shown = format!(
            "{} {:?} {:?}",
            out.status, out.response.conditions, out.response.results
        );
        for secret in [
            "not-a-real-token",
            "certificate-authority-data",
            "YXBpVmVyc2lvbj",
            "kubeconfig: ",
        ] {
            assert!(!shown.contains(secret), "{name}: {secret} shows in {shown}");
        }
    }
}

fn decode(data: &Value) -> String {
    let bytes: k8s_openapi::ByteString = serde_json::from_value(data.clone()).expect("base64");
    String::from_utf8(bytes.0).expect("utf-8")
}

/// Renders `input` through the server's code path.
fn render_input(input: &render::RenderInput) -> Outcome {
    Outcome::of(support::render_input(input))
}

/// Renders the all-ready stage with `patch` applied to the XR at `pointer`.
fn render_with(pointer: &str, value: Value) -> Outcome {
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    *input
        .composite
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} not in the XR")) = value;
    render_input(&input)
}

/// Asserts a Fatal result and a `Valid=False` condition whose message starts with `path: `.
fn assert_fatal_names(out: &Outcome, path: &str, fragment: &str) {
    assert_fatal_with(out, "InvalidSpec", path, fragment);
}

/// A Fatal result with `reason` whose message leads with `path` and holds `fragment`.
fn assert_fatal_with(out: &Outcome, expected: &str, path: &str, fragment: &str) {
    let message = out.fatal().expect("a Fatal result");
    assert!(message.starts_with(&format!("{path}: ")), "{message}");
    assert!(message.contains(fragment), "{message}");
    let (status, reason, condition) = out.condition("Valid");
    assert_eq!(
        (status, reason.as_str(), condition.as_str()),
        (Status::ConditionFalse, expected, message)
    );
    assert!(
        out.composed.is_empty(),
        "nothing is composed from a bad spec"
    );
}

#[test]
fn a_bad_organisation_name_is_fatal() {
    let out = render_with("/spec/parameters/name", json!("Acme_Corp"));
    assert_fatal_names(
        &out,
        "spec.parameters.name",
        r#""Acme_Corp" is not a DNS label"#,
    );
}

#[test]
fn the_keycloak_admin_realm_name_is_refused() {
    let out = render_with("/spec/parameters/name", json!("master"));
    assert_fatal_names(&out, "spec.parameters.name", "administration realm");
}

#[test]
fn a_bad_admin_email_is_fatal() {
    let out = render_with(
        "/spec/parameters/admin/email",
        json!("hank-at-globex.example"),
    );
    assert_fatal_names(
        &out,
        "spec.parameters.admin.email",
        "is not an email address",
    );
}

#[test]
fn an_email_keycloak_refuses_as_the_default_username_is_fatal() {
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    let admin = input
        .composite
        .pointer_mut("/spec/parameters/admin")
        .unwrap();
    admin["username"] = Value::Null;
    admin["email"] = json!("Hank.O'Brien@globex.example");
    let out = render_input(&input);
    assert_fatal_names(
        &out,
        "spec.parameters.admin.email",
        "set spec.parameters.admin.username",
    );
    assert!(out.fatal().unwrap().contains("Keycloak refuses '\\''"));
}

#[test]
fn a_bad_admin_username_is_fatal() {
    let out = render_with("/spec/parameters/admin/username", json!("Hank Scorpio"));
    assert_fatal_names(
        &out,
        "spec.parameters.admin.username",
        "is not a Keycloak username",
    );
}

#[test]
fn a_bad_identity_provider_url_is_fatal() {
    let out = render_with(
        "/spec/parameters/identityProvider/tokenUrl",
        json!("http://login.microsoftonline.com/token"),
    );
    assert_fatal_names(
        &out,
        "spec.parameters.identityProvider.tokenUrl",
        "must start with https://",
    );
    let out = render_with(
        "/spec/parameters/identityProvider/jwksUrl",
        json!("https:///keys"),
    );
    assert_fatal_names(
        &out,
        "spec.parameters.identityProvider.jwksUrl",
        "no valid host",
    );
}

#[test]
fn a_bad_identity_provider_alias_is_fatal() {
    let out = render_with("/spec/parameters/identityProvider/alias", json!("Entra ID"));
    assert_fatal_names(
        &out,
        "spec.parameters.identityProvider.alias",
        "is not a DNS label",
    );
}

#[test]
fn a_missing_display_name_is_fatal() {
    let out = render_with("/spec/parameters/displayName", json!(null));
    assert_fatal_names(&out, "spec.parameters.displayName", "string");
}

#[test]
fn an_unknown_parameter_is_fatal() {
    let mut input = case_input(&stage("01-nothing-observed"));
    input.composite["spec"]["parameters"]["colour"] = json!("blue");
    let out = render_input(&input);
    assert_fatal_names(&out, "spec.parameters.colour", "unknown field");
}

#[test]
fn platform_settings_without_keycloak_url_are_fatal() {
    let mut input = case_input(&stage("01-nothing-observed"));
    let environment = sco_environment(&mut input);
    environment["sco"]["keycloak"]
        .as_object_mut()
        .unwrap()
        .remove("url");
    let out = render_input(&input);
    assert_fatal_with(
        &out,
        "InvalidPlatformConfig",
        "platform keycloak.url",
        "is not set",
    );
}

#[test]
fn a_renamed_admin_group_setting_keeps_the_group_object_the_membership_names() {
    // Crossplane keeps the name an existing composed resource has: after keycloak.adminGroup
    // changes, the membership and the Usage must still name the existing Group object.
    let mut input = case_input(&stage("03-all-ready"));
    let environment = sco_environment(&mut input);
    environment["sco"]["keycloak"]["adminGroup"] = json!("administrators");
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    let group = out.manifest("admins-group");
    assert_eq!(
        group["metadata"]["name"], "acme-org-admins",
        "the observed name"
    );
    assert_eq!(group["spec"]["forProvider"]["name"], "administrators");
    assert_eq!(
        out.manifest("admin-membership")["spec"]["forProvider"]["groupIdsRefs"][0]["name"],
        "acme-org-admins"
    );
    assert_eq!(
        out.manifest("usage-realm-by-admins-group")["spec"]["by"]["resourceRef"]["name"],
        "acme-org-admins"
    );
}

#[test]
fn mixed_case_admin_email_is_lower_cased() {
    // Regression (issue 13, point 3): Keycloak stores emails lower-cased.
    let out = render_with(
        "/spec/parameters/admin/email",
        json!("Ada.Lovelace@ACME.Example"),
    );
    assert_eq!(out.fatal(), None);
    let user = &out.manifest("admin-user")["spec"]["forProvider"];
    assert_eq!(user["email"], "ada.lovelace@acme.example");
}

#[test]
fn the_initial_password_is_read_back_once_observed_and_never_logged_in_status() {
    // Regression (issue 13, point 2): a working first login in every setup.
    let input = case_input(&stage("03-all-ready"));
    let out = render_input(&input);
    let secret = out.manifest("admin-initial-password");
    let observed = input
        .observed
        .iter()
        .find(|o| o["metadata"]["name"] == "acme-admin-initial-password")
        .expect("observed Secret");
    assert_eq!(secret["data"]["password"], observed["data"]["password"]);
    assert_eq!(
        out.status["adminInitialPassword"],
        json!({"name": "acme-admin-initial-password", "namespace": "crossplane-system", "key": "password"})
    );
    let password = decode(&secret["data"]["password"]);
    assert!(!out.status.to_string().contains(&password));

    // A different observed value wins over the derived one: it is never changed.
    let mut kept = input.clone();
    for o in &mut kept.observed {
        if o["metadata"]["name"] == "acme-admin-initial-password" {
            o["data"]["password"] = json!("a2VwdA==");
        }
    }
    let out = render_input(&kept);
    assert_eq!(
        out.manifest("admin-initial-password")["data"]["password"],
        "a2VwdA=="
    );

    // Derived again, the same value: deterministic from the seed and the XR's uid.
    let mut fresh = input.clone();
    fresh
        .observed
        .retain(|o| o["metadata"]["name"] != "acme-admin-initial-password");
    let out = render_input(&fresh);
    assert_eq!(
        decode(&out.manifest("admin-initial-password")["data"]["password"]),
        password
    );
    assert!(
        !out.composed.contains_key("admin-user"),
        "the user waits for the Secret"
    );
    assert_eq!(out.condition("ResourcesReady").1, "WaitingForAdminPassword");
}

#[test]
fn without_the_seed_credential_the_organisation_is_fatal_naming_it() {
    let mut input = case_input(&stage("01-nothing-observed"));
    input.credentials.clear();
    let out = render_input(&input);
    let message = out.fatal().expect("a Fatal result");
    assert!(
        message.starts_with("credentials.sco-seed: is missing"),
        "{message}"
    );
    assert!(
        message.contains("kubectl -n crossplane-system create secret generic sco-seed"),
        "{message}"
    );
    assert_eq!(out.condition("Valid").1, "MissingCredential");
    assert!(out.composed.is_empty());
    // A render from files with the credential reads it back: the seed reaches the function.
    let input = case_input(&stage("01-nothing-observed"));
    assert!(input.credentials.contains_key("sco-seed"));
}

#[test]
fn without_smtp_realms_neither_verify_nor_reset_by_mail() {
    let mut input = case_input(&stage("03-all-ready"));
    let environment = sco_environment(&mut input);
    environment["sco"]["keycloak"]
        .as_object_mut()
        .unwrap()
        .remove("smtp");
    let out = render_input(&input);
    let realm = &out.manifest("realm")["spec"]["forProvider"];
    assert_eq!(
        (
            realm["verifyEmail"].as_bool(),
            realm["resetPasswordAllowed"].as_bool()
        ),
        (Some(false), Some(false))
    );
    let init = &out.manifest("admin-user")["spec"]["initProvider"];
    assert_eq!(
        init["requiredActions"],
        serde_json::json!(["UPDATE_PASSWORD"]),
        "{init}"
    );
    assert_eq!(init["initialPassword"][0]["temporary"], true);

    // Forcing verification without SMTP is a platform error.
    let environment = sco_environment(&mut input);
    environment["sco"]["keycloak"]["verifyEmail"] = json!(true);
    let out = render_input(&input);
    let message = out.fatal().expect("a Fatal result");
    assert!(
        message.contains("keycloak.verifyEmail") && message.contains("keycloak.smtp"),
        "{message}"
    );
    assert_eq!(out.condition("Valid").1, "InvalidPlatformConfig");
}

#[test]
fn token_validation_without_the_kcp_audience_is_an_invalid_platform_config() {
    // Regression (issue 13, point 5): KCP refuses tokens without its global API audience.
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    let environment = sco_environment(&mut input);
    environment["sco"]["tokenValidation"]
        .as_object_mut()
        .unwrap()
        .remove("kcpAudience");
    let out = render_input(&input);
    let message = out.fatal().expect("a Fatal result");
    assert!(message.contains("tokenValidation.kcpAudience"), "{message}");
    assert!(message.contains("global API audience"), "{message}");
    assert_eq!(out.condition("Valid").1, "InvalidPlatformConfig");
}

#[test]
fn the_federated_provider_uses_the_first_broker_login_flow_to_link_the_admin() {
    // The pre-created admin links their corporate login by re-authenticating once with the
    // initial password (Keycloak's "first broker login", "Handle Existing Account").
    let out = Outcome::of(render_case(&root().join("examples/organisation/globex-federated")).1);
    let idp = &out.manifest("identity-provider")["spec"]["forProvider"];
    assert_eq!(idp["firstBrokerLoginFlowAlias"], "first broker login");
    assert_eq!(idp["syncMode"], "IMPORT");
    assert_eq!(idp["trustEmail"], true);
    let user = &out.manifest("admin-user")["spec"];
    assert_eq!(user["forProvider"]["email"], "hank.scorpio@globex.example");
    assert_eq!(
        user["initProvider"]["initialPassword"][0]["temporary"],
        true
    );
}

#[test]
fn function_sco_render_exits_3_without_the_seed_or_the_kcp_audience() {
    let bin = env!("CARGO_BIN_EXE_function-sco");
    let run = |dir: &str, credentials: bool, environment: Option<&std::path::Path>| {
        let d = root().join(dir);
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("render")
            .arg(d.join("xr.yaml"))
            .arg("-o")
            .arg(d.join("observed.yaml"))
            .arg("-r")
            .arg(d.join("required.yaml"))
            .arg("-e")
            .arg(environment.map_or_else(|| d.join("environment.yaml"), ToOwned::to_owned));
        if credentials {
            cmd.arg("--credentials").arg(d.join("credentials.yaml"));
        }
        let out = cmd.output().expect("function-sco runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, _) = run("examples/organisation/acme", true, None);
    assert_eq!(code, Some(0));
    let (code, stdout) = run("examples/organisation/acme", false, None);
    assert_eq!(code, Some(3));
    assert!(
        stdout.contains("credentials.sco-seed: is missing"),
        "{stdout}"
    );

    let stage = "tests/fixtures/organisation/08-token-validation-all-ready";
    let environment = std::fs::read_to_string(root().join(stage).join("environment.yaml"))
        .unwrap()
        .lines()
        .filter(|l| !l.contains("kcpAudience"))
        .collect::<Vec<_>>()
        .join("\n");
    let path = std::env::temp_dir().join(format!("sco-env-{}.yaml", std::process::id()));
    std::fs::write(&path, environment).unwrap();
    let (code, stdout) = run(stage, true, Some(&path));
    std::fs::remove_file(&path).ok();
    assert_eq!(code, Some(3));
    assert!(stdout.contains("tokenValidation.kcpAudience"), "{stdout}");
}

#[test]
fn org_admins_may_enter_the_organisation_workspace_and_create_projects() {
    // Regression (issue 13, point 4): nothing bound the realm's org-admins group in KCP.
    let out = run("03-all-ready");
    let inner = |name: &str| {
        let object = out.manifest(name);
        assert_eq!(
            object["spec"]["providerConfigRef"],
            json!({"name": "kcp-acme"})
        );
        object["spec"]["forProvider"]["manifest"].clone()
    };
    let group = json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oidc:org-admins"}]);
    let access = inner("admins-workspace-access");
    assert_eq!(access["roleRef"]["name"], "system:kcp:workspace:access");
    assert_eq!(access["subjects"], group);
    let role = inner("project-creator-role");
    assert_eq!(role["metadata"]["name"], "sco-project-creator");
    assert_eq!(role["rules"][0]["resources"], json!(["workspaces"]));
    assert!(
        role["rules"][0]["verbs"]
            .as_array()
            .unwrap()
            .contains(&json!("create"))
    );
    assert!(
        role["rules"][1]["verbs"]
            .as_array()
            .unwrap()
            .contains(&json!("use"))
    );
    let creators = inner("admins-project-creator");
    assert_eq!(creators["roleRef"]["name"], "sco-project-creator");
    assert_eq!(creators["subjects"], group);
    // Before the workspace's provider config exists there is nowhere to put them.
    let out = run("01-nothing-observed");
    assert!(!out.composed.contains_key("admins-workspace-access"));
}

#[test]
fn credential_data_never_shows_in_debug_output() {
    let input = case_input(&stage("01-nothing-observed"));
    let seed = String::from_utf8(input.credentials["sco-seed"]["seed"].clone()).unwrap();
    assert!(!format!("{input:?}").contains(&seed));
}

#[test]
fn token_validation_gives_the_organisation_workspace_its_own_authenticated_type() {
    // Regression (issue 13, point 4): the organisation workspace (type root:universal)
    // accepted no realm token, so org admins could not create projects there.
    let out = run("08-token-validation-all-ready");
    let in_root = |name: &str| {
        let object = out.manifest(name);
        assert_eq!(
            object["spec"]["providerConfigRef"],
            json!({"name": "kcp-root-provider"})
        );
        object["spec"]["forProvider"]["manifest"].clone()
    };
    let auth = in_root("org-auth-config");
    assert_eq!(auth["kind"], "WorkspaceAuthenticationConfiguration");
    assert_eq!(auth["metadata"]["name"], "org-globex");
    let audiences = &auth["spec"]["jwt"][0]["issuer"]["audiences"];
    assert!(
        audiences
            .as_array()
            .unwrap()
            .contains(&json!("https://kcp.cloud.example.com")),
        "{audiences}"
    );
    let ty = in_root("org-workspace-type");
    assert_eq!(ty["metadata"]["name"], "org-globex");
    assert_eq!(
        ty["spec"]["authenticationConfigurations"],
        json!([{"name": "org-globex"}])
    );
    assert_eq!(
        ty["spec"]["extend"]["with"],
        json!([{"name": "universal", "path": "root"}])
    );
    let workspace = &out.manifest("workspace")["spec"]["forProvider"]["manifest"];
    assert_eq!(
        workspace["spec"]["type"],
        json!({"name": "org-globex", "path": "root"})
    );
    assert_eq!(out.status["tokenValidationReady"], true);
    assert!(out.warnings().is_empty(), "{:#?}", out.warnings());
    // kcp resolves the type while the workspace exists, and authenticates by its
    // configuration: deleted in that order.
    let refs = |usage: &str| {
        let spec = &out.manifest(usage)["spec"];
        (
            spec["of"]["resourceRef"]["name"]
                .as_str()
                .unwrap()
                .to_owned(),
            spec["by"]["resourceRef"]["name"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    };
    let object = |composed: &str| {
        out.manifest(composed)["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        refs("usage-org-workspace-type-by-workspace"),
        (object("org-workspace-type"), object("workspace"))
    );
    assert_eq!(
        refs("usage-org-auth-config-by-org-workspace-type"),
        (object("org-auth-config"), object("org-workspace-type"))
    );

    // A workspace created universal, before token validation was on: spec.type is immutable,
    // so it stays, and kcp does not trust the realm in it; the XR says so.
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    let observed = observed_mut(&mut input, "workspace");
    for at in [
        "/spec/forProvider/manifest/spec/type",
        "/status/atProvider/manifest/spec/type",
    ] {
        if let Some(ty) = observed.pointer_mut(at) {
            *ty = json!({"name": "universal", "path": "root"});
        }
    }
    let out = render_input(&input);
    let workspace = &out.manifest("workspace")["spec"]["forProvider"]["manifest"];
    assert_eq!(
        workspace["spec"]["type"],
        json!({"name": "universal", "path": "root"})
    );
    assert_eq!(out.status["tokenValidationReady"], false);
    assert!(
        out.warnings()
            .iter()
            .any(|w| w.contains("the realm's tokens are not accepted in it")),
        "{:#?}",
        out.warnings()
    );

    // Token validation switched off: the workspace keeps its type, so the type stays, bare.
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    sco_environment(&mut input)["sco"]["tokenValidation"]["enabled"] = json!(false);
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    // The workspace type composed as `composed`, named `name`, without its configuration
    // (composed as `config`).
    let bare = |composed: &str, name: &str, config: &str| {
        let ty = &out.manifest(composed)["spec"]["forProvider"]["manifest"];
        assert_eq!(ty["metadata"]["name"], name);
        assert!(
            ty["spec"].get("authenticationConfigurations").is_none(),
            "{ty}"
        );
        assert!(!out.composed.contains_key(config));
    };
    bare("org-workspace-type", "org-globex", "org-auth-config");
    assert!(out.status.get("tokenValidationReady").is_none());
    // So does the projects' type: their workspaces keep it, and kcp refuses a workspace
    // created inside one whose type it cannot resolve. Only the realm's trust goes.
    bare("project-workspace-type", "project", "auth-config");
    assert!(out.status.get("projectWorkspaceType").is_none());
    assert!(
        out.composed
            .contains_key("usage-provider-config-by-project-workspace-type")
    );

    // A new organisation workspace gets the organisation's type.
    let mut input = case_input(&stage("08-token-validation-all-ready"));
    input.observed.retain(|o| composed_name(o) != "workspace");
    let out = render_input(&input);
    let workspace = &out.manifest("workspace")["spec"]["forProvider"]["manifest"];
    assert_eq!(
        workspace["spec"]["type"],
        json!({"name": "org-globex", "path": "root"})
    );
}

/// The all-ready stage with `annotation` taken off the observed composed resources `names`.
fn without_annotation(names: &[&str], annotation: &str) -> Outcome {
    let mut input = case_input(&stage("03-all-ready"));
    for observed in &mut input.observed {
        let name = composed_name(observed).to_owned();
        if names.contains(&name.as_str()) {
            let annotations = observed["metadata"]["annotations"].as_object_mut().unwrap();
            assert!(
                annotations.remove(annotation).is_some(),
                "{name} has {annotation}"
            );
        }
    }
    render_input(&input)
}

fn policies(out: &Outcome, name: &str) -> Value {
    out.manifest(name)["spec"]["managementPolicies"].clone()
}

#[test]
fn a_realm_provider_keycloak_found_rather_than_created_is_kept_and_warned_about() {
    // provider-keycloak v2 takes over an existing realm of the name (and clients, groups,
    // users by theirs); crossplane-runtime writes external-create-pending only before Create.
    let out = without_annotation(
        &["realm", "console-client", "admin-membership"],
        "crossplane.io/external-create-pending",
    );
    assert_eq!(out.fatal(), None);
    assert_eq!(
        policies(&out, "realm"),
        json!(["Observe", "Create", "Update"])
    );
    assert_eq!(
        policies(&out, "console-client"),
        json!(["Observe", "Create", "Update"])
    );
    // What it created keeps Delete; a membership is a relation, not an object of its own.
    assert_eq!(
        policies(&out, "kubectl-client"),
        json!(["Observe", "Create", "Update", "Delete"])
    );
    assert_eq!(
        policies(&out, "admin-membership"),
        json!(["Observe", "Create", "Update", "Delete"])
    );
    let warnings = out.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "Realm acme-realm (composed resource realm) found its Keycloak object already there"
        ) && w.contains("kept, not deleted")),
        "{warnings:#?}"
    );
    // Still ready: nothing is wrong with the realm.
    assert_eq!(out.composite_ready(), Ready::True);

    // The created ones, as the fixture has them: nothing changes, no warning.
    let created = run("03-all-ready");
    assert_eq!(
        policies(&created, "realm"),
        json!(["Observe", "Create", "Update", "Delete"])
    );
    assert!(created.warnings().is_empty());
}

#[test]
fn the_first_admin_found_rather_than_created_is_kept() {
    let out = without_annotation(&["admin-user"], "crossplane.io/external-create-pending");
    assert_eq!(policies(&out, "admin-user"), json!(["Observe", "Create"]));
    // Their password is their own: the initial one was never set.
    assert!(
        out.status.get("adminInitialPassword").is_none(),
        "{}",
        out.status
    );
    assert!(
        out.warnings().iter().any(
            |w| w.contains("already existed in the realm, so the initial password was not set")
        ),
        "{:#?}",
        out.warnings()
    );
    // The succeeded annotation alone says nothing: crossplane-runtime sets pending first.
    let out = without_annotation(&["admin-user"], "crossplane.io/external-create-succeeded");
    assert_eq!(
        policies(&out, "admin-user"),
        json!(["Observe", "Create", "Delete"])
    );
    assert!(out.warnings().is_empty());
}

#[test]
fn realms_get_a_password_policy_and_brute_force_detection_unless_the_platform_says_none() {
    // The Terraform provider switches brute-force detection off without the block, and undoes
    // a password policy set by hand: both are the platform's settings.
    let out = run("03-all-ready");
    let realm = &out.manifest("realm")["spec"]["forProvider"];
    assert_eq!(
        realm["passwordPolicy"],
        "length(12) and notUsername and notEmail"
    );
    assert_eq!(
        realm["securityDefenses"],
        json!([{"bruteForceDetection": [{
            "maxLoginFailures": 30, "waitIncrementSeconds": 60,
            "quickLoginCheckMilliSeconds": 1000, "minimumQuickLoginWaitSeconds": 60,
            "maxFailureWaitSeconds": 900, "failureResetTimeSeconds": 43200,
        }]}])
    );
    let mut input = case_input(&stage("03-all-ready"));
    sco_environment(&mut input)["sco"]["keycloak"]["passwordPolicy"] = json!("");
    sco_environment(&mut input)["sco"]["keycloak"]["bruteForceDetection"] =
        json!({"enabled": false});
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    let realm = &out.manifest("realm")["spec"]["forProvider"];
    assert!(realm.get("passwordPolicy").is_none(), "{realm}");
    assert!(realm.get("securityDefenses").is_none(), "{realm}");
}

#[test]
fn realms_get_the_platforms_themes_and_none_by_default() {
    // A theme the Terraform provider is not given is never sent, and Keycloak keeps a theme it
    // is not sent: one set by hand would turn every poll into an update. So themes are settings.
    let realm = |out: &Outcome| out.manifest("realm")["spec"]["forProvider"].clone();
    let out = run("03-all-ready");
    for key in ["loginTheme", "accountTheme", "emailTheme"] {
        assert!(realm(&out).get(key).is_none(), "{key}");
    }
    let mut input = case_input(&stage("03-all-ready"));
    sco_environment(&mut input)["sco"]["keycloak"]["themes"] =
        json!({"login": "acme-brand", "email": "acme-mail"});
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    let realm = realm(&out);
    assert_eq!(realm["loginTheme"], "acme-brand");
    assert_eq!(realm["emailTheme"], "acme-mail");
    assert!(realm.get("accountTheme").is_none(), "{realm}");
    support::schema::assert_valid(out.manifest("realm"));
}

#[test]
fn an_smtp_server_keycloak_could_not_send_through_is_an_invalid_platform_config() {
    // Keycloak checks the sender only when it sends, and the first login of a user who must
    // verify their address waits for that mail.
    for (smtp, key) in [
        (
            json!({"host": "smtp.example.com", "from": "not-an-address"}),
            "keycloak.smtp.from",
        ),
        (
            json!({"host": "", "from": "sso@example.com"}),
            "keycloak.smtp.host",
        ),
        (
            json!({"host": "smtp.example.com", "port": 0, "from": "sso@example.com"}),
            "keycloak.smtp.port",
        ),
    ] {
        let mut input = case_input(&stage("03-all-ready"));
        sco_environment(&mut input)["sco"]["keycloak"]["smtp"] = smtp.clone();
        let out = render_input(&input);
        let message = out.fatal().unwrap_or_else(|| panic!("{smtp}: no Fatal"));
        assert!(message.contains(key), "{key}: {message}");
        assert_eq!(out.condition("Valid").1, "InvalidPlatformConfig");
    }
    let mut input = case_input(&stage("03-all-ready"));
    sco_environment(&mut input)["sco"]["keycloak"]["smtp"] = json!({"host": "smtp.example.com", "port": 587, "from": "sso@example.com", "starttls": true});
    assert_eq!(render_input(&input).fatal(), None);
}
