//! What the benchmarks share: the requests they replay.
//!
//! Every example under `examples/` (a directory with `xr.yaml`, read as `function-sco render`
//! reads it) becomes the request Crossplane sends on every reconcile once the requirements
//! are settled, so a new composition is benchmarked as soon as it has examples. Large
//! requests are built in code on top of an example.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use function_sco::function::{Prepared, Sco};
use function_sco::sdk::proto::v1::{Resource, RunFunctionRequest};
use function_sco::sdk::{Runner, render, response};
use prost::Message;
use serde_json::{Value, json};

/// A request to replay.
pub struct Case {
    /// `<composition>/<case>` for examples, a description for built requests.
    pub name: String,
    /// The request.
    pub request: RunFunctionRequest,
}

impl Case {
    /// The composition serving the request.
    pub fn composition(&self) -> &'static str {
        Prepared::of(&self.request).map_or("unknown", |p| p.entry.name)
    }

    /// The request's protobuf encoding, as it arrives on the wire.
    pub fn encoded(&self) -> Vec<u8> {
        self.request.encode_to_vec()
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where benchmarks write their figures (gitignored).
pub fn out_dir() -> PathBuf {
    let dir = root().join("benches/out");
    std::fs::create_dir_all(&dir).expect("benches/out is writable");
    dir
}

/// The runner the server uses, with the server's default TTL.
pub fn runner() -> Runner<Sco> {
    Runner::new(Sco, response::DEFAULT_TTL)
}

/// Every example, as its settled request, sorted by name.
pub fn examples() -> Vec<Case> {
    cases_under(&root().join("examples"))
}

/// Every render case under `base` (`examples/`, `tests/fixtures/`), as its settled request.
pub fn cases_under(base: &Path) -> Vec<Case> {
    render::case_dirs(base)
        .iter()
        .map(|dir| case(base, dir))
        .collect()
}

fn case(base: &Path, dir: &Path) -> Case {
    let input = render::RenderFiles::in_dir(dir)
        .load()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let (request, _) = render::settle(&runner(), &input);
    let name = dir.strip_prefix(base).unwrap_or(dir).display().to_string();
    Case { name, request }
}

/// Per composition, its example with the largest request (the fullest observed state).
pub fn largest_example_per_composition() -> Vec<Case> {
    let mut chosen: Vec<Case> = Vec::new();
    for case in examples() {
        match chosen
            .iter_mut()
            .find(|c| c.composition() == case.composition())
        {
            Some(c) if c.request.encoded_len() < case.request.encoded_len() => *c = case,
            Some(_) => {}
            None => chosen.push(case),
        }
    }
    chosen
}

/// The example of a composition with the largest request.
pub fn example_of(composition: &str) -> Option<Case> {
    largest_example_per_composition()
        .into_iter()
        .find(|c| c.composition() == composition)
}

/// Large requests built on the VirtualMachine example.
pub fn large_cases() -> Vec<Case> {
    let Some(vm) = example_of("VirtualMachine") else {
        return Vec::new();
    };
    let full = full_virtual_machine(vm.request.clone());
    let mut cases = vec![Case {
        name: "vm-64KiB-cloud-init-full-status".into(),
        request: full,
    }];
    for count in [200, 2_000] {
        let request = with_passthrough(vm.request.clone(), count);
        cases.push(Case {
            name: format!("vm-passthrough-{count}"),
            request,
        });
    }
    let request = with_observed_bytes(vm.request.clone(), 300 << 10);
    cases.push(Case {
        name: "vm-observed-300KiB".into(),
        request,
    });
    cases
}

/// A request carrying `count` desired resources from earlier pipeline steps, each a
/// provider-kubernetes Object wrapping a ConfigMap of about 1 KiB. The function passes them
/// through untouched.
pub fn with_passthrough(mut req: RunFunctionRequest, count: usize) -> RunFunctionRequest {
    let desired = req.desired.get_or_insert_with(Default::default);
    for i in 0..count {
        let manifest = earlier_object(i, 8);
        desired
            .resources
            .insert(format!("earlier-step-{i:05}"), resource(&manifest));
    }
    req
}

/// A request whose observed state grows by about `bytes` of other observed composed
/// resources (what other steps of the pipeline composed, each with a status).
pub fn with_observed_bytes(mut req: RunFunctionRequest, bytes: usize) -> RunFunctionRequest {
    let observed = req.observed.get_or_insert_with(Default::default);
    let mut added = 0;
    let mut i = 0;
    while added < bytes {
        let mut object = earlier_object(i, 24);
        object["status"] = json!({
            "atProvider": {"manifest": object["spec"]["forProvider"]["manifest"].clone()},
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-11-20T10:00:00Z"},
                {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-11-20T10:00:00Z"},
            ],
        });
        let resource = resource(&object);
        added += resource.encoded_len();
        observed
            .resources
            .insert(format!("other-step-{i:05}"), resource);
        i += 1;
    }
    req
}

/// Sets `spec.parameters.cloudInit.userData` of the XR to a cloud-config of about `bytes`.
/// It names its user (`user: cloud-user`) as the example's does: the KCL anchor's program
/// predates the login-user rules and always publishes `cloud-user`, so both do the same work.
pub fn with_cloud_init(req: RunFunctionRequest, bytes: usize) -> RunFunctionRequest {
    let mut user_data = String::from(
        "#cloud-config\nuser: cloud-user\npackage_update: true\npackages: [podman, git]\nwrite_files:\n",
    );
    let mut i = 0;
    while user_data.len() < bytes {
        user_data.push_str(&format!(
            "  - path: /etc/app/conf.d/{i:05}.conf\n    permissions: '0644'\n    content: |\n      listen 0.0.0.0:{port}\n      upstream backend-{i} {{ server 10.0.{a}.{b}:8080; }}\n",
            port = 8000 + i % 1000,
            a = i / 250 % 250,
            b = i % 250,
        ));
        i += 1;
    }
    user_data.truncate(bytes);
    with_composite(req, |xr| {
        xr["spec"]["parameters"]["cloudInit"] = json!({"userData": user_data})
    })
}

/// Applies `change` to the observed composite resource.
pub fn with_composite(
    mut req: RunFunctionRequest,
    change: impl FnOnce(&mut Value),
) -> RunFunctionRequest {
    let composite = req
        .observed
        .as_mut()
        .and_then(|o| o.composite.as_mut())
        .expect("an observed composite");
    let mut xr = composite
        .resource
        .as_ref()
        .map(pbstruct::to_json_value)
        .expect("a composite resource");
    change(&mut xr);
    composite.resource = pbstruct::from_json_value(&xr);
    req
}

/// Merges what `patch` returns into each observed composed resource (by name and object).
pub fn with_observed(
    mut req: RunFunctionRequest,
    mut patch: impl FnMut(&str, &Value) -> Option<Value>,
) -> RunFunctionRequest {
    let observed = req.observed.as_mut().expect("observed state");
    for (name, r) in &mut observed.resources {
        let mut object = r
            .resource
            .as_ref()
            .map(pbstruct::to_json_value)
            .unwrap_or_else(|| json!({}));
        if let Some(p) = patch(name, &object) {
            response::merge(&mut object, &p);
            r.resource = pbstruct::from_json_value(&object);
        }
    }
    req
}

/// The largest VirtualMachine request: a 64 KiB cloud-init, and the observed KubeVirt
/// VirtualMachine and Service carrying full status as KubeVirt and a load balancer report it.
pub fn full_virtual_machine(req: RunFunctionRequest) -> RunFunctionRequest {
    let req = with_cloud_init(req, 64 << 10);
    with_observed(req, |_, object| {
        let text = |p: &str| {
            object
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        match (text("/apiVersion"), text("/kind")) {
            ("kubevirt.io/v1", "VirtualMachine") => Some(kubevirt_status()),
            ("v1", "Service") => Some(json!({"status": {"loadBalancer": {"ingress": [
                {"ip": "203.0.113.24", "ipMode": "VIP", "ports": [{"port": 22, "protocol": "TCP"}]},
            ]}}})),
            _ => None,
        }
    })
}

/// A running KubeVirt VM's status as KubeVirt writes it, plus what its instance (VMI)
/// reports (interfaces, guest OS, volumes, topology, migration state), so the observed VM is
/// as large as the two objects; the composition reads only `printableStatus`, `ready` and
/// `created` of it.
fn kubevirt_status() -> Value {
    let condition = |t: &str, status: &str, reason: &str| json!({"type": t, "status": status, "reason": reason, "message": "", "lastProbeTime": null, "lastTransitionTime": "2026-11-20T10:00:00Z"});
    let phases: Vec<Value> = ["Pending", "Scheduling", "Scheduled", "Running"]
        .iter()
        .map(|p| json!({"phase": p, "phaseTransitionTimestamp": "2026-11-20T10:00:00Z"}))
        .collect();
    json!({"status": {
        "created": true,
        "ready": true,
        "printableStatus": "Running",
        "runStrategy": "Always",
        "desiredGeneration": 3,
        "observedGeneration": 3,
        "conditions": [
            condition("Ready", "True", ""),
            condition("LiveMigratable", "False", "DisksNotLiveMigratable"),
            condition("StorageLiveMigratable", "True", ""),
            condition("AgentConnected", "True", ""),
            condition("DataVolumesReady", "True", "AllDVsReady"),
            condition("Initialized", "True", ""),
            condition("Provisioning", "False", ""),
        ],
        "volumeSnapshotStatuses": [
            {"name": "rootdisk", "enabled": true},
            {"name": "cloudinitdisk", "enabled": false, "reason": "Snapshot is not supported for this volumeSource type [cloudinitdisk]"},
        ],
        "instancetypeRef": {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium",
            "controllerRevisionRef": {"name": "web-1-u1.medium-v1beta1-5d9c-1"}},
        "preferenceRef": {"kind": "VirtualMachineClusterPreference", "name": "rhel.9",
            "controllerRevisionRef": {"name": "web-1-rhel.9-v1beta1-2f1a-1"}},
        "phase": "Running",
        "nodeName": "worker-2.ocp.acme.example",
        "qosClass": "Burstable",
        "launcherContainerImageVersion": "registry.redhat.io/container-native-virtualization/virt-launcher-rhel9@sha256:4f1c0e8a9d2b7e6f5a3c1d0b9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f",
        "machine": {"type": "pc-q35-rhel9.4.0"},
        "migrationMethod": "BlockMigration",
        "migrationTransport": "Unix",
        "activePods": {"0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6": "worker-2.ocp.acme.example"},
        "currentCPUTopology": {"cores": 1, "sockets": 2, "threads": 1},
        "memory": {"guestAtBoot": "8Gi", "guestCurrent": "8Gi", "guestRequested": "8Gi"},
        "guestOSInfo": {"id": "fedora", "name": "Fedora Linux", "prettyName": "Fedora Linux 41 (Cloud Edition)",
            "version": "41 (Cloud Edition)", "versionId": "41", "kernelRelease": "6.11.4-301.fc41.x86_64",
            "kernelVersion": "#1 SMP PREEMPT_DYNAMIC Sun Oct 20 15:02:33 UTC 2024", "machine": "x86_64"},
        "interfaces": [{"name": "default", "interfaceName": "eth0", "infoSource": "domain, guest-agent",
            "ipAddress": "10.128.4.37", "ipAddresses": ["10.128.4.37", "fd02:0:0:5::25"], "mac": "02:4c:1e:00:00:07",
            "linkState": "up", "queueCount": 1, "podInterfaceName": "eth0"}],
        "phaseTransitionTimestamps": phases,
        "volumeStatus": [
            {"name": "rootdisk", "target": "vda", "phase": "Bound", "reason": "Bound",
                "persistentVolumeClaimInfo": {"claimName": "web-1-root", "accessModes": ["ReadWriteMany"], "volumeMode": "Block",
                    "capacity": {"storage": "50Gi"}, "requests": {"storage": "50Gi"}, "filesystemOverhead": "0"},
                "message": "PVC web-1-root is Bound"},
            {"name": "cloudinitdisk", "target": "vdb", "size": 1_048_576},
        ],
        "selinuxContext": "system_u:object_r:container_file_t:s0:c104,c923",
    }})
}

fn resource(manifest: &Value) -> Resource {
    Resource {
        resource: pbstruct::from_json_value(manifest),
        ..Default::default()
    }
}

/// A provider-kubernetes Object wrapping a ConfigMap with `keys` data entries.
fn earlier_object(i: usize, keys: usize) -> Value {
    let data: serde_json::Map<String, Value> = (0..keys)
        .map(|k| {
            (
                format!("setting-{k:02}"),
                json!(format!(
                    "value {k} of object {i}, long enough to be realistic"
                )),
            )
        })
        .collect();
    json!({
        "apiVersion": "kubernetes.m.crossplane.io/v1alpha1",
        "kind": "Object",
        "metadata": {
            "name": format!("team-settings-{i:05}"),
            "namespace": "ws-acme-web-vms",
            "labels": {"app.kubernetes.io/managed-by": "crossplane", "cloud.stakater.com/project": "web"},
        },
        "spec": {
            "providerConfigRef": {"kind": "ClusterProviderConfig", "name": "kubernetes-provider"},
            "forProvider": {"manifest": {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": format!("settings-{i:05}"), "namespace": "team-web"},
                "data": data,
            }},
        },
    })
}
