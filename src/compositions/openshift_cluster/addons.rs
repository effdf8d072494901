//! The OpenShiftCluster's add-ons, each behind platform settings (the module doc of
//! [`super`] says what each composes and why): the etcd backup Schedule, the API server's
//! cert-manager Certificate, the KubeVirt apps ingress Service, the external-dns records and
//! the bootstrap Helm releases.

use super::*;

impl Cluster<'_> {
    /// Whether any add-on resource was composed.
    pub(super) fn has_addons(&self, build: &Build<'_, Part>) -> bool {
        [
            names::BACKUP,
            names::DNS,
            names::API_CERTIFICATE,
            names::INGRESS_SERVICE,
            names::GUEST_ROUTER,
            names::HELM_PROVIDER_CONFIG,
        ]
        .iter()
        .any(|n| build.composed(n))
    }

    /// The custom API server name `api.<clusterName>.<baseDomain>`, when the platform has a
    /// base domain and a TLS issuer, the version supports it (4.19 and later) and the cluster
    /// is public, so that the name is published ([`Self::dns`]). HyperShift makes it the
    /// guest's API server URL (`support/globalconfig/infrastructure.go`: `APIServerURL` from
    /// `KubeAPIServerDNSName`), so a name nobody publishes would leave the guest and its
    /// kubeconfig pointing nowhere; and only with it does the API server serve a certificate
    /// for that name, so without it no record is written either.
    pub(super) fn api_dns_name(&self) -> Option<String> {
        let base = self.immutable.published_base_domain();
        (self.settings.tls.is_some()
            && !base.is_empty()
            && self.params.version != Version::V4_18
            && self.params.networking.mode != Mode::Private)
            .then(|| format!("api.{}.{base}", self.names.hosted_cluster))
    }

    pub(super) fn api_tls_secret(&self) -> String {
        names::object(&self.names.hosted_cluster, "api-tls")
    }

    /// The add-ons the platform enables: etcd backup, DNS (with the KubeVirt ingress
    /// LoadBalancer), the API server certificate, and bootstrap releases.
    pub(super) fn addons(
        &self,
        build: &mut Build<'_, Part>,
        observed: &ObservedHostedCluster,
        hosted_cluster: &HostedCluster,
        default_pool: Option<&NodePool>,
    ) {
        self.backup(build);
        self.certificate(build);
        let apps = self.kubevirt_ingress(build, observed);
        self.dns(build, observed, apps);
        self.bootstrap(build, observed, hosted_cluster, default_pool);
    }

    /// The Velero Schedule in OADP's namespace (an Object: a namespaced XR composes into its
    /// own namespace only), as HyperShift's disaster-recovery guide has it for the platform.
    pub(super) fn backup(&self, build: &mut Build<'_, Part>) {
        let Some(backup) = &self.settings.backup else {
            return;
        };
        let platform = match (
            &self.immutable.platform.type_,
            &self.immutable.platform.agent,
        ) {
            (PlatformType::KubeVirt, _) => velero::Platform::KubeVirt,
            (PlatformType::Agent, agent) => velero::Platform::Agent {
                agent_namespace: agent
                    .as_ref()
                    .map(|a| a.agent_namespace.clone())
                    .unwrap_or_default(),
            },
            (PlatformType::None, _) => velero::Platform::None,
        };
        // Backups are named `<schedule>-<14-digit timestamp>`: leave them room in a label.
        let name = crate::sdk::resource::child_name(
            &[&self.namespace, &self.names.hosted_cluster],
            DNS_LABEL_MAX - 15,
        );
        let schedule = velero::Schedule::hosted_cluster(
            resources::meta(&name, Some(&backup.namespace), &self.labels()),
            &velero::HostedClusterBackup {
                hosted_cluster_namespace: self.namespace.clone(),
                hosted_cluster_name: self.names.hosted_cluster.clone(),
                platform,
                storage_location: backup.storage_location.clone(),
                schedule: backup.schedule.clone(),
                ttl: backup.ttl.clone(),
                volumes: match backup.volumes {
                    VolumeBackupMode::CsiSnapshot => velero::VolumeBackup::CsiSnapshotMoveData,
                    VolumeBackupMode::FileSystem => velero::VolumeBackup::FileSystem,
                },
            },
        );
        let object = Object::new(
            self.meta(&names::object(&self.names.hosted_cluster, "etcd-backup")),
            schedule,
            &ProviderConfig::Platform(self.platform.provider_configs.kubernetes.clone()),
            Readiness::DeriveFromCelQuery(velero::ENABLED_QUERY.to_owned()),
        );
        build.add_managed(names::BACKUP, Part::Addons, &object);
        self.warn_of_backup_siblings(build);
    }

    /// HyperShift's OADP plugin (the releases that pause clusters; its newest code does not)
    /// pauses every HostedCluster in a backup's namespaces while the
    /// backup runs (`openshift/hypershift-oadp-plugin` `pkg/core/backup.go` `Execute` calls
    /// `common.UpdateHostedCluster(..., backup.Spec.IncludedNamespaces)`, which sets
    /// `spec.pausedUntil` on each HostedCluster it lists there, and their NodePools), and the
    /// backup holds their objects too: its disaster-recovery guide assumes one HostedCluster
    /// per namespace, and a project's clusters share one. The function cannot back one up
    /// alone, so it says so when others share the namespace. Some of those releases unpause
    /// only once their count of the namespace's PodVolumeBackups matches, which file-system
    /// backups never make it do (`pkg/common/utils.go` `CheckPodVolumeBackup`): the warning
    /// about a paused cluster ([`ObservedHostedCluster::paused`]) covers that.
    fn warn_of_backup_siblings(&self, build: &mut Build<'_, Part>) {
        // Every HostedCluster an OpenShiftCluster of this namespace composed carries its kind
        // and namespace labels.
        let labels = self.labels();
        let selector = [conventions::LABEL_XR_KIND, conventions::LABEL_XR_NAMESPACE]
            .into_iter()
            .filter_map(|key| Some((key.to_owned(), labels.get(key)?.to_owned())))
            .collect();
        build.require(
            names::NAMESPACE_HOSTED_CLUSTERS_REQUIREMENT,
            Requirement {
                api_version: crate::resources::hypershift::API_VERSION.into(),
                kind: "HostedCluster".into(),
                matching: Match::Labels(selector),
                namespace: Some(self.namespace.clone()),
            },
        );
        let mut others: Vec<&str> = build
            .required(names::NAMESPACE_HOSTED_CLUSTERS_REQUIREMENT)
            .unwrap_or_default()
            .iter()
            .filter(|hc| {
                hc.pointer("/metadata/namespace").and_then(Value::as_str) == Some(&self.namespace)
            })
            .filter_map(|hc| hc.pointer("/metadata/name").and_then(Value::as_str))
            .filter(|name| *name != self.names.hosted_cluster)
            .collect();
        others.sort_unstable();
        others.dedup();
        if !others.is_empty() {
            build.warn(format!(
                "the etcd backup of this cluster includes namespace {}, which also holds HostedCluster {}: HyperShift's OADP plugin pauses every HostedCluster there while a backup runs, and each backup holds their objects too; restore with care",
                self.namespace,
                others.join(", ")
            ));
        }
    }

    /// The cert-manager Certificate of the custom API server name (skipped with a Warning
    /// on 4.18, where HyperShift ignores `kubeAPIServerDNSName`).
    pub(super) fn certificate(&self, build: &mut Build<'_, Part>) {
        let Some(tls) = &self.settings.tls else {
            return;
        };
        if self.immutable.published_base_domain().is_empty() {
            return;
        }
        if self.params.version == Version::V4_18 {
            build.warn(format!(
                "no certificate for a custom API server name on cluster {}: HyperShift supports kubeAPIServerDNSName from OpenShift 4.19, and this cluster runs 4.18; the API server keeps its default certificate",
                self.names.hosted_cluster
            ));
            return;
        }
        let Some(name) = self.api_dns_name() else {
            return;
        };
        let certificate = Certificate::new(
            self.meta(&names::object(&self.names.hosted_cluster, "api")),
            CertificateSpec {
                secret_name: self.api_tls_secret(),
                dns_names: vec![name],
                issuer_ref: IssuerRef::cert_manager(
                    match tls.issuer_kind {
                        IssuerKindSetting::ClusterIssuer => IssuerKind::ClusterIssuer,
                        IssuerKindSetting::Issuer => IssuerKind::Issuer,
                    },
                    &tls.issuer,
                ),
                duration: None,
                renew_before: None,
                private_key: None,
            },
        );
        build.add(
            names::API_CERTIFICATE,
            Part::Addons,
            &certificate,
            certificate_issued(build),
        );
    }

    /// On KubeVirt with a base domain, the guest's apps domain `*.apps.<cluster>.<base>` is
    /// only reachable through a LoadBalancer Service in the control plane's namespace that
    /// forwards to the guest router's node ports (HyperShift's KubeVirt ingress guide): read
    /// those from the guest (an observe-only Object), then compose the Service (an Object in
    /// the control plane's namespace). Returns its address once it has one.
    pub(super) fn kubevirt_ingress(
        &self,
        build: &mut Build<'_, Part>,
        observed: &ObservedHostedCluster,
    ) -> Option<Address> {
        if self.immutable.platform.type_ != PlatformType::KubeVirt
            || self.immutable.published_base_domain().is_empty()
            || self.params.networking.mode == Mode::Private
            || !available_or_kept(build, observed, [names::GUEST_ROUTER])
            || !build.exists(names::PROVIDER_CONFIG)
        {
            return None;
        }
        let guest = Object::new(
            self.meta(&names::object(&self.names.hosted_cluster, "guest-router")),
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": GUEST_ROUTER_SERVICE, "namespace": "openshift-ingress"},
            }),
            &ProviderConfig::Composed(self.names.provider_config.clone()),
            Readiness::SuccessfulCreate,
        )
        .observe_only();
        let router = build
            .read::<pk::Observed<ObservedService>>(names::GUEST_ROUTER)
            .and_then(pk::Observed::manifest);
        let ports = router
            .as_ref()
            .and_then(|r| Some((r.node_port("http")?, r.node_port("https")?)));
        build.add(names::GUEST_ROUTER, Part::Addons, &guest, ports.is_some());
        let Some((http, https)) = ports else {
            build.wait(
                "WaitingForGuestRouter",
                format!(
                    "the node ports of Service openshift-ingress/{GUEST_ROUTER_SERVICE} on cluster {} are not observed yet; the apps LoadBalancer forwards to them",
                    self.names.hosted_cluster
                ),
            );
            return None;
        };
        let service_name = names::object(&self.names.hosted_cluster, "apps");
        let service = Service::new(
            resources::meta(
                &service_name,
                Some(&self.names.control_plane_namespace),
                &self.labels(),
            ),
            ServiceType::LoadBalancer,
            ("kubevirt.io", "virt-launcher"),
            vec![
                ServicePort::tcp_to("https-443", 443, https),
                ServicePort::tcp_to("http-80", 80, http),
            ],
        );
        let object = Object::new(
            self.meta(&names::object(&self.names.hosted_cluster, "apps-ingress")),
            service,
            &ProviderConfig::Platform(self.platform.provider_configs.kubernetes.clone()),
            Readiness::SuccessfulCreate,
        );
        let address = build
            .read::<pk::Observed<ObservedService>>(names::INGRESS_SERVICE)
            .and_then(pk::Observed::manifest)
            .and_then(|s| s.load_balancer());
        build.add(
            names::INGRESS_SERVICE,
            Part::Addons,
            &object,
            address.is_some(),
        );
        address
    }

    /// external-dns records for the names under the base domain, once their addresses are
    /// observed: `api.<cluster>.<base>` (the control plane endpoint) and, on KubeVirt,
    /// `*.apps.<cluster>.<base>` (the ingress LoadBalancer). None for private clusters, which
    /// publish no hostname.
    pub(super) fn dns(
        &self,
        build: &mut Build<'_, Part>,
        observed: &ObservedHostedCluster,
        apps: Option<Address>,
    ) {
        let base = self.immutable.published_base_domain();
        if base.is_empty() || self.params.networking.mode == Mode::Private {
            return;
        }
        let ttl = self.settings.dns.record_ttl.and_then(NonZeroU32::new);
        let cluster = &self.names.hosted_cluster;
        let record = |name: &str, host: &str| {
            if host.parse::<std::net::IpAddr>().is_ok() {
                Endpoint::a(name, &[host.to_owned()], ttl)
            } else {
                Endpoint::cname(name, host, ttl)
            }
        };
        let mut endpoints = Vec::new();
        if let (Some(name), Some(endpoint)) = (self.api_dns_name(), observed.endpoint()) {
            endpoints.push(record(&name, &endpoint.host));
        }
        if let Some(apps) = &apps {
            endpoints.push(record(&format!("*.apps.{cluster}.{base}"), apps.host()));
        }
        if endpoints.is_empty() {
            return;
        }
        let dns = DnsEndpoint::new(self.meta(&names::object(cluster, "dns")), endpoints);
        let ready = build
            .read::<ObservedDnsEndpoint>(names::DNS)
            .is_some_and(|d| d.is_accepted());
        build.add(names::DNS, Part::Addons, &dns, ready);
    }

    /// With `bootstrap.enabled`, once the cluster is available (and kept from then on): a
    /// provider-helm ProviderConfig on the admin kubeconfig, the platform's namespaces
    /// (Objects through the cluster's provider config) and Helm releases.
    pub(super) fn bootstrap(
        &self,
        build: &mut Build<'_, Part>,
        observed: &ObservedHostedCluster,
        hosted_cluster: &HostedCluster,
        default_pool: Option<&NodePool>,
    ) {
        if !self.params.bootstrap.enabled {
            return;
        }
        let Some(kubeconfig) = observed
            .kubeconfig_secret()
            .filter(|_| available_or_kept(build, observed, [names::HELM_PROVIDER_CONFIG]))
        else {
            return;
        };
        let helm_pc = helm::ProviderConfig::kubeconfig(
            helm::ProviderConfigKind::ProviderConfig,
            self.meta(&names::object(&self.names.hosted_cluster, "helm")),
            &self.namespace,
            kubeconfig,
            hypershift::KUBECONFIG_KEY,
        );
        build.add_existing(names::HELM_PROVIDER_CONFIG, Part::Addons, &helm_pc);
        self.usage(
            build,
            names::USAGE_HOSTED_CLUSTER_BY_HELM_PROVIDER_CONFIG,
            hosted_cluster,
            &helm_pc,
        );
        if !(build.exists(names::HELM_PROVIDER_CONFIG) && build.exists(names::PROVIDER_CONFIG)) {
            build.wait(
                "WaitingForProviderConfig",
                format!(
                    "the provider configs on cluster {}'s admin kubeconfig do not exist yet; the bootstrap releases follow",
                    self.names.hosted_cluster
                ),
            );
            return;
        }
        let pc = ProviderConfig::Composed(self.names.provider_config.clone());
        let kubernetes_pc = pk::ProviderConfig::kubeconfig(
            self.meta(&self.names.provider_config),
            &self.namespace,
            kubeconfig,
            hypershift::KUBECONFIG_KEY,
        );
        let mut namespaces = std::collections::BTreeMap::new();
        for namespace in &self.settings.bootstrap.namespaces {
            let manifest = serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace},
            });
            let composed = names::namespace(namespace);
            let object = self.in_cluster(
                build,
                &composed,
                manifest,
                &pc,
                hosted_cluster,
                &kubernetes_pc,
            );
            self.kept_by_nodes(build, &composed, default_pool, &object);
            namespaces.insert(namespace.as_str(), (composed, object));
        }
        // Charts installed with `wait` need nodes to run their pods: installed before the
        // nodes join, a release fails its wait, and provider-helm gives up after
        // `rollbackLimit` retries ("Reached max rollback retries"). So the releases wait for
        // the default pool's nodes, and once installed they are kept whatever the nodes do.
        // A cluster without a default pool has no nodes this composition can see (an
        // OpenShiftNodePool's join out of its sight): its releases wait until it has one.
        let nodes_joined = default_pool.is_some() && build.part_ready(Part::Nodes);
        let helm = ProviderConfig::Composed(helm_pc.metadata.name.clone());
        for chart in &self.settings.bootstrap.releases {
            let composed = names::release(&chart.name);
            if !nodes_joined && !build.exists(&composed) {
                let message = if default_pool.is_some() {
                    format!(
                        "the bootstrap releases are installed once NodePool {}'s nodes have joined: their pods need nodes",
                        self.names.node_pool
                    )
                } else {
                    "the bootstrap releases wait for the default node pool's nodes, and defaultNodepool is disabled: enable it, or disable bootstrap and install the charts once an OpenShiftNodePool's nodes have joined".to_owned()
                };
                build.wait("WaitingForNodes", message);
                continue;
            }
            // An installed release stays in its namespace (see `ObservedRelease::namespace`).
            let observed = build.read::<helm::ObservedRelease>(&composed);
            let namespace = match observed.as_ref().and_then(helm::ObservedRelease::namespace) {
                Some(installed) if installed != chart.namespace => {
                    build.warn(format!(
                        "bootstrap release {} stays in namespace {installed}, where it is installed: Helm would install it anew in {} beside the old one; uninstall it there first",
                        chart.name, chart.namespace
                    ));
                    installed.to_owned()
                }
                _ => chart.namespace.clone(),
            };
            let release = helm::Release::new(
                self.meta(&names::release_object(
                    &self.names.hosted_cluster,
                    &chart.name,
                )),
                helm::ReleaseParameters {
                    chart: helm::Chart {
                        name: chart.chart.clone(),
                        repository: chart.repository.clone(),
                        version: chart.version.clone(),
                    },
                    namespace,
                    values: serde_json::Value::Object(chart.values.clone()),
                    skip_create_namespace: false,
                    wait: true,
                },
                &helm,
            );
            if let Some(why) = observed.as_ref().and_then(helm::ObservedRelease::failure) {
                build.warn(format!(
                    "bootstrap release {} failed in Helm ({why}): provider-helm rolls it back and retries up to its rollback limit, then stops; once it has, fix the cause and delete Release {} to have it installed anew",
                    chart.name,
                    release.metadata.name
                ));
            }
            let ready = observed.is_some_and(|r| r.is_ready());
            build.add(&composed, Part::Addons, &release, ready);
            self.usage(
                build,
                &names::usage(names::HOSTED_CLUSTER, &composed),
                hosted_cluster,
                &release,
            );
            self.usage(
                build,
                &names::usage("helm-provider-config", &composed),
                &helm_pc,
                &release,
            );
            self.kept_by_nodes(build, &composed, default_pool, &release);
            // A release into a namespace the platform also creates: provider-helm's own
            // `createNamespace` (before the install) takes an existing one and its uninstall
            // never deletes it, so the namespace is the Object's,
            // and it must outlive the release (an uninstall runs its hooks as pods in it, and
            // a terminating namespace admits none).
            if let Some((namespace_composed, namespace_object)) =
                namespaces.get(release.spec.for_provider.namespace.as_str())
            {
                self.usage(
                    build,
                    &names::usage(namespace_composed, &composed),
                    namespace_object,
                    &release,
                );
            }
        }
    }

    /// The Usage that keeps the default NodePool until `object`, which lives in the guest
    /// cluster, is gone. Deleting a namespace needs the discovery of every API the guest
    /// serves, aggregated ones too (`metrics.k8s.io`, served by pods on the nodes), and
    /// stalls without it (`NamespaceDeletionDiscoveryFailure`); a chart's uninstall hooks run
    /// as pods. Without a default pool nothing here orders the nodes.
    fn kept_by_nodes(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        default_pool: Option<&NodePool>,
        object: &impl resources::Referable,
    ) {
        if let Some(pool) = default_pool {
            self.usage(
                build,
                &names::usage(names::DEFAULT_NODE_POOL, composed),
                pool,
                object,
            );
        }
    }
}
