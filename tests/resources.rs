//! The builders the compositions use (Project, and the OpenShiftCluster's add-ons) write
//! manifests their upstream schemas accept, strictly (unknown fields, types, list-map keys,
//! embedded metadata): one sample of each, in both flavours where a kind has two, bare and
//! wrapped in a provider-kubernetes `Object`.

mod support;

use std::collections::BTreeMap;

use function_sco::resources::kcp::{ApiBinding, ExportReference, ObservedApiBinding};
use function_sco::resources::keycloak::{Managed, MembershipsParameters, RealmId};
use function_sco::resources::mto::{
    AccessControl, LimitRange, LimitRangeItem, Members, NamespaceMetadata, NamespacesMetadata,
    Quota, QuotaProfile, Tenant, TenantNamespaces, TenantSpec,
};
use function_sco::resources::ovn::{
    ClusterUserDefinedNetwork, NamespaceSelector, PRIMARY_UDN_LABEL,
};
use function_sco::resources::provider_kubernetes::{Object, Readiness};
use function_sco::resources::rbac::{ClusterRole, ClusterRoleBinding, ProjectRole, Subject};
use function_sco::resources::{Labels, ObservedQuantity, ProviderConfig, Reference, meta};
use serde::Serialize;
use serde_json::{Value, json};
use support::schema;

fn labels() -> Labels {
    Labels::from(BTreeMap::from([(
        "crossplane.io/composite".to_owned(),
        "shop-x7k2p".to_owned(),
    )]))
}

fn value(manifest: impl Serialize) -> Value {
    serde_json::to_value(manifest).unwrap()
}

/// The manifest, bare and wrapped in an Object of each flavour, validates.
fn assert_valid_everywhere(manifest: Value) {
    schema::assert_valid(&manifest);
    for namespace in [None, Some("acme")] {
        let object = Object::new(
            meta("wrapped", namespace, &labels()),
            manifest.clone(),
            &ProviderConfig::Composed("kcp-acme-shop".into()),
            Readiness::DeriveFromObject,
        );
        schema::assert_valid(&value(object));
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn api_binding_with_accepted_claims() {
    let observed: ObservedApiBinding = serde_json::from_value(json!({"status": {
        "phase": "Bound",
        "exportPermissionClaims": [
            {"group": "", "resource": "namespaces", "verbs": ["*"]},
            {"group": "", "resource": "events", "verbs": ["*"]},
            {"group": "core.kcp.io", "resource": "logicalclusters", "verbs": ["*"]},
            {"group": "", "resource": "secrets", "verbs": ["get", "list", "watch"],
             "defaultSelector": {"matchLabels": {"sco.stakater.com/related": "true"}}},
        ],
    }}))
    .unwrap();
    let binding = ApiBinding::new(
        meta("compute.cloud.stakater.com", None, &labels()),
        ExportReference {
            path: Some("root:platform".into()),
            name: "compute.cloud.stakater.com".into(),
        },
        observed.accepted_claims(),
    );
    assert_valid_everywhere(value(&binding));
    let bare = ApiBinding::new(
        meta("local", None, &Labels::default()),
        ExportReference {
            path: None,
            name: "local".into(),
        },
        Vec::new(),
    );
    schema::assert_valid(&value(bare));
}

#[test]
fn workspace_rbac() {
    let groups = [
        "compute.cloud.stakater.com",
        "kubernetes.cloud.stakater.com",
    ];
    for (name, role) in [
        ("sco-project-admin", ProjectRole::Admin),
        ("sco-project-edit", ProjectRole::Edit),
        ("sco-project-view", ProjectRole::View),
    ] {
        let cluster_role = ClusterRole::new(meta(name, None, &labels()), role.rules(&groups));
        assert_valid_everywhere(value(cluster_role));
    }
    let binding = ClusterRoleBinding::new(
        meta("sco-project-admin", None, &labels()),
        "sco-project-admin",
        vec![
            Subject::group("oidc:shop-admin"),
            Subject::user("oidc:ada@example.com"),
        ],
    );
    assert_valid_everywhere(value(binding));
    let access = ClusterRoleBinding::workspace_access(
        meta("sco-project-access", None, &labels()),
        vec![Subject::group("oidc:shop-view")],
    );
    assert_valid_everywhere(value(access));
}

#[test]
fn tenant_and_quota() {
    let tenant = Tenant::new(
        meta("shop", None, &labels()),
        TenantSpec {
            quota: "shop".into(),
            access_control: AccessControl {
                owners: Members {
                    users: strings(&["oidc:ada"]),
                    groups: strings(&["oidc:shop-admin"]),
                },
                editors: Members {
                    users: Vec::new(),
                    groups: strings(&["oidc:shop-edit"]),
                },
                viewers: Members::default(),
            },
            namespaces: TenantNamespaces {
                without_tenant_prefix: strings(&["ws-shop-vms", "ws-shop-clusters"]),
                metadata: NamespacesMetadata {
                    common: NamespaceMetadata {
                        labels: BTreeMap::from([
                            ("stakater.com/tenant".to_owned(), "shop".to_owned()),
                            ("stakater.com/org".to_owned(), "acme".to_owned()),
                            (PRIMARY_UDN_LABEL.to_owned(), String::new()),
                        ]),
                        annotations: BTreeMap::new(),
                    },
                },
                on_delete_purge_namespaces: true,
            },
        },
    );
    assert_valid_everywhere(value(tenant));
    for profile in [
        QuotaProfile::Small,
        QuotaProfile::Medium,
        QuotaProfile::Large,
    ] {
        assert_valid_everywhere(value(Quota::new(
            meta("shop", None, &labels()),
            profile.spec(),
        )));
    }
    let mut spec = QuotaProfile::Small.spec();
    spec.limitrange = Some(LimitRange {
        limits: vec![LimitRangeItem {
            type_: "Container".into(),
            default: BTreeMap::from([("cpu".to_owned(), "500m".to_owned())]),
            default_request: BTreeMap::from([("memory".to_owned(), "256Mi".to_owned())]),
            ..LimitRangeItem::default()
        }],
    });
    assert_valid_everywhere(value(Quota::new(meta("shop", None, &labels()), spec)));
}

#[test]
fn project_network() {
    let cudn = ClusterUserDefinedNetwork::primary_layer2(
        meta("shop", None, &labels()),
        NamespaceSelector::names(&["ws-shop-vms", "ws-shop-clusters"]),
        vec![
            "10.0.0.0/16".parse().unwrap(),
            "fd00:10::/64".parse().unwrap(),
        ],
    );
    assert_valid_everywhere(value(cudn));
}

#[test]
fn keycloak_memberships_in_both_flavours() {
    for namespace in [None, Some("acme")] {
        let memberships = Managed::new(
            meta("shop-admin-members", namespace, &labels()),
            MembershipsParameters {
                realm: RealmId::existing("acme"),
                group_id_ref: Reference::to("shop-admin"),
                members: strings(&["ada", "grace"]),
            },
            &ProviderConfig::Platform("keycloak".into()),
        );
        schema::assert_valid(&value(memberships));
    }
}

#[test]
fn the_validator_would_notice_a_wrong_field() {
    let mut binding = value(ApiBinding::new(
        meta("b", None, &Labels::default()),
        ExportReference {
            path: None,
            name: "x".into(),
        },
        Vec::new(),
    ));
    binding["spec"]["permissionClaims"] =
        json!([{"resource": "secrets", "verbs": ["get"], "all": true, "state": "Accepted"}]);
    let errors = schema::validate(&binding).unwrap_err();
    assert!(
        errors.iter().any(|e| e.contains("permissionClaims/0/all")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("permissionClaims/0/selector")),
        "{errors:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The OpenShiftCluster add-ons: etcd backup, DNS, TLS and bootstrap releases.

#[test]
fn velero_schedules_for_every_platform_and_volume_backup() {
    use function_sco::resources::velero::{
        ENABLED_QUERY, HostedClusterBackup, Platform, Schedule, VolumeBackup,
    };
    let agent = Platform::Agent {
        agent_namespace: "hardware".into(),
    };
    for platform in [Platform::KubeVirt, agent, Platform::None] {
        for volumes in [VolumeBackup::CsiSnapshotMoveData, VolumeBackup::FileSystem] {
            let schedule = Schedule::hosted_cluster(
                meta("dev-etcd-backup", Some("openshift-adp"), &labels()),
                &HostedClusterBackup {
                    hosted_cluster_namespace: "ws-shop-clusters".into(),
                    hosted_cluster_name: "dev".into(),
                    platform: platform.clone(),
                    storage_location: "default".into(),
                    schedule: "0 */6 * * *".into(),
                    ttl: "168h0m0s".into(),
                    volumes,
                },
            );
            assert_valid_everywhere(value(&schedule));
            let wrapped = Object::new(
                meta("dev-etcd-backup", Some("ws-shop-clusters"), &labels()),
                schedule,
                &ProviderConfig::Platform("management-cluster".into()),
                Readiness::DeriveFromCelQuery(ENABLED_QUERY.into()),
            );
            schema::assert_valid(&value(wrapped));
        }
    }
}

#[test]
fn dns_endpoint_with_a_and_cname_records() {
    use function_sco::resources::external_dns::{DnsEndpoint, Endpoint};
    let endpoint = DnsEndpoint::new(
        meta("dev-dns", Some("ws-shop-clusters"), &labels()),
        vec![
            Endpoint::a(
                "api.dev.example.com",
                &strings(&["192.0.2.10"]),
                std::num::NonZeroU32::new(300),
            ),
            Endpoint::cname("*.apps.dev.example.com", "apps-lb.example.net", None),
        ],
    );
    assert_valid_everywhere(value(endpoint));
}

#[test]
fn certificate_with_every_option_set() {
    use function_sco::resources::cert_manager::{
        Certificate, CertificateSpec, IssuerKind, IssuerRef, KeyAlgorithm, PrivateKey,
        RotationPolicy,
    };
    for (kind, private_key) in [
        (
            IssuerKind::ClusterIssuer,
            Some(PrivateKey {
                algorithm: KeyAlgorithm::Rsa,
                size: Some(4096),
                rotation_policy: RotationPolicy::Always,
            }),
        ),
        (IssuerKind::Issuer, None),
    ] {
        let certificate = Certificate::new(
            meta("dev-api", Some("ws-shop-clusters"), &labels()),
            CertificateSpec {
                secret_name: "dev-api-tls".into(),
                dns_names: strings(&["api.dev.example.com"]),
                issuer_ref: IssuerRef::cert_manager(kind, "letsencrypt"),
                duration: Some("2160h".into()),
                renew_before: Some("720h".into()),
                private_key,
            },
        );
        assert_valid_everywhere(value(certificate));
    }
}

#[test]
fn helm_releases_and_provider_configs_in_both_flavours() {
    use function_sco::resources::helm::{
        Chart, ProviderConfig as HelmProviderConfig, ProviderConfigKind, Release, ReleaseParameters,
    };
    for namespace in [None, Some("ws-shop-clusters")] {
        let release = Release::new(
            meta("dev-argocd", namespace, &labels()),
            ReleaseParameters {
                chart: Chart {
                    name: "argo-cd".into(),
                    repository: "https://argoproj.github.io/argo-helm".into(),
                    version: "8.1.2".into(),
                },
                namespace: "argocd".into(),
                values: json!({"configs": {"params": {"server.insecure": true}}}),
                skip_create_namespace: true,
                wait: true,
            },
            &ProviderConfig::Composed("dev-helm".into()),
        );
        schema::assert_valid(&value(release));
        for kind in [
            ProviderConfigKind::ProviderConfig,
            ProviderConfigKind::ClusterProviderConfig,
        ] {
            let config = HelmProviderConfig::kubeconfig(
                kind,
                meta("dev-helm", namespace, &labels()),
                "ws-shop-clusters",
                "dev-admin-kubeconfig",
                "kubeconfig",
            );
            schema::assert_valid(&value(config));
        }
    }
}

#[test]
fn the_schedule_schema_has_no_preserve_node_ports() {
    use function_sco::resources::velero::{HostedClusterBackup, Platform, Schedule, VolumeBackup};
    let mut schedule = value(Schedule::hosted_cluster(
        meta("dev-etcd-backup", Some("openshift-adp"), &labels()),
        &HostedClusterBackup {
            hosted_cluster_namespace: "ws-shop-clusters".into(),
            hosted_cluster_name: "dev".into(),
            platform: Platform::KubeVirt,
            storage_location: "default".into(),
            schedule: "0 */6 * * *".into(),
            ttl: "168h0m0s".into(),
            volumes: VolumeBackup::CsiSnapshotMoveData,
        },
    ));
    // The DR guide's KubeVirt Backup sets it, but it is a Restore field (velero.rs docs).
    schedule["spec"]["template"]["preserveNodePorts"] = json!(true);
    let errors = schema::validate(&schedule).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("/spec/template/preserveNodePorts: unknown field")),
        "{errors:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// HyperShift: the HostedCluster and NodePool of an OpenShiftCluster.

mod hypershift_builders {
    use super::*;
    use function_sco::resources::hypershift::{
        ApiServerConfiguration, ApiServerNetworking, AvailabilityPolicy, Configuration, Dns, Etcd,
        HostedCluster, HostedClusterSpec, HostedPlatform, IdentityProvider, KubevirtNode, LocalRef,
        Management, NamedCertificate, NetworkEntry, Networking, NodePool, NodePoolPlatform,
        NodePoolSpec, OAuth, OpenIdProvider, Publishing, Release, SecretEncryption, ServiceKind,
        ServicePublishing, ServingCerts, UpgradeType,
    };

    fn entry(cidr: &str, host_prefix: Option<u8>) -> NetworkEntry {
        NetworkEntry {
            cidr: cidr.into(),
            host_prefix,
        }
    }

    fn hosted_cluster(platform: HostedPlatform, private: bool) -> Value {
        let services = ServiceKind::ALL
            .into_iter()
            .map(|service| ServicePublishing {
                service,
                service_publishing_strategy: match (private, service) {
                    (true, _) => Publishing::NodePort {
                        address: "10.0.0.5".into(),
                        port: None,
                    },
                    (false, ServiceKind::ApiServer) => Publishing::LoadBalancer {
                        hostname: Some("api.dev.example.com".into()),
                    },
                    (false, _) => Publishing::Route { hostname: None },
                },
            })
            .collect();
        let mut networking = Networking::ovn(
            vec![entry("10.132.0.0/14", Some(23))],
            vec![entry("172.31.0.0/16", None)],
            vec![entry("192.168.0.0/24", None)],
        );
        if private {
            networking.api_server = Some(ApiServerNetworking {
                allowed_cidr_blocks: strings(&["10.0.0.0/16"]),
            });
        }
        let spec = HostedClusterSpec {
            release: Release {
                image: "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64".into(),
            },
            pull_secret: LocalRef::to("dev-pull-secret"),
            ssh_key: Some(LocalRef::to("dev-ssh-key")),
            dns: Dns {
                base_domain: "example.com".into(),
            },
            etcd: Etcd::managed(ObservedQuantity::Text("8Gi".into()), Some("lvms-vg1")),
            networking,
            platform,
            services,
            controller_availability_policy: AvailabilityPolicy::HighlyAvailable,
            secret_encryption: SecretEncryption::aescbc("dev-etcd-encryption-key"),
            configuration: Some(Configuration {
                oauth: Some(OAuth {
                    identity_providers: vec![IdentityProvider::openid(OpenIdProvider {
                        name: "acme",
                        issuer: "https://sso.example.com/realms/acme",
                        client_id: "openshift-dev",
                        client_secret: "dev-oidc-client",
                        ca: Some("dev-oidc-ca"),
                    })],
                }),
                api_server: Some(ApiServerConfiguration {
                    serving_certs: ServingCerts {
                        named_certificates: vec![NamedCertificate {
                            names: strings(&["api.dev.custom.example.com"]),
                            serving_certificate: LocalRef::to("dev-api-tls"),
                        }],
                    },
                }),
            }),
            kube_api_server_dns_name: Some("api.dev.custom.example.com".into()),
        };
        value(HostedCluster::new(
            meta("dev", Some("ws-shop-clusters"), &labels()),
            spec,
        ))
    }

    #[test]
    fn hosted_clusters_on_every_platform_public_and_private() {
        for platform in [
            HostedPlatform::kubevirt(true, None),
            HostedPlatform::kubevirt(false, Some("a1b2c3d4e5".into())),
            HostedPlatform::agent("hardware"),
            HostedPlatform::none(),
        ] {
            for private in [false, true] {
                let hc = hosted_cluster(platform.clone(), private);
                assert_valid_everywhere(hc.clone());
                assert_eq!(hc["spec"]["services"].as_array().unwrap().len(), 4);
            }
        }
    }

    #[test]
    fn the_validator_refuses_a_strategy_field_the_schema_lacks() {
        let mut hc = hosted_cluster(HostedPlatform::kubevirt(true, None), false);
        hc["spec"]["services"][0]["servicePublishingStrategy"]["private"] = json!(true);
        let errors = schema::validate(&hc).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("private: unknown field")),
            "{errors:?}"
        );
    }

    #[test]
    fn node_pools_on_every_platform() {
        for (platform, upgrade_type) in [
            (
                NodePoolPlatform::kubevirt(KubevirtNode {
                    cores: 4,
                    memory: "16Gi",
                    root_volume: "64Gi",
                    storage_class: Some("lvms-vg1"),
                }),
                UpgradeType::Replace,
            ),
            (
                NodePoolPlatform::agent(BTreeMap::from([("size".to_owned(), "medium".to_owned())])),
                UpgradeType::InPlace,
            ),
            (
                NodePoolPlatform::agent(BTreeMap::new()),
                UpgradeType::InPlace,
            ),
            (NodePoolPlatform::none(), UpgradeType::InPlace),
        ] {
            let pool = NodePool::new(
                meta("dev-default", Some("ws-shop-clusters"), &labels()),
                NodePoolSpec {
                    cluster_name: "dev".into(),
                    replicas: 3,
                    release: Release {
                        image: "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64".into(),
                    },
                    management: Management { upgrade_type },
                    platform,
                },
            );
            assert_valid_everywhere(value(pool));
        }
    }
}

#[test]
fn confidential_keycloak_clients_and_ca_config_maps() {
    use function_sco::resources::SecretKeySelector;
    use function_sco::resources::config_map::ConfigMap;
    use function_sco::resources::keycloak::ConfidentialClientParameters;
    for namespace in [None, Some("ws-shop-clusters")] {
        let client = Managed::new(
            meta("dev-oidc", namespace, &labels()),
            ConfidentialClientParameters::new(
                RealmId::existing("acme"),
                "openshift-shop-dev",
                SecretKeySelector::new(
                    "ws-shop-clusters",
                    "dev-oidc-client",
                    "clientSecret",
                    namespace,
                ),
                strings(&["https://oauth.dev.example.com/oauth2callback/sco"]),
            ),
            &ProviderConfig::Platform("keycloak-provider".into()),
        );
        schema::assert_valid(&value(client));
    }
    let ca = ConfigMap::new(
        meta("dev-oidc-ca", Some("ws-shop-clusters"), &labels()),
        [(
            "ca.crt".to_owned(),
            "-----BEGIN CERTIFICATE-----\n".to_owned(),
        )],
    );
    assert_valid_everywhere(value(ca));
}
