//! Unit tests of the Project's pieces: settings checks, roles, names and the XRD. The
//! stage-by-stage walk and every bad-input rule are in `tests/project.rs`.

use serde_json::json;

use super::*;

fn settings(value: serde_json::Value) -> Result<Settings, String> {
    pbstruct::from_ref::<Settings>(&value).map_err(|e| format!("{}: {}", e.path, e.message))
}

#[test]
fn the_defaults_are_the_issues() {
    let s = Settings::default();
    let apis: Vec<(&str, &str, &str)> = s
        .published_apis
        .0
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.export.name.as_str(),
                a.namespace_suffix.as_str(),
            )
        })
        .collect();
    assert_eq!(
        apis,
        [
            ("VirtualMachine", "compute.cloud.stakater.com", "vms"),
            (
                "OpenShiftCluster",
                "kubernetes.cloud.stakater.com",
                "clusters"
            )
        ]
    );
    assert_eq!(s.longest_suffix(), 8);
    assert_eq!(s.quota_profiles["large"].hard["limits.memory"], "64Gi");
    assert_eq!(s.quota_profiles["small"].hard["requests.cpu"], "4");
    let round_trip = settings(serde_json::to_value(&s).unwrap()).unwrap();
    assert_eq!(round_trip, s);
}

#[test]
fn a_quota_profile_no_project_could_choose_is_refused() {
    let profile = json!({"hard": {"requests.cpu": "2"}});
    let err = settings(json!({"quotaProfiles": {"Gold_1": profile}})).unwrap_err();
    assert!(
        err.contains("\"Gold_1\" is not a DNS label") && err.contains("could never be chosen"),
        "{err}"
    );
    assert!(settings(json!({"quotaProfiles": {"gold-1": profile}})).is_ok());
}

#[test]
fn malformed_published_apis_are_refused() {
    let api = |path: &str, name: &str, suffix: &str| json!({"name": "X", "export": {"path": path, "name": name}, "namespaceSuffix": suffix});
    for (apis, why) in [
        (
            json!([api("root", "Compute", "vms")]),
            "not an APIExport name",
        ),
        (
            json!([api("root::a", "compute.x", "vms")]),
            "not an absolute workspace path",
        ),
        (json!([api("root", "compute.x", "VMs")]), "namespaceSuffix"),
        (
            json!([api("root", "compute.x", &"a".repeat(21))]),
            "longer than 20",
        ),
        (
            json!([api("root", "a.x", "vms"), api("root", "b.x", "vms")]),
            "twice",
        ),
    ] {
        let err = settings(json!({"publishedApis": apis})).unwrap_err();
        assert!(err.contains(why), "{why}: {err}");
    }
    let err = settings(json!({"clusterNetworks": ["10.0.0.1/8"]})).unwrap_err();
    assert!(err.contains("host bits"), "{err}");
}

#[test]
fn roles_and_their_synonym() {
    assert_eq!(Role::parse("cluster-admin"), Some(Role::Admin));
    assert_eq!(Role::parse("admin"), Some(Role::Admin));
    assert_eq!(Role::parse("view"), Some(Role::View));
    assert_eq!(Role::parse("owner"), None);
}

#[test]
fn user_and_group_names() {
    assert!(check_username("ada@acme.example").is_ok());
    assert!(check_username("Ada").is_err());
    assert!(check_username("system:admin").is_err());
    assert!(check_group("Platform Leads").is_ok());
    assert!(check_group("a/b").is_err());
    assert!(check_group(" padded").is_err());
    assert!(check_group("").is_err());
    // 255 characters, as the XRD's maxLength and Keycloak's column count them, not bytes.
    assert!(check_group(&"ü".repeat(255)).is_ok());
    assert!(check_group(&"g".repeat(255)).is_ok());
    assert!(check_group(&"g".repeat(256)).is_err());
}

#[test]
fn names_do_not_clash_across_organisations() {
    assert_ne!(
        names::object("acme", "shop", ""),
        names::object("globex", "shop", "")
    );
    assert_eq!(names::provider_config("acme", "shop"), "kcp-acme-shop");
    assert_eq!(names::namespace("shop", "vms"), "ws-shop-vms");
    let long = "a".repeat(63);
    assert!(names::object(&long, &long, "apibinding-clusters").len() <= 63);
}

#[test]
fn the_xrd_is_a_claimable_legacy_cluster_xrd() {
    let xrd = Project::definition();
    assert_eq!(xrd["apiVersion"], "apiextensions.crossplane.io/v1");
    assert_eq!(xrd["spec"]["scope"], "LegacyCluster");
    assert_eq!(
        xrd["spec"]["claimNames"],
        json!({"kind": "Project", "plural": "projects", "singular": "project", "categories": ["sco"]})
    );
    assert_eq!(
        xrd["metadata"]["name"],
        "xprojects.tenant.cloud.stakater.com"
    );
    let params = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["parameters"];
    assert_eq!(params["properties"]["tenantQuota"]["default"], "small");
    assert!(
        params["x-kubernetes-validations"][0]["rule"]
            .as_str()
            .unwrap()
            .contains("has(oldSelf.network)")
    );
}

#[test]
fn kubelogin_listens_where_the_kubectl_client_may_redirect() {
    let uris = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    // kubelogin's defaults need no flag.
    assert!(
        super::listen_addresses(&uris(&["http://localhost:8000", "http://localhost:18000"]))
            .is_empty()
    );
    assert_eq!(
        super::listen_addresses(&uris(&[
            "http://localhost:9000/",
            "https://elsewhere.example"
        ])),
        ["--listen-address=127.0.0.1:9000"]
    );
    assert!(super::listen_addresses(&[]).is_empty());
    // Loopback IP literals only: kubelogin must put that host in the redirect URL too.
    assert_eq!(
        super::listen_addresses(&uris(&["http://127.0.0.1:8000", "http://127.0.0.1:18000"])),
        [
            "--listen-address=127.0.0.1:8000",
            "--listen-address=127.0.0.1:18000",
            "--oidc-redirect-url-hostname=127.0.0.1"
        ]
    );
    // Both kinds: localhost's, kubelogin's default host.
    assert_eq!(
        super::listen_addresses(&uris(&["http://127.0.0.1:9000", "http://localhost:9001"])),
        ["--listen-address=127.0.0.1:9001"]
    );
}
