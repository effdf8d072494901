//! Tests of the strict schema validator in `tests/support/schema.rs`: it accepts real manifests
//! of every family we emit and rejects each kind of mistake, also inside a provider-kubernetes
//! `Object`.

mod support;

use serde_json::{Value, json};
use support::schema::{
    assert_valid, index_problems, indexed_kinds, load, validate, validate_against,
};

/// The errors of a manifest that must be invalid.
fn errors(manifest: &Value) -> Vec<String> {
    validate(manifest).expect_err("the manifest should be invalid")
}

/// Asserts some error starts with `prefix` (a path and message) and names `subject`.
fn assert_error(errors: &[String], prefix: &str, subject: &str) {
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(prefix) && e.ends_with(&format!("({subject})"))),
        "no error `{prefix}…({subject})` in:\n  {}",
        errors.join("\n  ")
    );
}

/// Asserts each manifest is rejected with an error starting with its prefix, for its subject.
fn assert_rejected(cases: &[(Value, &str, &str)]) {
    for (manifest, prefix, subject) in cases {
        assert_error(&errors(manifest), prefix, subject);
    }
}

const SECRET: &str = "v1 Secret";
const SERVICE: &str = "v1 Service";
const VM: &str = "kubevirt.io/v1 VirtualMachine";
const WORKSPACE: &str = "tenancy.kcp.io/v1alpha1 Workspace";
const OBJECT: &str = "kubernetes.m.crossplane.io/v1alpha1 Object";
const REALM: &str = "realm.keycloak.crossplane.io/v1alpha1 Realm";
const TENANT: &str = "tenantoperator.stakater.com/v1beta3 Tenant";

/// The path of a KubeVirt VM's first interface.
const INTERFACE: &str = "/spec/template/spec/domain/devices/interfaces/0";

fn secret() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "acme-db.credentials",
            "namespace": "acme",
            "labels": {"app.kubernetes.io/name": "db", "sco.stakater.com/org": "acme", "empty": ""},
            "annotations": {"example.com/note": "any text: at all"},
        },
        "type": "Opaque",
        "data": {"password": "c2VjcmV0"},
        "stringData": {"user": "admin"},
    })
}

fn service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "vm-ssh", "namespace": "acme"},
        "spec": {
            "type": "ClusterIP",
            "selector": {"kubevirt.io/domain": "vm-1"},
            "ports": [
                {"name": "ssh", "port": 22, "protocol": "TCP", "targetPort": 22},
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
            ],
        },
    })
}

fn virtual_machine() -> Value {
    json!({
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": "vm-1", "namespace": "acme"},
        "spec": {
            "runStrategy": "Always",
            "instancetype": {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium"},
            "dataVolumeTemplates": [{
                "metadata": {"name": "vm-1-root"},
                "spec": {
                    "sourceRef": {"kind": "DataSource", "name": "rhel9", "namespace": "openshift-virtualization-os-images"},
                    "storage": {"resources": {"requests": {"storage": "30Gi"}}},
                },
            }],
            "template": {
                "metadata": {"labels": {"kubevirt.io/domain": "vm-1"}},
                "spec": {
                    "domain": {
                        "devices": {
                            "disks": [{"name": "root", "disk": {"bus": "virtio"}}],
                            "interfaces": [{"name": "default", "masquerade": {}}],
                        },
                        "resources": {"requests": {"memory": "2Gi", "cpu": 1}},
                    },
                    "networks": [{"name": "default", "pod": {}}],
                    "volumes": [{"name": "root", "dataVolume": {"name": "vm-1-root"}}],
                },
            },
        },
    })
}

fn workspace() -> Value {
    json!({
        "apiVersion": "tenancy.kcp.io/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "acme", "labels": {"sco.stakater.com/org": "acme"}},
        "spec": {"type": {"name": "organization", "path": "root"}},
    })
}

/// A namespaced provider-kubernetes Object wrapping `manifest`.
fn object(manifest: Value) -> Value {
    json!({
        "apiVersion": "kubernetes.m.crossplane.io/v1alpha1",
        "kind": "Object",
        "metadata": {"name": "acme-workspace", "namespace": "acme"},
        "spec": {
            "forProvider": {"manifest": manifest},
            "providerConfigRef": {"kind": "ClusterProviderConfig", "name": "kcp"},
        },
    })
}

fn realm() -> Value {
    json!({
        "apiVersion": "realm.keycloak.crossplane.io/v1alpha1",
        "kind": "Realm",
        "metadata": {"name": "acme"},
        "spec": {
            "forProvider": {"realm": "acme", "displayName": "Acme", "enabled": true},
            "providerConfigRef": {"name": "keycloak"},
        },
    })
}

fn tenant() -> Value {
    json!({
        "apiVersion": "tenantoperator.stakater.com/v1beta3",
        "kind": "Tenant",
        "metadata": {"name": "acme-web"},
        "spec": {
            "quota": "small",
            "accessControl": {"owners": {"users": ["alice@acme.example"]}},
            "namespaces": {"withTenantPrefix": ["dev", "prod"]},
        },
    })
}

/// Sets the value at a JSON pointer (the parent must exist).
fn with(mut manifest: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = manifest
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("the parent exists");
    parent.insert(key.replace("~1", "/").replace("~0", "~"), value);
    manifest
}

/// Removes the value at a JSON pointer.
fn without(mut manifest: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    manifest
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("the parent exists")
        .remove(key)
        .expect("the field exists");
    manifest
}

#[test]
fn every_schema_file_is_indexed_and_compiles() {
    assert_eq!(index_problems(), &[] as &[String]);
    let kinds = indexed_kinds();
    for expected in [
        ("v1", "Secret"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("kubevirt.io/v1", "VirtualMachine"),
        ("kubevirt.io/v1alpha3", "VirtualMachine"),
        (
            "instancetype.kubevirt.io/v1beta1",
            "VirtualMachineClusterInstancetype",
        ),
        ("tenantoperator.stakater.com/v1beta3", "Tenant"),
        ("tenantoperator.stakater.com/v1beta1", "Quota"),
        ("kubernetes.crossplane.io/v1alpha2", "Object"),
        (
            "apiextensions.crossplane.io/v2",
            "CompositeResourceDefinition",
        ),
        ("meta.pkg.crossplane.io/v1", "Function"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} is not indexed");
    }
    let broken: Vec<String> = kinds
        .iter()
        .filter_map(|(api_version, kind)| load(api_version, kind).err())
        .collect();
    assert_eq!(broken, Vec::<String>::new());
}

#[test]
fn accepts_real_manifests_of_every_family() {
    for manifest in [
        secret(),
        service(),
        virtual_machine(),
        object(workspace()),
        workspace(),
        realm(),
        tenant(),
    ] {
        assert_valid(&manifest);
    }
}

#[test]
fn rejects_a_misspelt_field() {
    assert_rejected(&[
        (
            with(workspace(), "/spec/tpye", json!({"name": "organization"})),
            "/spec/tpye: unknown field",
            WORKSPACE,
        ),
        (
            with(
                virtual_machine(),
                &format!("{INTERFACE}/masquerade/enabled"),
                json!(true),
            ),
            &format!("{INTERFACE}/masquerade/enabled: unknown field"),
            VM,
        ),
        (
            with(secret(), "/strngData", json!({"user": "admin"})),
            "/strngData: unknown field",
            SECRET,
        ),
        (
            with(tenant(), "/metadata/lables", json!({"a": "b"})),
            "/metadata/lables: unknown field",
            TENANT,
        ),
    ]);
}

#[test]
fn rejects_a_wrong_type() {
    assert_rejected(&[
        (
            with(service(), "/spec/ports/0/port", json!("22")),
            "/spec/ports/0/port: expected integer, got string",
            SERVICE,
        ),
        (
            with(realm(), "/spec/forProvider/enabled", json!("yes")),
            "/spec/forProvider/enabled: expected boolean, got string",
            REALM,
        ),
        (
            with(secret(), "/data/password", json!("not base64!")),
            "/data/password: \"not base64!\": must be standard base64",
            SECRET,
        ),
    ]);
}

#[test]
fn rejects_a_missing_required_field() {
    assert_rejected(&[
        (
            without(tenant(), "/spec/quota"),
            "/spec/quota: required field is missing",
            TENANT,
        ),
        (
            without(
                virtual_machine(),
                "/spec/template/spec/domain/devices/disks/0/name",
            ),
            "/spec/template/spec/domain/devices/disks/0/name: required field is missing",
            VM,
        ),
        (without(secret(), "/kind"), "/kind: required", "v1 ?"),
    ]);
}

#[test]
fn rejects_an_unknown_or_unserved_api_version_or_kind() {
    assert_rejected(&[
        (
            with(
                workspace(),
                "/apiVersion",
                json!("tenancy.kcp.dev/v1alpha1"),
            ),
            "/apiVersion: no schema for tenancy.kcp.dev/v1alpha1 Workspace",
            "tenancy.kcp.dev/v1alpha1 Workspace",
        ),
        (
            with(workspace(), "/apiVersion", json!("tenancy.kcp.io/v1")),
            "/apiVersion: tenancy.kcp.io/v1 Workspace is not served; served versions: v1alpha1",
            "tenancy.kcp.io/v1 Workspace",
        ),
        (
            with(secret(), "/kind", json!("Secrets")),
            "/apiVersion: no schema for v1 Secrets",
            "v1 Secrets",
        ),
        // A core kind without a core JSON schema here.
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
            "/apiVersion: no schema for apps/v1 Deployment",
            "apps/v1 Deployment",
        ),
    ]);
}

#[test]
fn rejects_bad_metadata() {
    let bad_keys = with(secret(), "/metadata/labels/Example.com~1team", json!("web"));
    let bad_keys = with(bad_keys, "/metadata/annotations/-note", json!("text"));
    assert_rejected(&[
        (
            with(workspace(), "/metadata/name", json!("Acme_Corp")),
            "/metadata/name: \"Acme_Corp\": must be a DNS-1123 subdomain",
            WORKSPACE,
        ),
        (
            with(secret(), "/metadata/name", json!("a".repeat(254))),
            "/metadata/name: ",
            SECRET,
        ),
        (
            with(secret(), "/metadata/namespace", json!("acme.corp")),
            "/metadata/namespace: \"acme.corp\": must be a DNS-1123 label",
            SECRET,
        ),
        (
            with(
                secret(),
                "/metadata/labels/app.kubernetes.io~1name",
                json!("web team"),
            ),
            "/metadata/labels/app.kubernetes.io~1name: \"web team\": must be empty or at most 63",
            SECRET,
        ),
        (
            with(secret(), "/metadata/labels/team", json!("a".repeat(64))),
            "/metadata/labels/team: ",
            SECRET,
        ),
        (
            bad_keys.clone(),
            "/metadata/labels: key \"Example.com/team\": must be a qualified name",
            SECRET,
        ),
        (
            bad_keys,
            "/metadata/annotations: key \"-note\": must be a qualified name",
            SECRET,
        ),
        (
            with(secret(), "/metadata/labels/replicas", json!(3)),
            "/metadata/labels/replicas: expected string, got integer",
            SECRET,
        ),
        (
            with(virtual_machine(), "/metadata/label", json!({})),
            "/metadata/label: unknown field",
            VM,
        ),
        // The Workspace CRD's own metadata rule (a name of at most 63) holds besides ObjectMeta's.
        (
            with(workspace(), "/metadata/name", json!("a".repeat(64))),
            "/metadata/name: ",
            WORKSPACE,
        ),
    ]);
}

#[test]
fn rejects_each_mistake_inside_a_wrapped_manifest() {
    let cases = [
        (
            with(workspace(), "/spec/tpye", json!({})),
            "/spec/forProvider/manifest/spec/tpye: unknown field",
        ),
        (
            with(workspace(), "/spec/type/name", json!(7)),
            "/spec/forProvider/manifest/spec/type/name: expected string, got integer",
        ),
        (
            without(workspace(), "/spec/type/name"),
            "/spec/forProvider/manifest/spec/type/name: required field is missing",
        ),
        (
            with(workspace(), "/metadata/name", json!("Acme")),
            "/spec/forProvider/manifest/metadata/name: \"Acme\": must be a DNS-1123 subdomain",
        ),
        (
            with(workspace(), "/metadata/labels/org", json!("acme!")),
            "/spec/forProvider/manifest/metadata/labels/org: \"acme!\"",
        ),
    ];
    for (manifest, expected) in cases {
        let found = errors(&object(manifest));
        assert_error(&found, expected, WORKSPACE);
        // Only that path is wrong, and each error is reported once, for the wrapped manifest.
        let path = expected.split(": ").next().unwrap_or_default();
        assert!(
            found
                .iter()
                .all(|e| e.starts_with(&format!("{path}: "))
                    && e.ends_with(&format!("({WORKSPACE})"))),
            "{found:#?}"
        );
    }
    // The cluster-scoped provider-kubernetes group is recursed into as well.
    let legacy = object(with(secret(), "/metadata/name", json!("Bad")));
    let legacy = with(
        legacy,
        "/apiVersion",
        json!("kubernetes.crossplane.io/v1alpha2"),
    );
    let legacy = with(
        without(legacy, "/metadata/namespace"),
        "/spec/providerConfigRef",
        json!({"name": "in-cluster"}),
    );
    assert_eq!(errors(&legacy).len(), 1, "{:#?}", errors(&legacy));
    assert_rejected(&[
        (
            legacy,
            "/spec/forProvider/manifest/metadata/name: \"Bad\"",
            SECRET,
        ),
        (
            object(with(
                workspace(),
                "/apiVersion",
                json!("tenancy.kcp.io/v1alpha2"),
            )),
            "/spec/forProvider/manifest/apiVersion: tenancy.kcp.io/v1alpha2 Workspace is not served",
            "tenancy.kcp.io/v1alpha2 Workspace",
        ),
        (
            object(without(workspace(), "/kind")),
            "/spec/forProvider/manifest/kind: ",
            OBJECT,
        ),
    ]);
}

#[test]
fn int_or_string_and_nullable_are_handled() {
    // Service targetPort is int-or-string, port an int32; KubeVirt requests are quantities.
    assert_valid(&with(service(), "/spec/ports/0/targetPort", json!("ssh")));
    assert_valid(&with(
        virtual_machine(),
        "/spec/template/spec/domain/resources/requests/cpu",
        json!("500m"),
    ));
    assert_rejected(&[
        (
            with(service(), "/spec/ports/0/targetPort", json!(true)),
            "/spec/ports/0/targetPort: expected integer or string, got boolean",
            SERVICE,
        ),
        (
            with(
                service(),
                "/spec/ports/0/port",
                json!(i64::from(i32::MAX) + 1),
            ),
            "/spec/ports/0/port: 2147483648 is greater than the maximum",
            SERVICE,
        ),
        // The core schemas allow null everywhere; we do not.
        (
            with(secret(), "/type", Value::Null),
            "/type: expected string, got null",
            SECRET,
        ),
    ]);
    // One wrong value, one error (the `anyOf` that restates int-or-string adds none).
    let wrong = with(
        virtual_machine(),
        "/spec/template/spec/domain/resources/requests/memory",
        json!(true),
    );
    assert_eq!(
        errors(&wrong),
        [format!(
            "/spec/template/spec/domain/resources/requests/memory: expected integer or string, got boolean ({VM})"
        )]
    );

    // Velero Backup: defaultVolumesToFsBackup is nullable, storageLocation is not.
    let backup = json!({
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": "acme-daily", "namespace": "openshift-adp"},
        "spec": {"defaultVolumesToFsBackup": null, "includedNamespaces": ["acme"], "storageLocation": "default"},
    });
    assert_valid(&backup);
    assert_rejected(&[(
        with(backup, "/spec/storageLocation", Value::Null),
        "/spec/storageLocation: expected string, got null",
        "velero.io/v1 Backup",
    )]);

    let schema = json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {
            "port": {"x-kubernetes-int-or-string": true},
            "note": {"type": "string", "nullable": true, "enum": ["a", "b"]},
            "count": {"type": "integer", "format": "int32", "minimum": 1, "exclusiveMinimum": true},
        }}},
    });
    let xr = |spec: Value| json!({"apiVersion": "example.org/v1", "kind": "X", "metadata": {"name": "x"}, "spec": spec});
    assert_eq!(
        validate_against(
            &schema,
            &xr(json!({"port": 8080, "note": null, "count": 2}))
        ),
        Ok(())
    );
    assert_eq!(
        validate_against(&schema, &xr(json!({"port": "http", "note": "a"}))),
        Ok(())
    );
    let found = validate_against(
        &schema,
        &xr(json!({"port": 1.5, "note": "c", "count": 1, "extra": 0})),
    )
    .expect_err("invalid");
    for expected in [
        "/spec/port: expected integer or string, got number",
        "/spec/note: ",
        "/spec/count: 1 is less than or equal to the minimum of 1",
        "/spec/extra: unknown field",
    ] {
        assert_error(&found, expected, "example.org/v1 X");
    }
}

#[test]
fn list_maps_and_sets_reject_duplicates() {
    let same_port = with(service(), "/spec/ports/1/port", json!(22));
    assert_valid(&with(
        same_port.clone(),
        "/spec/ports/1/protocol",
        json!("UDP"),
    ));
    let cleanup_twice = json!(["example.com/cleanup", "example.com/cleanup"]);
    assert_valid(&with(
        secret(),
        "/metadata/finalizers",
        json!(["example.com/cleanup", "example.com/audit"]),
    ));
    assert_rejected(&[
        (
            same_port,
            "/spec/ports: duplicate entry with port=22, protocol=\"TCP\"",
            SERVICE,
        ),
        // metadata.finalizers is a set.
        (
            with(secret(), "/metadata/finalizers", cleanup_twice),
            "/metadata/finalizers: ",
            SECRET,
        ),
    ]);
}

#[test]
fn empty_marker_objects_stay_empty() {
    // `masquerade: {}` declares no fields: the API server would prune anything put in it.
    assert_valid(&with(
        virtual_machine(),
        "/spec/template/spec/networks/0/pod",
        json!({"vmNetworkCIDR": "10.0.2.0/24"}),
    ));
    let filled = with(
        virtual_machine(),
        &format!("{INTERFACE}/masquerade"),
        json!({"ports": []}),
    );
    assert_rejected(&[(
        filled,
        &format!("{INTERFACE}/masquerade/ports: unknown field"),
        VM,
    )]);
}

#[test]
fn crossplane_package_and_definition_schemas_validate_our_files() {
    let function = json!({
        "apiVersion": "meta.pkg.crossplane.io/v1",
        "kind": "Function",
        "metadata": {"name": "function-sco", "annotations": {"meta.crossplane.io/maintainer": "Stakater <hello@stakater.com>"}},
        "spec": {"crossplane": {"version": ">=v2.0.0"}, "capabilities": ["composition"]},
    });
    let xrd = json!({
        "apiVersion": "apiextensions.crossplane.io/v2",
        "kind": "CompositeResourceDefinition",
        "metadata": {"name": "virtualmachines.sco.stakater.com"},
        "spec": {
            "group": "sco.stakater.com",
            "names": {"kind": "VirtualMachine", "plural": "virtualmachines"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1alpha1",
                "served": true,
                "referenceable": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}}}},
            }],
        },
    });
    assert_valid(&function);
    assert_valid(&xrd);
    assert_rejected(&[
        (
            with(function, "/spec/crossplane/versoin", json!("v2")),
            "/spec/crossplane/versoin: unknown field",
            "meta.pkg.crossplane.io/v1 Function",
        ),
        (
            without(xrd.clone(), "/spec/versions/0/referenceable"),
            "/spec/versions/0/referenceable: required field is missing",
            "apiextensions.crossplane.io/v2 CompositeResourceDefinition",
        ),
    ]);

    // An XR against its XRD's schema: apiVersion, kind and metadata are implied at the root.
    let schema = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let xr = json!({"apiVersion": "sco.stakater.com/v1alpha1", "kind": "VirtualMachine", "metadata": {"name": "vm-1", "namespace": "acme"}, "spec": {}});
    assert_eq!(validate_against(schema, &xr), Ok(()));
    let bad = with(
        with(xr, "/spec/size", json!("small")),
        "/metadata/name",
        json!("VM 1"),
    );
    let found = validate_against(schema, &bad).expect_err("invalid");
    assert_error(
        &found,
        "/spec/size: unknown field",
        "sco.stakater.com/v1alpha1 VirtualMachine",
    );
    assert_error(
        &found,
        "/metadata/name: \"VM 1\"",
        "sco.stakater.com/v1alpha1 VirtualMachine",
    );
}

#[test]
fn errors_are_sorted_and_deterministic() {
    let bad = with(
        with(
            with(service(), "/spec/zzz", json!(1)),
            "/spec/aaa",
            json!(1),
        ),
        "/metadata/name",
        json!("Bad"),
    );
    let first = errors(&bad);
    assert_eq!(first, errors(&bad));
    let mut sorted = first.clone();
    sorted.sort();
    assert_eq!(first, sorted);
    assert_eq!(first.len(), 3, "{first:#?}");
}

#[test]
fn odd_schemas_and_manifests_are_errors_not_panics() {
    let odd = json!({"type": "object", "properties": {"a": true, "b": "not a schema", "c": {"items": 3}}, "required": "a"});
    let found = validate_against(&odd, &json!({"apiVersion": "example.org/v1", "kind": "X"}))
        .expect_err("does not compile");
    assert_error(&found, "/: the schema does not compile", "example.org/v1 X");
    for manifest in [
        json!("a string"),
        json!(null),
        json!([]),
        json!({"apiVersion": 1, "kind": ["Secret"]}),
    ] {
        assert_error(&errors(&manifest), "/apiVersion: required", "? ?");
    }
    // An Object whose manifest is not an object: the Object's own schema says so.
    assert_rejected(&[(
        object(json!("v1 Secret")),
        "/spec/forProvider/manifest: expected object, got string",
        OBJECT,
    )]);
}
