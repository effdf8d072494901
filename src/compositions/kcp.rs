//! Reaching a KCP workspace a composition created: once the workspace is observed with a URL,
//! a kubeconfig Secret pointing at it (the KCP admin kubeconfig's credentials, fetched by
//! Crossplane as a required resource) and a provider-kubernetes ProviderConfig reading that
//! Secret, so that later resources can be created inside the workspace. The Organisation
//! composition does this for organisation workspaces; the Project composition for project
//! workspaces.
//!
//! Once written, the Secret is kept with its observed data when the admin kubeconfig goes
//! away or breaks, so that a rotation never deletes a workspace's provider config.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::ByteString;

use super::build::Build;
use super::platform::Platform;
use crate::resources::kcp::ObservedWorkspace;
use crate::resources::kubeconfig::Kubeconfig;
use crate::resources::provider_kubernetes as pk;
use crate::resources::secret::{Base64, ObservedSecret, Secret};
use crate::resources::{Meta, Referable};
use crate::sdk::response::Requirement;

/// The requirement under which Crossplane fetches the KCP admin kubeconfig Secret.
pub const ADMIN_KUBECONFIG: &str = "kcp-admin-kubeconfig";
/// The Secret key of a workspace kubeconfig.
pub const KUBECONFIG_KEY: &str = "kubeconfig";

/// Asks Crossplane for the KCP admin kubeconfig Secret the platform names.
pub fn require_admin_kubeconfig<P: Copy + Ord>(build: &mut Build<'_, P>, platform: &Platform) {
    let source = &platform.kcp.admin_kubeconfig;
    build.require(
        ADMIN_KUBECONFIG,
        Requirement::secret(&source.namespace, &source.name),
    );
}

/// A workspace to reach, and the objects that reach it.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    /// The workspace's absolute path (`root:acme`).
    pub path: &'a str,
    /// The workspace as observed (inside its provider-kubernetes Object).
    pub workspace: &'a ObservedWorkspace,
    /// Composition resource name of the kubeconfig Secret.
    pub secret_resource: &'a str,
    /// Metadata of the kubeconfig Secret.
    pub secret: Meta,
    /// Composition resource name of the ProviderConfig.
    pub provider_config_resource: &'a str,
    /// Metadata of the ProviderConfig (its namespace makes it the namespaced flavour).
    pub provider_config: Meta,
}

/// The kubeconfig Secret and ProviderConfig of `access`, added to `build` as `part`, once the
/// workspace is ready and the admin kubeconfig is there; until then `build` waits
/// (`WaitingForWorkspace`, `WaitingForKcpAdminKubeconfig`) and `None` is returned.
pub fn provider_config<P: Copy + Ord>(
    build: &mut Build<'_, P>,
    platform: &Platform,
    access: Access<'_>,
    part: P,
) -> Option<(Secret<'static>, pk::ProviderConfig)> {
    let existing = build.read::<ObservedSecret>(access.secret_resource);
    let secret_exists = build.exists(access.secret_resource);
    let path = access.path;
    let workspace = access.workspace;
    let Some(url) = workspace
        .url()
        .filter(|_| workspace.is_ready() || secret_exists)
    else {
        let state = workspace
            .phase()
            .map_or_else(|| "not created yet".to_owned(), |p| format!("in phase {p}"));
        build.wait(
            "WaitingForWorkspace",
            format!("KCP workspace {path} is {state}"),
        );
        return None;
    };
    let server = match &platform.kcp.server_url {
        Some(base) => format!("{}/clusters/{path}", base.as_str().trim_end_matches('/')),
        None => url.to_owned(),
    };
    let data = match admin_kubeconfig(build, platform)
        .and_then(|admin| admin.pointed_at(&server, path).map_err(|e| e.to_string()))
    {
        Ok(kubeconfig) => BTreeMap::from([(
            KUBECONFIG_KEY.to_owned(),
            Base64::from(kubeconfig.to_yaml()),
        )]),
        Err(why) => {
            let kept = existing.and_then(|s| {
                let kept = s.data?.into_iter();
                Some(kept.map(|(k, v)| (k, Base64(Cow::Owned(v.0)))).collect())
            });
            let message = match kept {
                Some(_) => format!("{why}; the existing kubeconfig for {path} is kept"),
                None => why,
            };
            build.wait("WaitingForKcpAdminKubeconfig", message);
            kept?
        }
    };
    let secret_namespace = access
        .secret
        .namespace
        .clone()
        .unwrap_or_else(|| platform.secret_namespace.clone());
    let secret = Secret::new(access.secret, data).opaque();
    let provider_config = pk::ProviderConfig::kubeconfig(
        access.provider_config,
        &secret_namespace,
        secret.name(),
        KUBECONFIG_KEY,
    );
    build.add_existing(access.secret_resource, part, &secret);
    build.add_existing(access.provider_config_resource, part, &provider_config);
    Some((secret, provider_config))
}

/// The KCP admin kubeconfig from the required resource, or why it is not usable (never
/// quoting its content). The Project composition reads its CA for consumer kubeconfigs.
pub fn admin_kubeconfig<P: Copy + Ord>(
    build: &Build<'_, P>,
    platform: &Platform,
) -> Result<Kubeconfig, String> {
    let source = &platform.kcp.admin_kubeconfig;
    let secret = format!("Secret {}/{}", source.namespace, source.name);
    let Some(found) = build.required(ADMIN_KUBECONFIG) else {
        return Err(format!(
            "Crossplane has not fetched the KCP admin kubeconfig ({secret}) yet"
        ));
    };
    let object = found
        .first()
        .ok_or_else(|| format!("the KCP admin kubeconfig {secret} does not exist"))?;
    let encoded = object
        .pointer(&format!("/data/{}", source.key))
        .ok_or_else(|| format!("{secret} has no key {:?}", source.key))?;
    let bytes = serde_json::from_value::<ByteString>(encoded.clone())
        .map_err(|_| format!("{secret} key {:?} is not base64", source.key))?;
    Kubeconfig::parse(&bytes.0).map_err(|e| format!("{secret} key {:?}: {e}", source.key))
}
