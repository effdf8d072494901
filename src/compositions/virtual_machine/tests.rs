use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::settings::DiskSize;
use super::spec::{Flavour, INSTANCE_TYPES, InstanceTypeFacts, StorageSize};
use super::*;
use crate::compositions::platform::Platform;
use crate::compositions::{Desired, Observed};
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::Name;

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f dev@example.com";

fn composite(name: &str, parameters: Value) -> Value {
    json!({
        "apiVersion": "compute.cloud.stakater.com/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": "ws-shop-vms"},
        "spec": {"parameters": parameters},
    })
}

fn render_with(
    composite: &Value,
    observed: &[(&str, Value)],
    settings: &Settings,
) -> Result<Desired, Invalid> {
    render_with_required(composite, observed, BTreeMap::new(), settings)
}

/// [`render_with`] with required resources Crossplane fetched.
fn render_with_required(
    composite: &Value,
    observed: &[(&str, Value)],
    required: BTreeMap<String, Vec<Value>>,
    settings: &Settings,
) -> Result<Desired, Invalid> {
    let xr: spec::VirtualMachine = serde_json::from_value(composite.clone()).expect("a valid XR");
    let resources: BTreeMap<Name, ObservedComposed> = observed
        .iter()
        .map(|(name, resource)| {
            (
                Name::from(*name),
                ObservedComposed::new(resource, BTreeMap::new()),
            )
        })
        .collect();
    let observed = Observed {
        resources: &resources,
        required: &required,
        credentials: crate::compositions::secrets::Credentials::none(),
    };
    VirtualMachine::render(
        &xr,
        Context {
            observed: &observed,
            platform: &Platform::default(),
            settings,
        },
    )
}

/// The VirtualMachine settings the platform configuration `vm` gives.
fn settings(vm: Value) -> Settings {
    crate::config::Config::resolve(Some(&json!({ "virtualMachine": vm })), None)
        .expect("valid settings")
        .of::<VirtualMachine>()
        .clone()
}

fn render(parameters: Value) -> Result<Desired, Invalid> {
    render_with(&composite("web", parameters), &[], &Settings::default())
}

fn invalid(parameters: Value) -> String {
    render(parameters)
        .expect_err("the parameters break a rule")
        .to_string()
}

#[test]
fn too_little_memory_for_the_flavour_is_refused() {
    assert_eq!(
        invalid(json!({"flavour": "rhel9", "instanceType": "u1.nano"})),
        r#"spec.parameters.instanceType: "u1.nano" has 512Mi, flavour rhel9 needs at least 1.5Gi; choose u1.small or larger"#
    );
    assert_eq!(
        invalid(json!({"flavour": "fedora", "instanceType": "rt1.micro"})),
        r#"spec.parameters.instanceType: "rt1.micro" has 1Gi, flavour fedora needs at least 2Gi; choose rt1.small or larger"#
    );
    assert!(render(json!({"flavour": "fedora", "instanceType": "o1.small"})).is_ok());
    assert!(render(json!({"flavour": "centos-stream9", "instanceType": "u1.small"})).is_ok());
}

#[test]
fn rhel7_needs_one_gibibyte() {
    let mut settings = Settings::default();
    settings.golden_images.rhel7 = Some("rhel7-guest".into());
    let rhel7 = |instance_type: &str| {
        render_with(
            &composite(
                "web",
                json!({"flavour": "rhel7", "instanceType": instance_type}),
            ),
            &[],
            &settings,
        )
    };
    assert!(rhel7("u1.micro").is_ok());
    assert_eq!(
        rhel7("o1.nano").unwrap_err().to_string(),
        r#"spec.parameters.instanceType: "o1.nano" has 512Mi, flavour rhel7 needs at least 1Gi; choose o1.micro or larger"#
    );
}

#[test]
fn a_bad_ssh_key_is_refused() {
    assert_eq!(
        invalid(
            json!({"flavour": "rhel9", "instanceType": "u1.small", "sshPublicKey": {"data": "ssh-dss AAAAB3NzaC1kc3M="}})
        ),
        "spec.parameters.sshPublicKey.data: not an OpenSSH public key: key type \"ssh-dss\" is not supported (supported: \
         ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, \
         sk-ecdsa-sha2-nistp256@openssh.com); give the one line of your .pub file (\"ssh-ed25519 AAAA... you@host\"), raw or \
         base64-encoded"
    );
    assert_eq!(
        invalid(
            json!({"flavour": "rhel9", "instanceType": "u1.small", "sshPublicKey": {"data": "my key"}})
        ),
        "spec.parameters.sshPublicKey.data: not an OpenSSH public key: key type \"my\" is not supported (supported: \
         ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, \
         sk-ecdsa-sha2-nistp256@openssh.com); give the one line of your .pub file (\"ssh-ed25519 AAAA... you@host\"), raw or \
         base64-encoded"
    );
}

#[test]
fn a_flavour_without_golden_image_is_refused_and_names_the_setting() {
    assert_eq!(
        invalid(json!({"flavour": "rhel8", "instanceType": "u1.small"})),
        "spec.parameters.flavour: rhel8 has no golden image on this platform; choose another flavour, or ask the platform \
         team to set virtualMachine.goldenImages.rhel8 to a DataSource in openshift-virtualization-os-images"
    );
}

#[test]
fn an_instance_series_the_platform_does_not_offer_is_refused() {
    let settings = settings(json!({"instanceSeries": ["u1", "o1"]}));
    let err = render_with(
        &composite(
            "web",
            json!({"flavour": "rhel9", "instanceType": "cx1.medium"}),
        ),
        &[],
        &settings,
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        r#"spec.parameters.instanceType: "cx1.medium" is in series cx1, which this platform does not offer (it offers o1, u1); choose an instance type of an offered series, or ask the platform team to add cx1 to virtualMachine.instanceSeries"#
    );
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let settings = settings(json!({"instanceSeries": ["o1"]}));
    let parameters = json!({"flavour": "rhel8", "instanceType": "u1.nano", "sshPublicKey": {"data": "ssh-ed25519"}});
    let Invalid(errors) = render_with(&composite("web", parameters), &[], &settings).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.parameters.flavour",
            "spec.parameters.instanceType",
            "spec.parameters.instanceType",
            "spec.parameters.sshPublicKey.data"
        ]
    );
    assert!(
        errors[2].message.ends_with("choose u1.small or larger"),
        "{}",
        errors[2].message
    );
    assert!(
        errors[3].message.starts_with("not an OpenSSH public key:"),
        "{}",
        errors[3].message
    );
}

#[test]
fn an_xr_without_namespace_is_refused() {
    let mut xr = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.small"}),
    );
    xr["metadata"].as_object_mut().unwrap().remove("namespace");
    assert_eq!(
        render_with(&xr, &[], &Settings::default())
            .unwrap_err()
            .to_string(),
        "metadata.namespace: a VirtualMachine is namespaced; create it in its project's namespace"
    );
}

#[test]
fn nothing_observed_composes_everything_but_the_connection_secret() {
    let desired = render(
        json!({"flavour": "rhel9", "instanceType": "u1.medium", "sshPublicKey": {"data": KEY}}),
    )
    .unwrap();
    let names: Vec<&str> = desired.resources.keys().map(Name::as_str).collect();
    assert_eq!(names, [CLOUD_INIT, SERVICE, SSH_KEY, VIRTUAL_MACHINE]);
    assert!(desired.resources.values().all(|r| !r.ready));
    let waiting = desired.waiting.as_ref().expect("waiting for the address");
    assert_eq!(waiting.reason, "WaitingForAddress");
    assert_eq!(
        waiting.message,
        "waiting for Service ws-shop-vms/web-ssh to get a cluster IP; the connection Secret web-connection is written then"
    );
    assert_eq!(
        Value::Object(desired.status),
        json!({"vm": {"ready": false, "created": false, "cpuCores": 1, "memory": "4Gi"}})
    );
}

#[test]
fn the_vm_follows_the_parameters_and_platform_settings() {
    let settings = settings(json!({
        "goldenImageNamespace": "os-images",
        "goldenImages": {"fedora": "fedora-42"},
        "storageClass": "ceph-rbd-virt",
        "storageSizes": {"large": "80Gi"},
        "networkBinding": "l2bridge",
    }));
    let xr = composite(
        "web",
        json!({"flavour": "fedora", "instanceType": "u1.large", "storageSize": "large", "running": false}),
    );
    let desired = render_with(&xr, &[], &settings).unwrap();
    let vm = &desired.resources[&Name::from(VIRTUAL_MACHINE)]
        .manifest
        .to_json();
    assert_eq!(vm["spec"]["runStrategy"], "Halted");
    assert_eq!(
        vm["spec"]["preference"],
        json!({"kind": "VirtualMachineClusterPreference", "name": "fedora"})
    );
    assert_eq!(
        vm["spec"]["instancetype"],
        json!({"kind": "VirtualMachineClusterInstancetype", "name": "u1.large"})
    );
    assert_eq!(
        vm["spec"]["dataVolumeTemplates"][0]["spec"],
        json!({
            "sourceRef": {"kind": "DataSource", "name": "fedora-42", "namespace": "os-images"},
            "storage": {"resources": {"requests": {"storage": "80Gi"}}, "storageClassName": "ceph-rbd-virt"},
        })
    );
    assert_eq!(
        vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0]["binding"],
        json!({"name": "l2bridge"})
    );
    assert_eq!(
        vm["spec"]["template"]["metadata"]["labels"][LABEL_VIRTUAL_MACHINE],
        "web"
    );
    assert_eq!(vm["metadata"]["labels"][conventions::LABEL_PROJECT], "shop");
    assert!(
        vm["spec"]["template"]["spec"]
            .get("accessCredentials")
            .is_none()
    );
    assert!(!desired.resources.contains_key(&Name::from(SSH_KEY)));
}

#[test]
fn user_data_goes_into_a_secret_and_defaults_to_naming_the_ssh_user() {
    let user_data = |desired: &Desired| {
        desired.resources[&Name::from(CLOUD_INIT)]
            .manifest
            .to_json()["data"]["userdata"]
            .clone()
    };
    let default = render(json!({"flavour": "rhel9", "instanceType": "u1.small"})).unwrap();
    assert_eq!(
        user_data(&default),
        json!(ssh::encode(b"#cloud-config\nuser:\n  name: cloud-user\n"))
    );
    let given = render(
        json!({"flavour": "rhel9", "instanceType": "u1.small", "cloudInit": {"userData": "#cloud-config\npackages: [nginx]\n"}}),
    );
    assert_eq!(
        user_data(&given.unwrap()),
        json!(ssh::encode(b"#cloud-config\npackages: [nginx]\n"))
    );
}

#[test]
fn base64_ssh_keys_are_stored_decoded() {
    let desired = render(
        json!({"flavour": "rhel9", "instanceType": "u1.small", "sshPublicKey": {"data": ssh::encode(KEY.as_bytes())}}),
    );
    let secret = &desired.unwrap().resources[&Name::from(SSH_KEY)]
        .manifest
        .to_json();
    assert_eq!(secret["data"], json!({"key": ssh::encode(KEY.as_bytes())}));
    assert_eq!(secret["metadata"]["name"], "web-ssh-key");
}

#[test]
fn the_service_name_starts_with_a_letter() {
    assert_eq!(Names::of("web").service, "web-ssh");
    assert_eq!(Names::of("3f2a9c-17d0e4").service, "vm-3f2a9c-17d0e4-ssh");
    let long = Names::of(&"a".repeat(80));
    assert!(
        [long.vm, long.root_disk, long.service, long.connection]
            .iter()
            .all(|n| n.len() <= 63)
    );
}

#[test]
fn the_vm_is_ready_in_the_state_running_asks_for() {
    let status = |printable: &str, ready: bool| ObservedStatus {
        printable_status: Some(printable.into()),
        ready,
        created: ready,
        conditions: Vec::new(),
    };
    assert!(vm_ready(&status("Running", true), true));
    assert!(!vm_ready(&status("Running", false), true));
    // Live migration (a node drain) keeps a running VM ready.
    assert!(vm_ready(&status("Migrating", true), true));
    assert!(!vm_ready(&status("Migrating", true), false));
    assert!(!vm_ready(&status("Starting", false), true));
    assert!(!vm_ready(&status("Stopped", false), true));
    assert!(vm_ready(&status("Stopped", false), false));
    assert!(!vm_ready(&status("Stopping", false), false));
    assert!(!vm_ready(&ObservedStatus::default(), false));
}

#[test]
fn the_instance_type_table_is_complete_and_ordered() {
    assert_eq!(INSTANCE_TYPES.len(), 44);
    for (index, facts) in INSTANCE_TYPES.iter().enumerate() {
        let InstanceTypeFacts {
            instance_type,
            series,
            ..
        } = *facts;
        assert_eq!(instance_type as usize, index, "{instance_type}");
        assert_eq!(instance_type.facts(), *facts);
        assert_eq!(
            serde_json::to_value(instance_type).unwrap(),
            json!(instance_type.as_str())
        );
        assert!(
            instance_type.as_str().starts_with(&format!("{series}.")),
            "{instance_type}"
        );
    }
    for series in InstanceSeries::ALL {
        let sizes: Vec<_> = INSTANCE_TYPES
            .iter()
            .filter(|f| f.series == series)
            .map(|f| (f.memory, f.cpus))
            .collect();
        assert!(
            sizes.windows(2).all(|w| w[0] <= w[1]),
            "{series} is not in ascending order"
        );
    }
    let u1_medium = InstanceType::U1Medium.facts();
    assert_eq!(
        (u1_medium.cpus, u1_medium.memory.to_string()),
        (1, "4Gi".to_owned())
    );
    assert_eq!(InstanceType::N1Medium.facts().cpus, 4);
    assert_eq!(InstanceType::M18xlarge.facts().memory.to_string(), "256Gi");
}

#[test]
fn names_match_their_serde_spelling() {
    for flavour in Flavour::ALL {
        assert_eq!(
            serde_json::to_value(flavour).unwrap(),
            json!(flavour.as_str())
        );
    }
    for series in InstanceSeries::ALL {
        assert_eq!(
            serde_json::to_value(series).unwrap(),
            json!(series.as_str())
        );
    }
    assert_eq!(Memory::mib(512).to_string(), "512Mi");
    assert_eq!(Memory::mib(1536).to_string(), "1.5Gi");
    assert_eq!(Memory::mib(2048).to_string(), "2Gi");
}

#[test]
fn parameters_default_and_reject_unknown_fields() {
    let xr: spec::VirtualMachine = serde_json::from_value(composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.small"}),
    ))
    .unwrap();
    let p = xr.spec.parameters;
    assert_eq!(
        (p.storage_size, p.connection, p.running),
        (StorageSize::Medium, Connection::Private, true)
    );
    let typo = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.small", "sshKey": {"data": KEY}}),
    );
    assert!(serde_json::from_value::<spec::VirtualMachine>(typo).is_err());
}

#[test]
fn platform_settings_default_and_override() {
    let defaults = Settings::default();
    assert_eq!(
        defaults.golden_image_namespace,
        "openshift-virtualization-os-images"
    );
    assert_eq!(
        defaults
            .golden_images
            .get(Flavour::CentosStream10)
            .as_deref(),
        Some("centos-stream10")
    );
    assert_eq!(*defaults.golden_images.get(Flavour::Rhel7), None);
    assert_eq!(
        defaults.preferences.get(Flavour::CentosStream9),
        "centos.stream9"
    );
    assert_eq!(
        defaults.storage_sizes.get(StorageSize::Xlarge),
        &DiskSize::new("100Gi")
    );
    assert_eq!(defaults.instance_series.len(), 6);
    let env = json!({"virtualMachine": {"goldenImages": {"rhel8": "rhel8-guest", "fedora": null}, "sshUser": "admin"}});
    let settings = crate::config::Config::resolve(Some(&env), None)
        .unwrap()
        .of::<VirtualMachine>()
        .clone();
    assert_eq!(
        settings.golden_images.get(Flavour::Rhel8).as_deref(),
        Some("rhel8-guest")
    );
    assert_eq!(*settings.golden_images.get(Flavour::Fedora), None);
    assert_eq!(
        settings.golden_images.get(Flavour::Rhel9).as_deref(),
        Some("rhel9")
    );
    assert_eq!(settings.ssh_user.to_string(), "admin");
}

#[test]
fn bad_platform_settings_name_the_key() {
    let err = |vm: Value| {
        crate::config::Config::resolve(Some(&json!({"virtualMachine": vm})), None)
            .unwrap_err()
            .to_string()
    };
    let size = err(json!({"storageSizes": {"small": "10 GB"}}));
    assert!(
        size.contains("virtualMachine.storageSizes.small") && size.contains("30Gi"),
        "{size}"
    );
    let user = err(json!({"sshUser": "Cloud User"}));
    assert!(
        user.contains("virtualMachine.sshUser") && user.contains("Linux user name"),
        "{user}"
    );
    let flavour = err(json!({"goldenImages": {"rhel11": "x"}}));
    assert!(flavour.contains("rhel11"), "{flavour}");
    assert!(err(json!({"instanceSeries": ["x1"]})).contains("x1"));
    for good in ["10Gi", "1.5Ti", "500M", "1000000000"] {
        assert!(DiskSize::try_from(good.to_owned()).is_ok(), "{good}");
    }
    for bad in ["0Gi", "Gi", "-1Gi", "1.Gi", "10GiB"] {
        assert!(DiskSize::try_from(bad.to_owned()).is_err(), "{bad}");
    }
}

#[test]
fn the_connection_secret_names_the_user_the_user_data_gives_the_key_to() {
    // Regression (issue 13, point 6): with its own user data the XR got `cloud-user` in the
    // connection Secret whatever user the image or the user data had.
    let service = json!({"spec": {"clusterIP": "10.0.0.7"}});
    let user = |flavour: &str, user_data: Option<&str>| {
        let mut parameters = json!({"flavour": flavour, "instanceType": "u1.small"});
        if let Some(data) = user_data {
            parameters["cloudInit"] = json!({"userData": data});
        }
        let desired = render_with(
            &composite("web", parameters),
            &[(SERVICE, service.clone())],
            &Settings::default(),
        )
        .unwrap();
        let secret = desired.resources[&Name::from(names::CONNECTION)]
            .manifest
            .to_json();
        let bytes: k8s_openapi::ByteString =
            serde_json::from_value(secret["data"]["user"].clone()).unwrap();
        String::from_utf8(bytes.0).unwrap()
    };
    assert_eq!(
        user("fedora", None),
        "cloud-user",
        "the default cloud-config sets it"
    );
    assert_eq!(
        user("fedora", Some("#cloud-config\nuser: alice\n")),
        "alice"
    );
    assert_eq!(
        user("fedora", Some("#cloud-config\npackages: [git]\n")),
        "fedora"
    );
    assert_eq!(user("fedora", Some("#!/bin/bash\necho hello\n")), "fedora");
    assert_eq!(
        user("rhel9", Some("#!/bin/bash\necho hello\n")),
        "cloud-user"
    );
    assert_eq!(
        user(
            "centos-stream9",
            Some("#cloud-config\nusers:\n- name: bob\n")
        ),
        "bob"
    );
}

#[test]
fn status_takes_cpu_and_memory_from_the_running_instance() {
    // Regression (issue 13, point 7): the status showed the instance-type table even while
    // the guest still ran with the old size.
    let instance = json!({"status": {
        "currentCPUTopology": {"cores": 1, "sockets": 2, "threads": 1},
        "memory": {"guestAtBoot": "4Gi", "guestCurrent": "4Gi"}}});
    let xr: spec::VirtualMachine = serde_json::from_value(composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.large"}),
    ))
    .unwrap();
    let resources = BTreeMap::new();
    let required = BTreeMap::from([(VMI_REQUIREMENT.to_owned(), vec![instance])]);
    let observed = Observed {
        resources: &resources,
        required: &required,
        credentials: crate::compositions::secrets::Credentials::none(),
    };
    let desired = VirtualMachine::render(
        &xr,
        Context {
            observed: &observed,
            platform: &Platform::default(),
            settings: &Settings::default(),
        },
    )
    .unwrap();
    assert_eq!(desired.status["vm"]["cpuCores"], 2);
    assert_eq!(desired.status["vm"]["memory"], "4Gi");
    let requirement = &desired.requirements[VMI_REQUIREMENT];
    assert_eq!(requirement.kind, "VirtualMachineInstance");
    // Without an instance (halted, or not fetched yet): the instance type's size.
    let halted = render(json!({"flavour": "rhel9", "instanceType": "u1.large"})).unwrap();
    assert_eq!(halted.status["vm"]["cpuCores"], 2);
    assert_eq!(halted.status["vm"]["memory"], "8Gi");
    assert!(halted.requirements.contains_key(VMI_REQUIREMENT));
}

#[test]
fn first_boot_settings_cannot_change_once_the_vm_exists() {
    // cloud-init applies the SSH key and user data at the first boot only (KubeVirt keeps
    // the instance ID), so the XRD refuses adding, changing or removing them.
    let xrd = VirtualMachine::definition();
    let rules = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["parameters"]["x-kubernetes-validations"];
    for (i, field) in ["sshPublicKey", "cloudInit"].iter().enumerate() {
        let rule = rules[i]["rule"].as_str().unwrap();
        assert!(
            rule.starts_with(&format!("has(self.{field}) == has(oldSelf.{field})")),
            "{rule}"
        );
        assert!(
            rule.ends_with(&format!("self.{field} == oldSelf.{field})")),
            "{rule}"
        );
        assert!(rules[i]["message"].as_str().unwrap().contains("first boot"));
    }
}

#[test]
fn flavour_and_storage_size_are_immutable_in_the_xrd() {
    let xrd = VirtualMachine::definition();
    let parameters = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        ["properties"]["parameters"]["properties"];
    for field in ["flavour", "storageSize"] {
        let rules = &parameters[field]["x-kubernetes-validations"];
        assert_eq!(rules[0]["rule"], "self == oldSelf", "{field}: {parameters}");
        assert!(rules[0]["message"].as_str().unwrap().contains("immutable"));
    }
}

fn render_required(
    parameters: Value,
    observed: &[(&str, Value)],
    pvc: &Value,
) -> Result<Desired, Invalid> {
    render_profiled(parameters, observed, pvc, None)
}

/// [`render_required`] with the root disk's storage class and its StorageProfile, whose
/// claim property set has `volume_mode`.
fn render_profiled(
    parameters: Value,
    observed: &[(&str, Value)],
    pvc: &Value,
    volume_mode: Option<&str>,
) -> Result<Desired, Invalid> {
    let xr: spec::VirtualMachine = serde_json::from_value(composite("web", parameters)).unwrap();
    let resources: BTreeMap<Name, ObservedComposed> = observed
        .iter()
        .map(|(n, r)| (Name::from(*n), ObservedComposed::new(r, BTreeMap::new())))
        .collect();
    let data_source = json!({"metadata": {"name": "rhel9", "namespace": "openshift-virtualization-os-images"},
        "status": {"source": {"pvc": {"name": "rhel9-abc", "namespace": "openshift-virtualization-os-images"}}}});
    let mut required = BTreeMap::from([
        (golden::GOLDEN_IMAGE.to_owned(), vec![data_source]),
        (golden::GOLDEN_IMAGE_SOURCE.to_owned(), vec![pvc.clone()]),
    ]);
    let mut settings = Settings::default();
    if let Some(mode) = volume_mode {
        settings.storage_class = Some("ceph-rbd-virt".into());
        required.insert(
            golden::STORAGE_PROFILE.to_owned(),
            vec![json!({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile",
                "metadata": {"name": "ceph-rbd-virt"},
                "status": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": mode}]}})],
        );
    }
    let observed = Observed {
        resources: &resources,
        required: &required,
        credentials: crate::compositions::secrets::Credentials::none(),
    };
    VirtualMachine::render(
        &xr,
        Context {
            observed: &observed,
            platform: &Platform::default(),
            settings: &settings,
        },
    )
}

#[test]
fn a_root_disk_smaller_than_its_golden_image_is_refused_before_the_vm_exists() {
    // Regression (issue 13, point 8): CDI refuses the clone and the VM never boots.
    let parameters =
        json!({"flavour": "rhel9", "instanceType": "u1.small", "storageSize": "medium"});
    let pvc = |size: &str, mode: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "spec": {"volumeMode": mode, "resources": {"requests": {"storage": size}}}})
    };
    let err = render_required(parameters.clone(), &[], &pvc("32Gi", "Block")).unwrap_err();
    assert_eq!(err.0[0].path, "spec.parameters.storageSize");
    assert!(
        err.0[0]
            .message
            .contains("choose storageSize large or larger"),
        "{err}"
    );
    assert!(err.0[0].message.contains("32Gi"), "{err}");
    // A Filesystem-mode disk requests its size plus CDI's filesystem overhead (5.5%): a 30Gi
    // image imported there sits in a PVC of about 31.75Gi and fits a 30Gi disk in that mode.
    assert!(render_required(parameters.clone(), &[], &pvc("31746Mi", "Filesystem")).is_ok());
    let err = render_required(parameters.clone(), &[], &pvc("34Gi", "Filesystem")).unwrap_err();
    assert!(err.0[0].message.contains("Filesystem-mode disk"), "{err}");
    // The target's mode is the StorageProfile's: the same source does not fit a 30Gi Block
    // disk (CDI compares the two requests as they are), and a Block source fits a
    // Filesystem disk a little smaller than itself.
    let profiled = |pvc: &Value, mode| render_profiled(parameters.clone(), &[], pvc, Some(mode));
    let err = profiled(&pvc("31746Mi", "Filesystem"), "Block").unwrap_err();
    assert!(err.0[0].message.contains("Block-mode disk"), "{err}");
    assert!(profiled(&pvc("31Gi", "Block"), "Filesystem").is_ok());
    assert!(profiled(&pvc("31Gi", "Block"), "Block").is_err());
    let ok = profiled(&pvc("30Gi", "Block"), "Block").unwrap();
    assert_eq!(
        ok.requirements[golden::STORAGE_PROFILE].kind,
        "StorageProfile"
    );
    // Large enough: composed, and the golden image's source is required.
    let ok = render_required(parameters.clone(), &[], &pvc("30Gi", "Block")).unwrap();
    assert_eq!(ok.requirements[golden::GOLDEN_IMAGE].kind, "DataSource");
    let source = &ok.requirements[golden::GOLDEN_IMAGE_SOURCE];
    assert_eq!(source.kind, "PersistentVolumeClaim");
    assert_eq!(
        source.namespace.as_deref(),
        Some("openshift-virtualization-os-images")
    );
    // Once the VM exists its disk is cloned: a grown golden image does not break it.
    let existing = render_required(
        parameters,
        &[(VIRTUAL_MACHINE, json!({}))],
        &pvc("64Gi", "Block"),
    );
    assert!(existing.is_ok());
    // Nothing fetched yet: only the DataSource is asked for.
    let fresh = render(json!({"flavour": "rhel9", "instanceType": "u1.small"})).unwrap();
    assert!(fresh.requirements.contains_key(golden::GOLDEN_IMAGE));
    assert!(!fresh.requirements.contains_key(golden::GOLDEN_IMAGE_SOURCE));
}

#[test]
fn a_change_that_waits_for_a_restart_is_said() {
    // A new instance type on a running VM: KubeVirt keeps the instance as it was and sets
    // RestartRequired; the XR says so instead of implying the change is in effect.
    let xr = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.large"}),
    );
    let vm = |conditions: Value| {
        json!({"status": {"printableStatus": "Running", "ready": true, "created": true,
            "conditions": conditions}})
    };
    let waiting = render_with(
        &xr,
        &[(
            VIRTUAL_MACHINE,
            vm(json!([
                {"type": "Ready", "status": "True"},
                {"type": "RestartRequired", "status": "True",
                 "message": "a non-live-updatable field was changed in the template spec"},
            ])),
        )],
        &Settings::default(),
    )
    .unwrap();
    assert_eq!(waiting.status["vm"]["restartRequired"], true);
    assert_eq!(waiting.warnings.len(), 1, "{:?}", waiting.warnings);
    assert!(waiting.warnings[0].contains("non-live-updatable"));
    assert!(waiting.warnings[0].contains("running to false, then true"));

    let applied = render_with(
        &xr,
        &[(
            VIRTUAL_MACHINE,
            vm(json!([{"type": "Ready", "status": "True"}])),
        )],
        &Settings::default(),
    )
    .unwrap();
    assert_eq!(applied.status["vm"].get("restartRequired"), None);
    assert!(applied.warnings.is_empty());
}

#[test]
fn a_vm_that_does_not_start_says_why_while_it_should_run() {
    let quota = "failed to create virtual machine pod: pods \"virt-launcher-web-x\" is forbidden: must specify limits.cpu for: compute";
    let vm = json!({"status": {"printableStatus": "Starting", "ready": false, "created": true,
        "conditions": [{"type": "Synchronized", "status": "False", "reason": "FailedCreate", "message": quota}]}});
    let out = |running: bool| {
        let xr = composite(
            "web",
            json!({"flavour": "rhel9", "instanceType": "u1.small", "running": running}),
        );
        render_with(&xr, &[(VIRTUAL_MACHINE, vm.clone())], &Settings::default()).unwrap()
    };
    let running = out(true);
    assert_eq!(
        running.warnings,
        [format!(
            "the VM does not start (KubeVirt: FailedCreate: {quota})"
        )]
    );
    // Asked to stop, a refused start is no news.
    assert!(out(false).warnings.is_empty());
}

#[test]
fn a_stopped_vm_whose_disk_fails_says_why() {
    // KubeVirt makes a halted VM's DataVolumes too: their failure is the VM's news.
    let xr = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.small", "running": false}),
    );
    let out = |status: Value| {
        render_with(
            &xr,
            &[(VIRTUAL_MACHINE, json!({"status": status}))],
            &Settings::default(),
        )
        .unwrap()
        .warnings
    };
    assert_eq!(
        out(json!({"printableStatus": "DataVolumeError"})),
        [
            "the VM's root disk is not provisioned (KubeVirt: DataVolumeError: the root disk's DataVolume failed to import or clone (its conditions say why))"
        ]
    );
    assert_eq!(
        out(
            json!({"printableStatus": "Stopped", "conditions": [{"type": "Failure", "status": "True",
            "reason": "FailedCreate", "message": "exceeded quota: requests.storage"}]})
        ),
        [
            "the VM's root disk is not provisioned (KubeVirt: FailedCreate: exceeded quota: requests.storage)"
        ]
    );
    assert!(out(json!({"printableStatus": "Stopped"})).is_empty());
}

#[test]
fn a_flavour_whose_golden_image_is_missing_is_refused_before_the_vm_exists() {
    let xr = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.small"}),
    );
    let answered_empty = BTreeMap::from([(golden::GOLDEN_IMAGE.to_owned(), Vec::new())]);
    let Invalid(errors) =
        render_with_required(&xr, &[], answered_empty.clone(), &Settings::default()).unwrap_err();
    assert_eq!(errors[0].path, "spec.parameters.flavour");
    assert!(
        errors[0]
            .message
            .contains("DataSource openshift-virtualization-os-images/rhel9"),
        "{}",
        errors[0].message
    );
    // Not asked yet: nothing to say.
    assert!(render_with(&xr, &[], &Settings::default()).is_ok());
    // An existing VM's disk is cloned already.
    let existing = [(
        VIRTUAL_MACHINE,
        json!({"status": {"printableStatus": "Running"}}),
    )];
    assert!(render_with_required(&xr, &existing, answered_empty, &Settings::default()).is_ok());
}

#[test]
fn the_binding_follows_the_namespace_for_new_vms_and_stays_for_existing_ones() {
    let xr = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.small"}),
    );
    let namespace = |labels: Value| {
        BTreeMap::from([(
            NAMESPACE_REQUIREMENT.to_owned(),
            vec![json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "ws-shop-vms", "labels": labels}})],
        )])
    };
    let interface = |desired: &Desired| {
        desired.resources[&Name::from(VIRTUAL_MACHINE)]
            .manifest
            .to_json()["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0]
            .clone()
    };
    let masquerade = json!({"name": "default", "masquerade": {}});
    let l2bridge = json!({"name": "default", "binding": {"name": "l2bridge"}});
    let auto = Settings::default();

    // A new VM: its namespace is asked for, and decides.
    let unknown = render_with(&xr, &[], &auto).unwrap();
    assert_eq!(
        unknown.requirements[NAMESPACE_REQUIREMENT].kind,
        "Namespace"
    );
    assert_eq!(
        interface(&unknown),
        masquerade,
        "until the namespace is known"
    );
    let udn = namespace(json!({"k8s.ovn.org/primary-user-defined-network": ""}));
    let on_udn = render_with_required(&xr, &[], udn.clone(), &auto).unwrap();
    assert_eq!(interface(&on_udn), l2bridge);
    let plain = render_with_required(&xr, &[], namespace(json!({})), &auto).unwrap();
    assert_eq!(interface(&plain), masquerade);

    // An existing VM keeps its binding, and its namespace is not fetched again.
    let existing = |interface: Value| json!({"spec": {"template": {"spec": {"domain": {"devices": {"interfaces": [interface]}}}}}});
    let kept = render_with_required(
        &xr,
        &[(VIRTUAL_MACHINE, existing(masquerade.clone()))],
        udn.clone(),
        &auto,
    )
    .unwrap();
    assert_eq!(interface(&kept), masquerade);
    assert!(!kept.requirements.contains_key(NAMESPACE_REQUIREMENT));
    let kept = render_with(&xr, &[(VIRTUAL_MACHINE, existing(l2bridge.clone()))], &auto).unwrap();
    assert_eq!(interface(&kept), l2bridge);

    // A binding set by the platform applies everywhere, to existing VMs too.
    let forced = settings(json!({"networkBinding": "masquerade"}));
    let out = render_with_required(
        &xr,
        &[(VIRTUAL_MACHINE, existing(l2bridge.clone()))],
        udn,
        &forced,
    )
    .unwrap();
    assert_eq!(interface(&out), masquerade);
    assert!(!out.requirements.contains_key(NAMESPACE_REQUIREMENT));
}

#[test]
fn status_counts_the_vcpus_the_running_instance_has() {
    // The guest still runs 1 core × 3 sockets × 2 threads, 6 vCPUs, while its instance type
    // (u1.large) now has 2: the status shows what the guest has. KubeVirt spells the field
    // `currentCPUTopology`.
    let xr = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.large"}),
    );
    let cpu_cores = |topology: Value| {
        let instance = json!({"status": {"currentCPUTopology": topology}});
        let required = BTreeMap::from([(VMI_REQUIREMENT.to_owned(), vec![instance])]);
        render_with_required(&xr, &[], required, &Settings::default())
            .unwrap()
            .status["vm"]["cpuCores"]
            .clone()
    };
    assert_eq!(
        cpu_cores(json!({"cores": 1, "sockets": 3, "threads": 2})),
        6
    );
    // A topology of no vCPUs says nothing: the instance type's count stands.
    assert_eq!(
        cpu_cores(json!({"cores": 0, "sockets": 3, "threads": 2})),
        2
    );
}

#[test]
fn status_shows_memory_the_instance_reports_as_a_number() {
    // KubeVirt's schema lets a quantity be a number: one must not make the whole instance
    // unreadable (and its vCPUs with it).
    let xr = composite(
        "web",
        json!({"flavour": "rhel9", "instanceType": "u1.large"}),
    );
    let instance = json!({"status": {
        "currentCPUTopology": {"cores": 1, "sockets": 3, "threads": 1},
        "memory": {"guestCurrent": 4294967296_u64},
    }});
    let required = BTreeMap::from([(VMI_REQUIREMENT.to_owned(), vec![instance])]);
    let desired = render_with_required(&xr, &[], required, &Settings::default()).unwrap();
    assert_eq!(desired.status["vm"]["memory"], "4294967296");
    assert_eq!(desired.status["vm"]["cpuCores"], 3);
}
