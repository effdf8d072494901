//! The Project composition walked through its stages (`tests/fixtures/project/`): what is
//! composed at each stage, readiness, conditions and status; the Usages that order deletion,
//! by kind, `of` and `by`; the consumer kubeconfig; and bad input, one rule at a time, which
//! must be a Fatal result naming the field.

mod support;

use std::path::PathBuf;

use function_sco::sdk::proto::v1::{Ready, Status};
use function_sco::sdk::render;
use serde_json::{Value, json};
use support::outcome::Outcome;
use support::{case_input, composed_name, observed_mut, render_case, root};

fn stage(name: &str) -> PathBuf {
    root().join("tests/fixtures/project").join(name)
}

fn run(name: &str) -> Outcome {
    let outcome = Outcome::of(render_case(&stage(name)).1);
    assert_eq!(outcome.fatal(), None, "{name}: unexpected Fatal");
    outcome
}

const ALL_READY: &str = "05-all-ready";

fn decode(data: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

/// Renders `input` through the server's code path.
fn render_input(input: &render::RenderInput) -> Outcome {
    Outcome::of(support::render_input(input))
}

/// Renders stage `name` with `value` set in the XR at `pointer`.
fn render_with_at(name: &str, pointer: &str, value: Value) -> Outcome {
    let mut input = case_input(&stage(name));
    set(&mut input.composite, pointer, value);
    render_input(&input)
}

fn render_with(pointer: &str, value: Value) -> Outcome {
    render_with_at(ALL_READY, pointer, value)
}

/// Sets `pointer` in `doc`, creating the last key.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent} not in the document"));
    match parent {
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        Value::Object(map) => {
            if value.is_null() {
                map.remove(key);
            } else {
                map.insert(key.to_owned(), value);
            }
        }
        _ => panic!("{pointer}: not a container"),
    }
}

/// Asserts a Fatal result naming `path`, saying `fragment`, and that nothing is composed.
fn assert_fatal_names(out: &Outcome, path: &str, fragment: &str) {
    let message = out.fatal().expect("a Fatal result");
    assert!(message.contains(&format!("{path}: ")), "{message}");
    assert!(message.contains(fragment), "{message}");
    let (status, reason, _) = out.condition("Valid");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "InvalidSpec")
    );
    assert!(
        out.composed.is_empty(),
        "nothing is composed from a bad spec"
    );
}

const SERVICE_SIDE: [&str; 3] = ["network", "quota", "tenant"];
/// The view role is granted to a group only: its Keycloak group has no `Memberships`, which
/// would remove whoever is added to it in Keycloak.
const IDENTITY: [&str; 5] = [
    "group-admin",
    "group-edit",
    "group-view",
    "members-admin",
    "members-edit",
];

#[test]
fn nothing_observed_composes_the_workspace_groups_and_tenant_and_waits_for_the_workspace() {
    let out = run("01-nothing-observed");
    for name in ["workspace"].iter().chain(&SERVICE_SIDE).chain(&IDENTITY) {
        assert!(
            out.composed.contains_key(*name),
            "{name} missing: {:?}",
            out.names()
        );
        assert!(!out.ready(name), "{name} is not observed: not ready");
    }
    assert!(
        !out.composed.contains_key("members-view"),
        "a role without users has no Memberships"
    );
    for absent in [
        "kubeconfig",
        "provider-config",
        "apibinding-vms",
        "role-admin",
    ] {
        assert!(
            !out.composed.contains_key(absent),
            "{absent} before the workspace is ready"
        );
    }
    let workspace = out.manifest("workspace");
    assert_eq!(
        workspace["spec"]["providerConfigRef"],
        json!({"name": "kcp-acme"})
    );
    let ws = &workspace["spec"]["forProvider"]["manifest"];
    assert_eq!(ws["kind"], "Workspace");
    assert_eq!(ws["metadata"]["name"], "frontend");
    assert_eq!(
        ws["spec"]["type"],
        json!({"name": "universal", "path": "root"})
    );
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForWorkspace")
    );
    assert_eq!(
        message,
        "KCP workspace root:acme:frontend is not created yet"
    );
    assert!(out.ttl_seconds() <= 10, "a short TTL while waiting");
    assert_eq!(out.status["workspaceReady"], false);
    assert_eq!(out.status["organisation"], "acme");
    assert_eq!(
        out.status["namespaces"],
        json!(["ws-frontend-vms", "ws-frontend-clusters"])
    );
}

#[test]
fn the_tenant_owns_the_namespaces_with_the_labels_and_access() {
    let out = run("01-nothing-observed");
    let tenant = &out.manifest("tenant")["spec"]["forProvider"]["manifest"];
    assert_eq!(tenant["apiVersion"], "tenantoperator.stakater.com/v1beta3");
    assert_eq!(
        tenant["metadata"]["name"], "acme-frontend",
        "cluster-scoped names carry the org"
    );
    assert_eq!(tenant["spec"]["quota"], "acme-frontend");
    let namespaces = &tenant["spec"]["namespaces"];
    assert_eq!(
        namespaces["withoutTenantPrefix"],
        json!(["ws-frontend-vms", "ws-frontend-clusters"])
    );
    assert_eq!(namespaces["onDeletePurgeNamespaces"], true);
    assert_eq!(
        namespaces["metadata"]["common"]["labels"],
        json!({
            "k8s.ovn.org/primary-user-defined-network": "",
            "sco.stakater.com/project": "frontend",
            "stakater.com/org": "acme",
            // MTO's label names the Tenant, as MTO stamps and reads it.
            "stakater.com/tenant": "acme-frontend",
        })
    );
    let access = &tenant["spec"]["accessControl"];
    assert_eq!(access["owners"]["users"], json!(["oidc:ada", "oidc:grace"]));
    assert_eq!(
        access["owners"]["groups"],
        json!(["oidc:frontend-admin", "oidc:platform-leads"])
    );
    assert_eq!(
        access["editors"]["users"],
        json!(["oidc:alan", "oidc:edsger"])
    );
    assert_eq!(
        access["viewers"]["groups"],
        json!(["oidc:auditors", "oidc:frontend-view"])
    );
    let quota = &out.manifest("quota")["spec"]["forProvider"]["manifest"];
    assert_eq!(
        quota["spec"]["resourcequota"]["hard"],
        json!({"limits.cpu": "16", "limits.memory": "32Gi", "requests.cpu": "8", "requests.memory": "16Gi"})
    );
    let network = &out.manifest("network")["spec"]["forProvider"]["manifest"];
    assert_eq!(network["metadata"]["name"], "acme-frontend");
    assert_eq!(
        network["metadata"]["labels"]["sco.stakater.com/network-name"],
        "frontend-net"
    );
    assert_eq!(
        network["spec"],
        json!({
            "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ws-frontend-clusters", "ws-frontend-vms"]}]},
            "network": {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": ["10.200.0.0/16"], "ipam": {"lifecycle": "Persistent"}}},
        })
    );
    let members = &out.manifest("members-edit")["spec"]["forProvider"];
    assert_eq!(members["members"], json!(["alan", "edsger"]));
    assert_eq!(members["realmId"], "acme");
    assert_eq!(
        out.manifest("group-edit")["spec"]["forProvider"]["name"],
        "frontend-edit"
    );
}

#[test]
fn a_ready_workspace_brings_its_provider_config_and_then_bindings_and_rbac() {
    let out = run("02-workspace-ready");
    assert!(out.ready("workspace"));
    assert_eq!(
        out.manifest("provider-config")["metadata"]["name"],
        "kcp-acme-frontend"
    );
    assert_eq!(
        out.manifest("kubeconfig")["metadata"]["namespace"],
        "crossplane-system"
    );
    assert!(
        !out.composed.contains_key("apibinding-vms"),
        "bindings wait for the provider config"
    );
    let (_, reason, _) = out.condition("ResourcesReady");
    assert_eq!(reason, "WaitingForProviderConfig");

    let out = run("03-provider-config-ready");
    let first = &out.manifest("apibinding-vms")["spec"]["forProvider"]["manifest"]["spec"];
    assert_eq!(
        first["permissionClaims"],
        serde_json::json!([]),
        "the first binding claims nothing, and says so: {first}"
    );
    assert!(!out.ready("apibinding-vms"));

    // Bound, but the claims the export makes are decided only now: kcp grants none until the
    // binding accepts them, so the bindings are not ready yet and the project says why.
    let out = run("04-bindings-ready");
    for suffix in ["vms", "clusters"] {
        let object = out.manifest(&format!("apibinding-{suffix}"));
        assert_eq!(
            object["spec"]["providerConfigRef"],
            json!({"name": "kcp-acme-frontend"})
        );
        assert!(!out.ready(&format!("apibinding-{suffix}")));
    }
    let (_, reason, message) = out.condition("ResourcesReady");
    assert_eq!(reason, "WaitingForPermissionClaims");
    assert!(
        message.contains("permission claims on events, namespaces"),
        "{message}"
    );
    let binding = &out.manifest("apibinding-vms")["spec"]["forProvider"]["manifest"];
    assert_eq!(binding["apiVersion"], "apis.kcp.io/v1alpha2");
    assert_eq!(
        binding["spec"]["reference"],
        json!({"export": {"path": "root", "name": "compute.cloud.stakater.com"}})
    );
    assert_eq!(
        binding["spec"]["permissionClaims"],
        json!([
            {"group": "", "resource": "events", "identityHash": "", "verbs": ["*"], "selector": {"matchAll": true}, "state": "Accepted"},
            {"group": "", "resource": "namespaces", "identityHash": "", "verbs": ["*"], "selector": {"matchAll": true}, "state": "Accepted"},
            {"group": "core.kcp.io", "resource": "logicalclusters", "identityHash": "", "verbs": ["*"], "selector": {"matchAll": true}, "state": "Accepted"},
        ]),
        "the observed export claims are accepted"
    );
    let admin = &out.manifest("role-admin")["spec"]["forProvider"]["manifest"];
    assert_eq!(admin["metadata"]["name"], "sco-project-admin");
    let groups = admin["rules"][2]["apiGroups"].clone();
    assert_eq!(
        groups,
        json!([
            "compute.cloud.stakater.com",
            "kubernetes.cloud.stakater.com"
        ])
    );
    let access = &out.manifest("binding-access")["spec"]["forProvider"]["manifest"];
    assert_eq!(access["roleRef"]["name"], "system:kcp:workspace:access");
    let subjects: Vec<&str> = access["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for who in [
        "oidc:ada",
        "oidc:grace",
        "oidc:alan",
        "oidc:auditors",
        "oidc:frontend-view",
    ] {
        assert!(subjects.contains(&who), "{who} may enter: {subjects:?}");
    }
    assert_eq!(out.status["workspaceReady"], true);
    // MTO has made the namespaces (the bindings waited for it); the Tenant counts as ready
    // only with its bindings.
    assert_eq!(out.status["tenantReady"], false);
    assert_eq!(out.status["namespacesReady"], true);
    assert_eq!(out.composite_ready(), Ready::False);
}

#[test]
fn a_new_binding_waits_for_mto_to_make_its_namespace_and_an_existing_one_stays() {
    // api-syncagent would create a missing namespace bare, off the project's network for good.
    let deployed = |input: &mut render::RenderInput, namespaces: Value| {
        for object in &mut input.observed {
            if let Some(status) = object.pointer_mut("/status/atProvider/manifest/status")
                && status.get("deployedNamespaces").is_some()
            {
                status["deployedNamespaces"] = namespaces.clone();
            }
        }
    };
    let mut input = case_input(&stage("03-provider-config-ready"));
    deployed(&mut input, json!(["ws-frontend-clusters"]));
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    assert!(out.composed.contains_key("apibinding-clusters"));
    assert!(!out.composed.contains_key("apibinding-vms"));
    let (_, reason, message) = out.condition("ResourcesReady");
    assert_eq!(reason, "WaitingForNamespaces");
    assert!(
        message.contains("waits for MTO to create namespace ws-frontend-vms"),
        "{message}"
    );
    assert!(
        out.composed.contains_key("role-admin"),
        "RBAC does not wait"
    );

    // A binding that exists is kept, whatever MTO reports.
    let mut input = case_input(&stage("04-bindings-ready"));
    deployed(&mut input, json!([]));
    let out = render_input(&input);
    assert!(out.composed.contains_key("apibinding-vms"));
    assert!(out.composed.contains_key("apibinding-clusters"));
}

#[test]
fn unlisted_claims_are_rejected() {
    let mut input = case_input(&stage("04-bindings-ready"));
    for object in &mut input.observed {
        if let Some(claims) =
            object.pointer_mut("/status/atProvider/manifest/status/exportPermissionClaims")
        {
            claims.as_array_mut().unwrap().push(json!({"group": "rbac.authorization.k8s.io", "resource": "clusterrolebindings", "verbs": ["*"]}));
        }
    }
    let out = render_input(&input);
    let claims = out.manifest("apibinding-vms")["spec"]["forProvider"]["manifest"]["spec"]["permissionClaims"].clone();
    let rbac = claims
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "clusterrolebindings")
        .expect("the claim is answered");
    assert_eq!(rbac["state"], "Rejected");
    let warnings = out.warnings();
    assert_eq!(
        warnings.len(),
        2,
        "one warning per binding whose export asks for the claim: {warnings:?}"
    );
    for (warning, export) in warnings.iter().zip([
        "compute.cloud.stakater.com",
        "kubernetes.cloud.stakater.com",
    ]) {
        assert!(
            warning.starts_with(&format!("APIBinding {export}:"))
                && warning.contains("clusterrolebindings.rbac.authorization.k8s.io")
                && warning.contains("project.acceptedClaims"),
            "the warning names the binding, the claim and the setting that accepts it: {warning}"
        );
    }

    // Once KCP holds the rejection (the next reconcile), it is not said again.
    for object in &mut input.observed {
        let Some(manifest) = object.pointer_mut("/status/atProvider/manifest") else {
            continue;
        };
        if manifest.pointer("/status/exportPermissionClaims").is_some() {
            manifest["spec"]["permissionClaims"] = json!([{"group": "rbac.authorization.k8s.io",
                "resource": "clusterrolebindings", "verbs": ["*"], "state": "Rejected",
                "selector": {"matchAll": true}}]);
        }
    }
    let again = render_input(&input);
    assert!(
        again.warnings().is_empty(),
        "a rejection already applied is not warned about on every call: {:?}",
        again.warnings()
    );
}

#[test]
fn everything_observed_ready_makes_the_project_ready() {
    let out = run(ALL_READY);
    for (name, (_, ready)) in &out.composed {
        assert_eq!(*ready, Ready::True, "{name}");
    }
    assert_eq!(out.composite_ready(), Ready::True);
    assert!(out.warnings().is_empty(), "{:?}", out.warnings());
    for flag in [
        "workspaceReady",
        "tenantReady",
        "networksReady",
        "namespacesReady",
        "allResourcesReady",
    ] {
        assert_eq!(out.status[flag], true, "{flag}");
    }
    assert_eq!(out.status["workspace"]["name"], "root:acme:frontend");
    assert_eq!(
        out.status["workspace"]["url"],
        "https://kcp.cloud.example.com/clusters/root:acme:frontend"
    );
}

#[test]
fn the_consumer_kubeconfig_has_no_credential() {
    let out = run(ALL_READY);
    let kubeconfig = decode(
        out.status["workspace"]["kubeconfigBase64"]
            .as_str()
            .unwrap(),
    );
    let parsed: Value = serde_norway::from_str(&kubeconfig).unwrap();
    assert_eq!(
        parsed["clusters"][0]["cluster"]["server"],
        "https://kcp.cloud.example.com/clusters/root:acme:frontend"
    );
    assert!(parsed["clusters"][0]["cluster"]["certificate-authority-data"].is_string());
    let exec = &parsed["users"][0]["user"]["exec"];
    assert_eq!(exec["command"], "kubectl");
    // No extra scope: Keycloak refuses a requested scope the client has no client scope for
    // (invalid_scope), and the Organisation composes none called `groups`: its kubectl client
    // puts the claim in by a mapper. Default redirect URIs: kubelogin's default ports.
    assert_eq!(
        exec["args"],
        json!([
            "oidc-login",
            "get-token",
            "--oidc-issuer-url=https://sso.cloud.example.com/realms/acme",
            "--oidc-client-id=kubectl",
        ])
    );
    assert_eq!(
        parsed["users"][0]["user"].as_object().unwrap().len(),
        1,
        "only exec"
    );
    for secret in [
        "token:",
        "client-key",
        "client-certificate",
        "password",
        "not-a-real-token",
        "auth-provider",
    ] {
        assert!(
            !kubeconfig.contains(secret),
            "{secret} in the consumer kubeconfig"
        );
    }
    let everything = serde_json::to_string(&out.status).unwrap();
    assert!(!everything.contains("not-a-real-token"));
}

#[test]
fn the_consumer_kubeconfig_trusts_the_ca_the_platform_names() {
    let cluster = |source: Value| {
        let mut input = case_input(&stage(ALL_READY));
        setting(&mut input, "/sco/kcp")["consumerCa"] = source;
        let out = render_input(&input);
        assert_eq!(out.fatal(), None);
        let kubeconfig = decode(
            out.status["workspace"]["kubeconfigBase64"]
                .as_str()
                .unwrap(),
        );
        let parsed: Value = serde_norway::from_str(&kubeconfig).unwrap();
        parsed["clusters"][0]["cluster"].clone()
    };
    let admins = cluster(json!({}));
    let from_admin = admins["certificate-authority-data"].as_str().unwrap();

    // A publicly trusted front-proxy: the users' system roots, no CA of the admin's.
    let public = cluster(json!({"source": "SystemRoots"}));
    assert_eq!(
        public,
        json!({"server": "https://kcp.cloud.example.com/clusters/root:acme:frontend"})
    );

    let pem = "-----BEGIN CERTIFICATE-----\nMIIBpublic\n-----END CERTIFICATE-----\n";
    let bundle = cluster(json!({"source": "Bundle", "bundle": pem}));
    let data = bundle["certificate-authority-data"].as_str().unwrap();
    assert_eq!(decode(data), pem);
    assert_ne!(data, from_admin);

    let mut input = case_input(&stage(ALL_READY));
    setting(&mut input, "/sco/kcp")["consumerCa"] = json!({"source": "Bundle"});
    let out = render_input(&input);
    assert!(
        out.fatal()
            .is_some_and(|m| m.contains("kcp.consumerCa.bundle")),
        "{:?}",
        out.fatal()
    );
}

/// `(kind, of, by)` of every Usage composed: kinds and names of the wrapped objects' Objects.
fn usages(out: &Outcome) -> Vec<(String, String, String)> {
    let name_of = |r: &Value| {
        format!(
            "{}/{}",
            r["kind"].as_str().unwrap(),
            r["resourceRef"]["name"].as_str().unwrap()
        )
    };
    let mut all: Vec<_> = out
        .composed
        .values()
        .filter(|(m, _)| m["apiVersion"] == "protection.crossplane.io/v1beta1")
        .map(|(m, _)| {
            let of = name_of(&m["spec"]["of"]);
            // None replays the deletion it blocked (see `Usage::new`).
            assert_eq!(m["spec"]["replayDeletion"], false, "{of}");
            (
                m["kind"].as_str().unwrap().to_owned(),
                of,
                name_of(&m["spec"]["by"]),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn usages_order_deletion_bindings_tenant_workspace_then_provider_configs() {
    let out = run(ALL_READY);
    let all = usages(&out);
    let has = |kind: &str, of: &str, by: &str| {
        assert!(
            all.contains(&(kind.to_owned(), of.to_owned(), by.to_owned())),
            "no {kind} of {of} by {by}: {all:#?}"
        );
    };
    let (obj, cu) = ("Object", "ClusterUsage");
    let o = |n: &str| format!("{obj}/acme-frontend-{n}");
    // 1. the APIBindings go first: the Tenant waits for each.
    has(cu, &o("tenant"), &o("apibinding-vms"));
    has(cu, &o("tenant"), &o("apibinding-clusters"));
    // 2. then the Tenant: its Quota, network and the workspace wait for it.
    has(cu, &o("quota"), &o("tenant"));
    has(cu, &o("network"), &o("tenant"));
    has(cu, &o("workspace"), &o("tenant"));
    // 3. the workspace outlives everything inside it.
    for inside in [
        "apibinding-vms",
        "apibinding-clusters",
        "role-admin",
        "role-edit",
        "role-view",
        "binding-admin",
        "binding-edit",
        "binding-view",
        "binding-access",
    ] {
        has(cu, &o("workspace"), &o(inside));
    }
    // 4. provider configs and Secrets last: the project's ProviderConfig outlives the
    //    workspace, so everything inside it too; no Usage repeats that per object.
    has(cu, "ProviderConfig/kcp-acme-frontend", &o("workspace"));
    let users_of_provider_config: Vec<_> = all
        .iter()
        .filter(|(_, of, _)| of == "ProviderConfig/kcp-acme-frontend")
        .map(|(_, _, by)| by.as_str())
        .collect();
    assert_eq!(users_of_provider_config, [o("workspace")]);
    has(
        "Usage",
        "Secret/kcp-acme-frontend",
        "ProviderConfig/kcp-acme-frontend",
    );
    // The organisation is not torn down under its projects: its ProviderConfig, its
    // workspace (kcp deletes the project workspaces inside) and its realm outlive each.
    has(cu, "ProviderConfig/kcp-acme", &o("workspace"));
    has(cu, "Object/acme-workspace", &o("workspace"));
    has(cu, "Realm/acme-realm", &o("workspace"));
    // Nor deleted whole: the Organisation composite outlives each project workspace, so
    // `kubectl delete organisation acme` is refused while the project exists.
    has(cu, "Organisation/acme", &o("workspace"));
    // Keycloak: each group outlives its memberships (view has none: groups only).
    assert!(!all.iter().any(|(_, _, by)| by.contains("members-view")));
    for role in ["admin", "edit"] {
        has(
            cu,
            &format!("Group/acme-frontend-group-{role}"),
            &format!("Memberships/acme-frontend-members-{role}"),
        );
    }
}

#[test]
fn the_organisation_objects_a_project_holds_are_those_the_organisation_composes() {
    // Project `frontend` of organisation `acme` and the Organisation `acme` example: every
    // Usage `of` an organisation object names one the Organisation renders, in kind and name,
    // or the Organisation composite itself.
    let organisation = Outcome::of(render_case(&root().join("examples/organisation/acme")).1);
    let composed: Vec<(String, String)> = organisation
        .composed
        .values()
        .map(|(m, _)| {
            (
                format!(
                    "{}/{}",
                    m["kind"].as_str().unwrap(),
                    m["metadata"]["name"].as_str().unwrap()
                ),
                m["apiVersion"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut composed = composed;
    let xr = case_input(&root().join("examples/organisation/acme")).composite;
    composed.push((
        format!(
            "{}/{}",
            xr["kind"].as_str().unwrap(),
            xr["metadata"]["name"].as_str().unwrap()
        ),
        xr["apiVersion"].as_str().unwrap().to_owned(),
    ));
    let out = run(ALL_READY);
    let held: Vec<_> = out
        .composed
        .values()
        .filter(|(m, _)| m["apiVersion"] == "protection.crossplane.io/v1beta1")
        .map(|(m, _)| &m["spec"]["of"])
        // The project's own objects are named after it: the rest are the organisation's.
        .filter(|of| {
            !of["resourceRef"]["name"]
                .as_str()
                .unwrap()
                .contains("frontend")
        })
        .collect();
    assert_eq!(held.len(), 4, "{held:?}");
    for of in held {
        let name = format!(
            "{}/{}",
            of["kind"].as_str().unwrap(),
            of["resourceRef"]["name"].as_str().unwrap()
        );
        assert!(
            composed.contains(&(name.clone(), of["apiVersion"].as_str().unwrap().to_owned())),
            "{name} ({}) is not composed by the Organisation: {composed:?}",
            of["apiVersion"]
        );
    }
}

/// The organisation's ProviderConfig among `input`'s required resources.
fn org_provider_config(input: &mut render::RenderInput) -> &mut Value {
    input
        .required
        .iter_mut()
        .find(|r| r["kind"] == "ProviderConfig" && r["metadata"]["name"] == "kcp-acme")
        .expect("kcp-acme among the required resources")
}

/// The `of` of the Usage keeping the Organisation composite, if composed.
fn organisation_usage(out: &Outcome) -> Option<Value> {
    out.composed
        .get("usage-organisation-by-workspace")
        .map(|(m, _)| m["spec"]["of"].clone())
}

#[test]
fn the_organisation_composite_is_named_by_its_provider_configs_controller() {
    // An Organisation XR called `acme-prod` whose organisation is `acme`: the Usage keeps the
    // composite by its own name, which only the controller reference tells.
    let mut input = case_input(&stage(ALL_READY));
    org_provider_config(&mut input)["metadata"]["ownerReferences"] = json!([
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": "1"},
        {"apiVersion": "tenant.cloud.stakater.com/v1", "kind": "Organisation", "name": "acme-prod",
         "uid": "2", "controller": true, "blockOwnerDeletion": true},
    ]);
    input
        .observed
        .retain(|r| r["spec"]["of"]["kind"] != "Organisation");
    let out = render_input(&input);
    assert_eq!(
        organisation_usage(&out),
        Some(json!({
            "apiVersion": "tenant.cloud.stakater.com/v1",
            "kind": "Organisation",
            "resourceRef": {"name": "acme-prod"},
        }))
    );
}

#[test]
fn a_workspace_object_ready_before_kcp_reports_it_ready_is_not_ready() {
    // provider-kubernetes' Ready (its CEL query) and the workspace's own phase must agree.
    let mut input = case_input(&stage("02-workspace-ready"));
    observed_mut(&mut input, "workspace")["status"]["atProvider"]["manifest"]["status"]["phase"] =
        json!("Initializing");
    let out = render_input(&input);
    assert!(!out.ready("workspace"));
    assert_eq!(out.status["workspaceReady"], false);
}

#[test]
fn a_provider_config_controlled_by_another_kind_has_no_organisation_usage() {
    // Only an Organisation composite controlling the ProviderConfig is one to keep.
    let mut input = case_input(&stage("01-nothing-observed"));
    org_provider_config(&mut input)["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "example.org/v1", "kind": "XOnboarding", "name": "acme", "uid": "9",
        "controller": true}]);
    let out = render_input(&input);
    assert_eq!(organisation_usage(&out), None);
    assert!(
        !out.composed
            .contains_key("usage-organisation-realm-by-workspace")
    );
}

#[test]
fn only_the_provider_config_is_kept_when_no_organisation_composed_it() {
    // A ProviderConfig no Organisation controls (an organisation onboarded otherwise): only
    // that ProviderConfig is kept. A Usage of an Organisation's workspace or realm, which do
    // not exist then, would never be Ready and keep the project unready...
    let mut input = case_input(&stage("01-nothing-observed"));
    let metadata = &mut org_provider_config(&mut input)["metadata"];
    metadata.as_object_mut().unwrap().remove("ownerReferences");
    let out = render_input(&input);
    assert!(
        out.composed
            .contains_key("usage-organisation-provider-config-by-workspace")
    );
    for absent in [
        "usage-organisation-realm-by-workspace",
        "usage-organisation-workspace-by-workspace",
    ] {
        assert!(!out.composed.contains_key(absent), "{absent}");
    }
    assert_eq!(organisation_usage(&out), None);
    // ...but one already composed stays as it is, so a call that could not read the
    // controller does not lift the protection.
    let mut input = case_input(&stage(ALL_READY));
    let metadata = &mut org_provider_config(&mut input)["metadata"];
    metadata.as_object_mut().unwrap().remove("ownerReferences");
    let out = render_input(&input);
    assert_eq!(
        organisation_usage(&out).map(|of| of["resourceRef"]["name"].clone()),
        Some(json!("acme"))
    );
    assert!(out.ready("usage-organisation-by-workspace"));
}

#[test]
fn a_missing_organisation_is_waited_for_and_nothing_else_is_composed() {
    let out = run("06-waiting-for-organisation");
    assert!(out.composed.is_empty(), "{:?}", out.names());
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForOrganisation")
    );
    assert!(message.contains("kcp-acme"), "{message}");
}

#[test]
fn the_organisation_comes_from_the_syncagent_annotation() {
    let mut input = case_input(&stage(ALL_READY));
    set(
        &mut input.composite,
        "/spec/parameters/organisation",
        Value::Null,
    );
    input.composite["metadata"]["annotations"] =
        json!({"syncagent.kcp.io/remote-object-workspace-path": "root:acme"});
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    assert_eq!(out.status["organisation"], "acme");

    input.composite["metadata"]["annotations"] =
        json!({"syncagent.kcp.io/remote-object-workspace-path": "root:acme:frontend"});
    let out = render_input(&input);
    assert_fatal_names(
        &out,
        "metadata.annotations[syncagent.kcp.io/remote-object-workspace-path]",
        "is not an organisation workspace",
    );
}

#[test]
fn a_missing_organisation_parameter_is_fatal_and_says_how_to_set_it() {
    let out = render_with("/spec/parameters/organisation", Value::Null);
    assert_fatal_names(
        &out,
        "spec.parameters.organisation",
        "enableWorkspacePaths: true",
    );
}

#[test]
fn an_organisation_other_than_the_synced_workspace_is_fatal() {
    let mut input = case_input(&stage(ALL_READY));
    input.composite["metadata"]["annotations"] =
        json!({"syncagent.kcp.io/remote-object-workspace-path": "root:globex"});
    let out = render_input(&input);
    assert_fatal_names(
        &out,
        "spec.parameters.organisation",
        "is not the organisation the Project was created in",
    );
}

#[test]
fn a_bad_project_name_is_fatal() {
    let out = render_with("/spec/parameters/name", json!("Front_End"));
    assert_fatal_names(&out, "spec.parameters.name", "is not a DNS label");
    let out = render_with("/spec/parameters/name", json!("a".repeat(52)));
    assert_fatal_names(
        &out,
        "spec.parameters.name",
        "must stay within 63 characters",
    );
    let out = render_with("/spec/parameters/name", json!("a".repeat(51)));
    assert_eq!(out.fatal(), None, "ws-<51>-clusters is 63 characters");
}

#[test]
fn a_bad_cidr_is_fatal() {
    let out = render_with("/spec/parameters/network/cidr", json!("10.200.0.1/16"));
    assert_fatal_names(&out, "spec.parameters.network.cidr", "has host bits set");
    let out = render_with("/spec/parameters/network/cidr", json!("10.130.0.0/16"));
    assert_fatal_names(
        &out,
        "spec.parameters.network.cidr",
        "overlaps the cluster's network 10.128.0.0/14",
    );
    let out = render_with("/spec/parameters/network/cidr", json!("172.30.10.0/24"));
    assert_fatal_names(&out, "spec.parameters.network.cidr", "172.30.0.0/16");
    let out = render_with("/spec/parameters/network/cidr", json!("banana"));
    assert_fatal_names(&out, "spec.parameters.network.cidr", "not in CIDR notation");
    // OVN-Kubernetes refuses its own subnets for a user-defined network.
    for (cidr, internal) in [
        ("100.64.0.0/10", "100.64.0.0/16, 100.65.0.0/16"),
        ("100.88.4.0/24", "100.88.0.0/16"),
        ("169.254.0.0/24", "169.254.0.0/17"),
        ("169.254.169.0/24", "169.254.169.0/29"),
        ("fd99::/48", "fd99::/64"),
    ] {
        let out = render_with("/spec/parameters/network/cidr", json!(cidr));
        assert_fatal_names(
            &out,
            "spec.parameters.network.cidr",
            &format!("overlaps OVN-Kubernetes' internal network {internal}"),
        );
    }
}

#[test]
fn a_changed_added_or_removed_network_is_fatal() {
    let out = render_with("/spec/parameters/network/cidr", json!("10.201.0.0/16"));
    assert_fatal_names(
        &out,
        "spec.parameters.network.cidr",
        "cannot change from 10.200.0.0/16 to 10.201.0.0/16",
    );
    let out = render_with("/spec/parameters/network", Value::Null);
    assert_fatal_names(&out, "spec.parameters.network", "cannot be removed");
    let mut input = case_input(&stage(ALL_READY));
    input.observed.retain(|o| composed_name(o) != "network");
    let out = render_input(&input);
    assert_fatal_names(
        &out,
        "spec.parameters.network",
        "cannot be added to an existing project",
    );
}

/// `namespace` in place of the stage's required namespace of the same name.
fn with_namespace(input: &mut render::RenderInput, namespace: Value) {
    let name = namespace["metadata"]["name"].clone();
    input
        .required
        .retain(|r| r["kind"] != "Namespace" || r["metadata"]["name"] != name);
    input.required.push(namespace);
}

#[test]
fn a_name_another_organisation_holds_is_fatal() {
    // Stage `stage_name` rendered with namespace `name` found, labelled `labels`.
    let found = |stage_name: &str, name: &str, labels: Value| {
        let mut input = case_input(&stage(stage_name));
        with_namespace(
            &mut input,
            json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": labels}}),
        );
        render_input(&input)
    };
    // Before this project's Tenant has its namespaces.
    const BEFORE: &str = "02-workspace-ready";
    assert_fatal_names(
        &found(
            BEFORE,
            "ws-frontend-vms",
            json!({"stakater.com/org": "globex"}),
        ),
        "spec.parameters.name",
        "namespace ws-frontend-vms belongs to organisation \"globex\"",
    );
    assert_fatal_names(
        &found(BEFORE, "ws-frontend-clusters", json!({})),
        "spec.parameters.name",
        "is not a project namespace of any organisation",
    );
    assert_eq!(
        found(
            BEFORE,
            "ws-frontend-vms",
            json!({"stakater.com/org": "acme"})
        )
        .fatal(),
        None,
        "its own namespace is fine"
    );
    // Another project of the same organisation whose namespace has this name (projects `a`
    // and `a-b` with suffixes `b-vms` and `vms`): MTO gives a namespace to one Tenant.
    assert_fatal_names(
        &found(
            BEFORE,
            "ws-frontend-vms",
            json!({"stakater.com/org": "acme", "sco.stakater.com/project": "front"}),
        ),
        "spec.parameters.name",
        "namespace ws-frontend-vms belongs to project \"front\" of this organisation",
    );
    // A namespace this project's Tenant reports deployed is its own, labels or not.
    assert_eq!(found(ALL_READY, "ws-frontend-vms", json!({})).fatal(), None);
}

#[test]
fn an_unknown_role_is_fatal() {
    let out = render_with("/spec/parameters/access/2/role", json!("owner"));
    assert_fatal_names(
        &out,
        "spec.parameters.access[2].role",
        "\"owner\" is not a project role",
    );
}

#[test]
fn an_unknown_quota_profile_is_fatal() {
    let out = render_with("/spec/parameters/tenantQuota", json!("huge"));
    assert_fatal_names(
        &out,
        "spec.parameters.tenantQuota",
        "use one of large, medium, small",
    );
}

#[test]
fn bad_user_and_group_names_are_fatal() {
    let out = render_with("/spec/parameters/access/0/users/0", json!("Ada Lovelace"));
    assert_fatal_names(
        &out,
        "spec.parameters.access[0].users[0]",
        "is not a Keycloak username",
    );
    let out = render_with("/spec/parameters/access/3/groups/0", json!("a/b"));
    assert_fatal_names(
        &out,
        "spec.parameters.access[3].groups[0]",
        "is not a Keycloak group name",
    );
    let out = render_with(
        "/spec/parameters/access/3/groups/0",
        json!("system:masters"),
    );
    assert_fatal_names(&out, "spec.parameters.access[3].groups[0]", "reserves");
}

#[test]
fn usernames_are_lower_cased_as_keycloak_stores_them() {
    let out = render_with("/spec/parameters/access/0/users/0", json!("Ada"));
    assert_eq!(out.fatal(), None);
    let subjects = &out.manifest("binding-admin")["spec"]["forProvider"]["manifest"]["subjects"];
    assert!(
        subjects
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "oidc:ada"),
        "{subjects}"
    );
    let out = render_with("/spec/parameters/access/0/users/0", json!("ab"));
    let message = out.fatal().expect("a Fatal result");
    assert!(message.contains("access[0].users[0]"), "{message}");
}

#[test]
fn every_bad_field_is_named_at_once() {
    let mut input = case_input(&stage("01-nothing-observed"));
    set(
        &mut input.composite,
        "/spec/parameters/tenantQuota",
        json!("huge"),
    );
    set(
        &mut input.composite,
        "/spec/parameters/access/2/role",
        json!("owner"),
    );
    set(
        &mut input.composite,
        "/spec/parameters/network/cidr",
        json!("10.128.0.0/16"),
    );
    let out = render_input(&input);
    let message = out.fatal().expect("Fatal");
    for path in [
        "spec.parameters.tenantQuota",
        "spec.parameters.access[2].role",
        "spec.parameters.network.cidr",
    ] {
        assert!(message.contains(path), "{path} in {message}");
    }
}

#[test]
fn a_malformed_published_api_is_an_invalid_platform_config() {
    let mut input = case_input(&stage("01-nothing-observed"));
    let env = setting(&mut input, "/sco/project/publishedApis/0/export");
    *env = json!({"path": "Root::x", "name": "compute.cloud.stakater.com"});
    let out = render_input(&input);
    let message = out.fatal().expect("Fatal");
    assert!(message.contains("export.path"), "{message}");
    let (_, reason, _) = out.condition("Valid");
    assert_eq!(reason, "InvalidPlatformConfig");
}

#[test]
fn a_missing_keycloak_url_is_an_invalid_platform_config() {
    let mut input = case_input(&stage("01-nothing-observed"));
    setting(&mut input, "/sco/keycloak")
        .as_object_mut()
        .unwrap()
        .remove("url");
    let out = render_input(&input);
    let message = out.fatal().expect("Fatal");
    assert!(message.starts_with("platform keycloak.url: "), "{message}");
    let (_, reason, _) = out.condition("Valid");
    assert_eq!(reason, "InvalidPlatformConfig");
    assert!(out.composed.is_empty());
}

#[test]
fn the_network_is_ready_once_ovn_lists_every_project_namespace() {
    // OVN-Kubernetes reports NetworkCreated=True over the namespaces that exist, none before
    // MTO creates them: the network is not ready until both are listed.
    let with_listed = |listed: &str| {
        let mut input = case_input(&stage(ALL_READY));
        observed_mut(&mut input, "network")["status"]["atProvider"]["manifest"]["status"]["conditions"]
            [0]["message"] = json!(format!(
            "NetworkAttachmentDefinition has been created in following namespaces: [{listed}]"
        ));
        render_input(&input)
    };
    let all = with_listed("ws-frontend-vms, ws-frontend-clusters");
    assert!(all.ready("network"));
    assert_eq!(all.status["networksReady"], true);
    for partial in [
        "",
        "ws-frontend-vms",
        "ws-frontend-vms2, ws-frontend-clusters",
    ] {
        let out = with_listed(partial);
        assert!(!out.ready("network"), "{partial}");
        assert_eq!(out.status["networksReady"], false, "{partial}");
        assert_ne!(out.composite_ready(), Ready::True, "{partial}");
    }
}

#[test]
fn a_namespace_created_without_the_network_label_is_named_and_the_network_not_ready() {
    let mut input = case_input(&stage(ALL_READY));
    let namespace = input
        .required
        .iter_mut()
        .find(|r| r["kind"] == "Namespace" && r["metadata"]["name"] == "ws-frontend-clusters")
        .expect("the stage requires the namespace");
    namespace["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("k8s.ovn.org/primary-user-defined-network");
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    let warnings = out.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("namespace ws-frontend-clusters exists without the label k8s.ovn.org/primary-user-defined-network"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("MTO before v1.5.1"), "{}", warnings[0]);
    assert!(!out.ready("network"));
    assert_eq!(out.status["networksReady"], false);
    assert_ne!(out.composite_ready(), Ready::True);
}

#[test]
fn a_moved_export_reaches_new_projects_and_existing_bindings_keep_theirs() {
    // kcp refuses any change of an APIBinding's export reference, so an update that
    // followed the settings would be refused in every existing project.
    let moved = |name: &str| {
        let mut input = case_input(&stage(name));
        let export = setting(&mut input, "/sco/project/publishedApis/0/export");
        export["path"] = json!("root:sco-services");
        let suffix = setting(&mut input, "/sco/project/publishedApis/0/namespaceSuffix").clone();
        let out = render_input(&input);
        assert_eq!(out.fatal(), None);
        let binding = format!("apibinding-{}", suffix.as_str().unwrap());
        out.manifest(&binding)["spec"]["forProvider"]["manifest"]["spec"]["reference"].clone()
    };
    // Stage 04: the bindings exist (observed), so each keeps the export it was created with.
    assert_eq!(moved("04-bindings-ready")["export"]["path"], "root");
    // Stage 03: first rendered now, so it takes the settings' export.
    assert_eq!(
        moved("03-provider-config-ready")["export"]["path"],
        "root:sco-services"
    );
}

#[test]
fn a_platform_publishing_no_api_makes_projects_without_namespaces() {
    let mut input = case_input(&stage(ALL_READY));
    let apis = setting(&mut input, "/sco/project/publishedApis");
    *apis = json!([]);
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    let tenant = out.manifest("tenant");
    let namespaces = &tenant["spec"]["forProvider"]["manifest"]["spec"]["namespaces"];
    assert!(
        namespaces["withoutTenantPrefix"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{namespaces}"
    );
    // Nothing to deploy: ready once created, not when MTO reports an empty list it may omit.
    assert_eq!(
        tenant["spec"]["readiness"],
        json!({"policy": "SuccessfulCreate"})
    );
    assert!(!out.names().iter().any(|n| n.starts_with("apibinding-")));
    assert_eq!(out.status["namespacesReady"], true);
}

#[test]
fn each_namespace_gets_the_quota_that_has_kubevirt_set_limits() {
    // Before MTO has created the namespaces there is nothing to put the marker in.
    let out = run("02-workspace-ready");
    assert!(
        !out.names()
            .iter()
            .any(|n| n.starts_with("kubevirt-limits-")),
        "{:?}",
        out.names()
    );

    // Once they exist: the medium profile's limits (not its requests), in each namespace,
    // on the service cluster, counted towards tenantReady.
    let out = run(ALL_READY);
    for suffix in ["vms", "clusters"] {
        let object = out.manifest(&format!("kubevirt-limits-{suffix}"));
        assert_eq!(
            object["spec"]["providerConfigRef"]["name"],
            "kubernetes-provider"
        );
        assert_eq!(
            object["spec"]["forProvider"]["manifest"],
            json!({
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {
                    "name": "sco-kubevirt-limits",
                    "namespace": format!("ws-frontend-{suffix}"),
                    "labels": object["spec"]["forProvider"]["manifest"]["metadata"]["labels"],
                },
                "spec": {"hard": {"limits.cpu": "16", "limits.memory": "32Gi"}},
            })
        );
    }
    let mut input = case_input(&stage(ALL_READY));
    observed_mut(&mut input, "kubevirt-limits-vms")["status"]["conditions"][0] =
        json!({"type": "Ready", "status": "False", "reason": "Creating"});
    let out = render_input(&input);
    assert!(!out.ready("kubevirt-limits-vms"));
    assert_eq!(out.status["tenantReady"], false);

    // Composed once, kept while Crossplane does not return the namespace (a failed fetch).
    let mut input = case_input(&stage(ALL_READY));
    input.required.retain(|r| r["kind"] != "Namespace");
    let out = render_input(&input);
    assert!(out.names().contains(&"kubevirt-limits-vms"));

    // A profile without limits needs no marker (the platform drops the default's limits with
    // `null`, as OpenShift's docs advise for VMs: a quota on requests only).
    let mut input = case_input(&stage(ALL_READY));
    let hard = setting(&mut input, "/sco/project/quotaProfiles/medium/hard");
    hard["limits.cpu"] = Value::Null;
    hard["limits.memory"] = Value::Null;
    let out = render_input(&input);
    assert_eq!(
        out.manifest("quota")["spec"]["forProvider"]["manifest"]["spec"]["resourcequota"]["hard"],
        json!({"requests.cpu": "8", "requests.memory": "16Gi"})
    );
    assert_eq!(out.fatal(), None);
    assert!(
        !out.names()
            .iter()
            .any(|n| n.starts_with("kubevirt-limits-"))
    );
}

/// The platform setting at `pointer` (`/sco/...`) in the stage's environment.
fn setting<'a>(input: &'a mut render::RenderInput, pointer: &str) -> &'a mut Value {
    input
        .context
        .values_mut()
        .find_map(|v| v.pointer_mut(pointer))
        .unwrap_or_else(|| panic!("{pointer} in the environment"))
}

/// Stage `name` rendered with token validation switched on in the platform settings.
fn with_token_validation(name: &str) -> render::RenderInput {
    let mut input = case_input(&stage(name));
    let sco = setting(&mut input, "/sco/tokenValidation");
    sco["enabled"] = json!(true);
    // KCP refuses realm tokens without its API audience, so the platform must name it.
    sco["kcpAudience"] = json!("https://kcp.cloud.example.com");
    input
}

#[test]
fn with_token_validation_the_workspace_has_the_organisations_type_and_org_admins_are_admins() {
    let out = render_input(&with_token_validation("01-nothing-observed"));
    assert_eq!(out.fatal(), None);
    assert_eq!(
        out.manifest("workspace")["spec"]["forProvider"]["manifest"]["spec"]["type"],
        json!({"name": "project", "path": "root:acme"})
    );
    let out = render_input(&with_token_validation("04-bindings-ready"));
    let admin = &out.manifest("binding-admin")["spec"]["forProvider"]["manifest"];
    assert!(
        admin["subjects"]
            .as_array()
            .unwrap()
            .contains(&json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oidc:org-admins"})),
        "{admin}"
    );
    assert_eq!(
        out.manifest("workspace")["spec"]["forProvider"]["manifest"]["spec"]["type"],
        json!({"name": "universal", "path": "root"}),
        "an existing workspace keeps its observed type: spec.type is immutable"
    );
    let out = run("04-bindings-ready");
    let admin = serde_json::to_string(out.manifest("binding-admin")).unwrap();
    assert!(
        !admin.contains("org-admins"),
        "without token validation the group names no realm"
    );
}

#[test]
fn an_unknown_keycloak_user_is_reported_by_name() {
    let mut input = case_input(&stage(ALL_READY));
    observed_mut(&mut input, "members-edit")["status"]["conditions"] = json!([
        {"type": "Ready", "status": "False", "reason": "Creating"},
        {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": "create failed: user with username edsger does not exist"},
    ]);
    let out = render_input(&input);
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "UnknownMembers")
    );
    assert!(
        message.contains("\"edsger\"") && message.contains("role edit"),
        "{message}"
    );
    assert_eq!(out.status["allResourcesReady"], false);
}

#[test]
fn roles_cover_the_groups_kcp_reports_bound_not_the_exports_name() {
    // An export named otherwise than its group: once bound, kcp names the group in
    // status.boundResources, and the project roles and claim decisions follow it.
    let mut input = case_input(&stage(ALL_READY));
    let status = observed_mut(&mut input, "apibinding-vms")
        .pointer_mut("/status/atProvider/manifest/status")
        .expect("an observed binding status");
    status["boundResources"] = json!([
        {"group": "vms.example.org", "resource": "virtualmachines"},
        {"group": "vms.example.org", "resource": "virtualmachines"},
    ]);
    let out = render_input(&input);
    assert_eq!(out.fatal(), None);
    let admin = &out.manifest("role-admin")["spec"]["forProvider"]["manifest"];
    assert_eq!(
        admin["rules"][2]["apiGroups"],
        json!(["kubernetes.cloud.stakater.com", "vms.example.org"])
    );
}
