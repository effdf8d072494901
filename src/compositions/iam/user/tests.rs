//! Unit tests of the User render: one per rule of validation, the organisation's sources, the
//! creation-only fields and the password Secret. The stages are in `tests/fixtures/user/`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::compositions::secrets::{Credentials, SEED_CREDENTIAL, SEED_KEY};
use crate::compositions::{Desired, Observed};
use crate::config::Config;
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::Name;

fn seed() -> &'static Credentials {
    static SEED: std::sync::OnceLock<Credentials> = std::sync::OnceLock::new();
    SEED.get_or_init(|| {
        Credentials(BTreeMap::from([(
            SEED_CREDENTIAL.to_owned(),
            BTreeMap::from([(SEED_KEY.to_owned(), vec![42; 32])]),
        )]))
    })
}

fn xr(parameters: Value) -> Value {
    json!({
        "apiVersion": "iam.cloud.stakater.com/v1", "kind": "User",
        "metadata": {"name": "grace", "namespace": "acme-iam", "uid": "00000000-0000-4000-8000-000000000002",
                     "annotations": {"syncagent.kcp.io/remote-object-workspace-path": "root:acme"}},
        "spec": {"parameters": parameters},
    })
}

fn grace() -> Value {
    xr(json!({"username": "Grace.Hopper", "email": "Grace@ACME.example"}))
}

fn platform(sco: Value) -> Platform {
    Config::resolve(Some(&sco), None)
        .expect("valid settings")
        .platform
        .clone()
}

struct Run<'a> {
    resources: BTreeMap<Name, ObservedComposed<'a>>,
    required: BTreeMap<String, Vec<Value>>,
    credentials: &'a Credentials,
    platform: Platform,
}

impl Run<'_> {
    fn new() -> Self {
        Self {
            resources: BTreeMap::new(),
            required: realm(),
            credentials: seed(),
            platform: platform(json!({})),
        }
    }

    fn observe(mut self, name: &str, resource: Value) -> Self {
        self.resources.insert(
            Name::from(name),
            ObservedComposed::new(&resource, BTreeMap::new()),
        );
        self
    }

    fn render(&self, composite: &Value) -> Result<Desired, Invalid> {
        let typed: spec::User = pbstruct::from_value(composite.clone()).expect("a valid XR");
        let observed = Observed {
            resources: &self.resources,
            required: &self.required,
            credentials: self.credentials,
        };
        User::render(
            &typed,
            Context {
                observed: &observed,
                platform: &self.platform,
                settings: &Settings::default(),
            },
        )
    }
}

fn with_password() -> Run<'static> {
    Run::new().observe(
        names::INITIAL_PASSWORD,
        json!({"data": {"password": "cGFzc3dvcmQtb2YtZ3JhY2U="}}),
    )
}

/// The organisation's realm, found.
fn realm() -> BTreeMap<String, Vec<Value>> {
    BTreeMap::from([(
        crate::compositions::iam::REALM_REQUIREMENT.to_owned(),
        vec![json!({"metadata": {"name": "acme-realm"}})],
    )])
}

fn manifest(desired: &Desired, name: &str) -> Value {
    desired.resources[&Name::from(name)].manifest.to_json()
}

/// Asserts `result` is an Invalid with an error at `path` whose message contains `fragment`.
fn assert_refused(result: Result<Desired, Invalid>, path: &str, fragment: &str) {
    let err = result.expect_err("refused");
    let found = err.0.iter().find(|e| e.path == path);
    let found = found.unwrap_or_else(|| panic!("no error at {path}: {err}"));
    assert!(
        found.message.contains(fragment),
        "{path}: {}",
        found.message
    );
}

#[test]
fn nothing_observed_composes_only_the_password_secret_and_waits_for_it() {
    let desired = Run::new().render(&grace()).unwrap();
    assert_eq!(
        desired
            .resources
            .keys()
            .map(Name::as_str)
            .collect::<Vec<_>>(),
        [names::INITIAL_PASSWORD]
    );
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForInitialPassword"
    );
    let secret = manifest(&desired, names::INITIAL_PASSWORD);
    assert_eq!(secret["metadata"]["namespace"], "acme-iam");
    assert_eq!(
        secret["metadata"]["name"],
        names::initial_password("acme", "grace.hopper")
    );
    assert_eq!(
        desired.status["user"].get("initialPasswordSecret"),
        None,
        "named only once the Secret exists"
    );
}

#[test]
fn the_user_is_lower_cased_in_the_realm_with_creation_only_fields_in_init_provider() {
    let desired = with_password().render(&grace()).unwrap();
    let user = manifest(&desired, names::USER);
    assert_eq!(user["apiVersion"], "user.keycloak.m.crossplane.io/v1alpha1");
    assert_eq!(user["metadata"]["namespace"], "acme-iam");
    assert_eq!(
        user["spec"]["forProvider"],
        json!({"realmId": "acme", "username": "grace.hopper", "email": "grace@acme.example", "enabled": true})
    );
    assert_eq!(
        user["spec"]["initProvider"],
        json!({"emailVerified": false, "requiredActions": ["UPDATE_PASSWORD"], "initialPassword": [{"temporary": true,
            "valueSecretRef": {"name": names::initial_password("acme", "grace.hopper"), "key": "password"}}]}),
        "without mail no VERIFY_EMAIL (Keycloak could not send it); UPDATE_PASSWORD is named \
         (upjet drops an empty list), so the one Keycloak adds is no difference to update"
    );
    assert_eq!(
        user["spec"]["providerConfigRef"],
        json!({"kind": "ClusterProviderConfig", "name": "keycloak-provider"})
    );
    assert_eq!(
        user["spec"]["managementPolicies"],
        json!(["Observe", "Create", "Update", "Delete", "LateInitialize"]),
        "every policy, late initialisation included: only it keeps the user's federated \
         identity links in forProvider, and the provider's update deletes those not there; \
         spelled out, so that a provider with management policies off refuses the user \
         rather than ignoring its initProvider"
    );
    assert_eq!(desired.status["user"]["username"], "grace.hopper");
    assert_eq!(
        desired.status["user"]["initialPasswordSecret"]["key"],
        "password"
    );
}

#[test]
fn with_mail_an_unverified_user_verifies_at_the_first_login_and_a_verified_one_stays_verified() {
    let mut run = with_password();
    run.platform = platform(
        json!({"keycloak": {"smtp": {"host": "smtp.example.com", "from": "sso@example.com"}}}),
    );
    let desired = run.render(&grace()).unwrap();
    assert_eq!(
        manifest(&desired, names::USER)["spec"]["initProvider"]["requiredActions"],
        json!(["VERIFY_EMAIL", "UPDATE_PASSWORD"])
    );
    let verified = xr(
        json!({"username": "grace", "email": "grace@acme.example", "emailVerified": true, "enabled": false}),
    );
    let user = manifest(&run.render(&verified).unwrap(), names::USER);
    assert_eq!(user["spec"]["forProvider"]["emailVerified"], true);
    assert_eq!(user["spec"]["forProvider"]["enabled"], false);
    assert_eq!(
        user["spec"]["initProvider"]["requiredActions"],
        json!(["UPDATE_PASSWORD"])
    );
    assert_eq!(user["spec"]["initProvider"].get("emailVerified"), None);
}

#[test]
fn a_changed_email_goes_unverified_until_keycloak_has_it_unless_the_xr_says_verified() {
    let observed = |email: &str| {
        json!({
            "spec": {"forProvider": {"email": email, "emailVerified": true}},
            "status": {"atProvider": {"id": "u-1", "email": email, "emailVerified": true}},
        })
    };
    let user = |run: Run<'_>, xr: &Value| manifest(&run.render(xr).unwrap(), names::USER);
    let changing = user(
        Run::new().observe(names::USER, observed("grace@old.example")),
        &grace(),
    );
    assert_eq!(
        changing["spec"]["forProvider"]["email"],
        "grace@acme.example"
    );
    assert_eq!(changing["spec"]["forProvider"]["emailVerified"], false);

    let changed = user(
        Run::new().observe(names::USER, observed("grace@acme.example")),
        &grace(),
    );
    assert_eq!(
        changed["spec"]["forProvider"].get("emailVerified"),
        None,
        "a false kept in forProvider would undo the next verification"
    );

    let verified =
        xr(json!({"username": "grace", "email": "grace@acme.example", "emailVerified": true}));
    let asserted = user(
        Run::new().observe(names::USER, observed("grace@old.example")),
        &verified,
    );
    assert_eq!(asserted["spec"]["forProvider"]["emailVerified"], true);
}

#[test]
fn the_observed_password_is_kept_and_the_user_is_not_dropped_when_the_secret_goes() {
    let desired = with_password().render(&grace()).unwrap();
    assert_eq!(
        manifest(&desired, names::INITIAL_PASSWORD)["data"]["password"],
        "cGFzc3dvcmQtb2YtZ3JhY2U="
    );
    let desired = Run::new()
        .observe(
            names::USER,
            json!({"status": {"atProvider": {"id": "u-1"}}}),
        )
        .render(&grace())
        .unwrap();
    assert!(desired.resources.contains_key(&Name::from(names::USER)));
    assert_eq!(desired.status["user"]["id"], "u-1");
    assert_eq!(desired.status["user"]["created"], true);
}

#[test]
fn a_bad_username_is_refused() {
    for (bad, why) in [
        ("gr", "2 characters"),
        ("grace hopper", "Keycloak refuses ' '"),
        ("grace/hopper", "Keycloak refuses '/'"),
        ("o'hopper", "Keycloak refuses '\\''"),
        ("system:admin", "Keycloak refuses ':'"),
        ("grâce", "not a username the function creates"),
    ] {
        let result =
            Run::new().render(&xr(json!({"username": bad, "email": "grace@acme.example"})));
        assert_refused(result, "spec.parameters.username", why);
    }
}

#[test]
fn a_plus_in_a_username_is_kept() {
    let desired = with_password()
        .render(&xr(
            json!({"username": "grace+ops", "email": "grace@acme.example"}),
        ))
        .expect("valid");
    let user = manifest(&desired, names::USER);
    assert_eq!(user["spec"]["forProvider"]["username"], "grace+ops");
    assert_eq!(desired.status["user"]["username"], "grace+ops");
    assert_eq!(
        manifest(&desired, names::INITIAL_PASSWORD)["metadata"]["name"],
        names::initial_password("acme", "grace+ops")
    );
}

#[test]
fn a_bad_email_is_refused() {
    let result = Run::new().render(&xr(
        json!({"username": "grace", "email": "grace@localhost"}),
    ));
    assert_refused(result, "spec.parameters.email", "is not an email address");
}

#[test]
fn a_name_with_control_characters_is_refused() {
    let result = Run::new().render(&xr(
        json!({"username": "grace", "email": "grace@acme.example", "lastName": "Hop\u{7}per"}),
    ));
    assert_refused(result, "spec.parameters.lastName", "control characters");
}

#[test]
fn without_the_seed_the_credential_is_named() {
    let mut run = Run::new();
    run.credentials = Credentials::none();
    let err = run.render(&grace()).unwrap_err();
    assert_eq!(err.reason(), "MissingCredential");
    assert_refused(
        Err(err),
        "credentials.sco-seed",
        "create secret generic sco-seed",
    );
}

#[test]
fn a_project_workspace_path_is_refused() {
    let mut composite = grace();
    composite["metadata"]["annotations"]["syncagent.kcp.io/remote-object-workspace-path"] =
        json!("root:acme:shop");
    let result = Run::new().render(&composite);
    assert_refused(
        result,
        "metadata.annotations[syncagent.kcp.io/remote-object-workspace-path]",
        "not in a project's",
    );
}

#[test]
fn without_the_annotation_the_namespace_is_required_and_its_label_decides() {
    let mut composite = grace();
    composite["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let desired = Run::new().render(&composite).unwrap();
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForNamespace"
    );
    assert!(desired.resources.is_empty());
    assert!(desired.requirements.contains_key(NAMESPACE));

    let mut run = Run::new();
    run.required.insert(
        NAMESPACE.into(),
        vec![json!({"metadata": {"name": "acme-iam", "labels": {"stakater.com/org": "globex"}}})],
    );
    let desired = run.render(&composite).unwrap();
    assert!(
        desired.requirements.contains_key(NAMESPACE),
        "declared on every call"
    );
    assert_eq!(desired.status["organisation"], "globex");

    run.required.insert(
        NAMESPACE.into(),
        vec![json!({"metadata": {"name": "acme-iam"}})],
    );
    assert_refused(
        run.render(&composite),
        "metadata.namespace",
        "has no label stakater.com/org",
    );
}

#[test]
fn every_bad_field_is_named_at_once() {
    let err = Run::new()
        .render(&xr(
            json!({"username": "a b", "email": "nope", "firstName": "\u{0}"}),
        ))
        .unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.parameters.username",
            "spec.parameters.email",
            "spec.parameters.firstName"
        ]
    );
}

const NAMESPACE: &str = crate::compositions::iam::NAMESPACE_REQUIREMENT;

#[test]
fn nothing_is_composed_until_the_organisations_realm_exists() {
    let mut run = Run::new();
    run.required.clear();
    let desired = run.render(&grace()).unwrap();
    assert!(desired.resources.is_empty());
    let waiting = desired.waiting.as_ref().unwrap();
    assert_eq!(waiting.reason, "WaitingForOrganisation");
    assert!(
        waiting.message.contains("has not fetched"),
        "{}",
        waiting.message
    );
    run.required.insert(
        crate::compositions::iam::REALM_REQUIREMENT.into(),
        Vec::new(),
    );
    let desired = run.render(&grace()).unwrap();
    assert!(desired.resources.is_empty());
    assert!(
        desired
            .waiting
            .unwrap()
            .message
            .contains("onboard the organisation first")
    );
    let kept = run
        .observe(names::USER, json!({}))
        .render(&grace())
        .unwrap();
    assert!(
        kept.resources.contains_key(&Name::from(names::USER)),
        "an existing user is kept while the realm is not seen"
    );
}

#[test]
fn the_first_administrators_username_is_refused() {
    let mut run = Run::new();
    run.required.insert(
        ADMIN_REQUIREMENT.into(),
        vec![json!({"spec": {"forProvider": {"username": "ada@acme.example"}}})],
    );
    let result = run.render(&xr(
        json!({"username": "Ada@ACME.example", "email": "ada@acme.example"}),
    ));
    assert_refused(
        result,
        "spec.parameters.username",
        "the Organisation composition owns",
    );
    assert!(run.render(&grace()).is_ok());
}
