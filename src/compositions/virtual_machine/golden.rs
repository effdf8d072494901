//! The root disk against its golden image: CDI refuses to clone into a smaller target.
//!
//! CDI's clone planner compares the source PVC's requested storage with the target PVC's and
//! fails with "target resources requests storage size is smaller than the source"
//! (`kubevirt/containerized-data-importer` `pkg/controller/clone/planner.go`,
//! `validateSourcePVC` → `ValidateRequestedCloneSize`); the DataVolume never becomes ready
//! and the VM never boots. Our DataVolume asks through the `storage` API, from which CDI
//! makes the target PVC: its request is `storageSize` in `Block` mode, and in `Filesystem`
//! mode `storageSize` (aligned to 1 MiB) divided by `1 - filesystemOverhead` (CDIConfig,
//! 5.5% by default: `pkg/common` `DefaultGlobalOverhead`, `GetRequiredSpace`). The target's
//! volume mode is the one the storage class's StorageProfile gives
//! (`status.claimPropertySets[0].volumeMode`; CDI names each profile after its class), so
//! the composition fetches it when the platform names `storageClass`; without it the target
//! is taken to be in the source's mode (golden images usually live on the same class). The
//! source is counted by its request (else its capacity), whatever its mode: a 30Gi image
//! imported to `Filesystem` storage sits in a PVC of about 31.75Gi, which fits a 30Gi
//! `Filesystem` disk and not a 30Gi `Block` one. A snapshot source is refused by the CSI
//! external-provisioner below its `status.restoreSize`, compared as it is. A per-class
//! overhead in CDIConfig is not read: the default is assumed.
//!
//! So the composition asks Crossplane for the flavour's DataSource
//! (`cdi.kubevirt.io/v1beta1`, requirement `golden-image`), then for what its resolved
//! `status.source` points at (a PVC or a VolumeSnapshot, requirement `golden-image-source`),
//! and the StorageProfile (`storage-profile`), and **refuses** a `storageSize` whose target
//! request is below the source's, naming the smallest size that fits. Refusing rather than
//! rounding up: `storageSize` is the user's explicit choice from a closed set, and a silently
//! larger disk would not match it. The check applies only before the VM exists: a golden
//! image that grows later (a new DataImportCron import) must not break a running VM, whose
//! disk is already cloned.

use serde_json::Value;

use super::settings::Settings;
use super::spec::StorageSize;
use crate::compositions::Observed;
use crate::sdk::response::{Match, Requirement};

/// The requirement fetching the flavour's DataSource.
pub const GOLDEN_IMAGE: &str = "golden-image";
/// The requirement fetching what the DataSource points at.
pub const GOLDEN_IMAGE_SOURCE: &str = "golden-image-source";
/// The requirement fetching the storage class's StorageProfile.
pub const STORAGE_PROFILE: &str = "storage-profile";
/// apiVersion of CDI's DataSource and StorageProfile.
const CDI_API_VERSION: &str = "cdi.kubevirt.io/v1beta1";

/// The DataSource's requirement.
pub fn data_source(settings: &Settings, name: &str) -> Requirement {
    Requirement {
        api_version: CDI_API_VERSION.into(),
        kind: "DataSource".into(),
        matching: Match::Name(name.to_owned()),
        namespace: Some(settings.golden_image_namespace.clone()),
    }
}

/// The requirement fetching the StorageProfile of the root disk's storage class, when the
/// platform names one (cluster-scoped, named after the class).
pub fn storage_profile(settings: &Settings) -> Option<Requirement> {
    Some(Requirement {
        api_version: CDI_API_VERSION.into(),
        kind: "StorageProfile".into(),
        matching: Match::Name(settings.storage_class.clone()?),
        namespace: None,
    })
}

/// Whether Crossplane answered the DataSource's requirement and found nothing: the flavour's
/// golden image does not exist. KubeVirt's VM admission fetches it to authorise the clone
/// and refuses the VM ("dataSource %s does not exist", `pkg/virt-api/webhooks/
/// validating-webhook/admitters/vms-admitter.go` through the clone authorisation).
pub fn missing(observed: &Observed<'_>) -> bool {
    observed
        .required
        .get(GOLDEN_IMAGE)
        .is_some_and(Vec::is_empty)
}

/// Whether the root disk's PVC will be in `Filesystem` mode, as the fetched StorageProfile
/// says; `None` when it is not fetched or says nothing.
pub fn target_filesystem(observed: &Observed<'_>) -> Option<bool> {
    let profile = observed.required.get(STORAGE_PROFILE)?.first()?;
    let mode = profile
        .pointer("/status/claimPropertySets/0/volumeMode")?
        .as_str()?;
    Some(mode == "Filesystem")
}

/// The requirement for what the observed DataSource resolves to, once it is known.
pub fn source(observed: &Observed<'_>) -> Option<Requirement> {
    let data_source = observed.required.get(GOLDEN_IMAGE)?.first()?;
    let resolved = data_source.pointer("/status/source")?;
    let (api_version, kind, at) = if let Some(pvc) = resolved.get("pvc") {
        ("v1", "PersistentVolumeClaim", pvc)
    } else if let Some(snapshot) = resolved.get("snapshot") {
        ("snapshot.storage.k8s.io/v1", "VolumeSnapshot", snapshot)
    } else {
        return None;
    };
    let name = at.get("name")?.as_str()?;
    let namespace = at.get("namespace").and_then(Value::as_str).or_else(|| {
        data_source
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
    })?;
    Some(Requirement {
        api_version: api_version.into(),
        kind: kind.into(),
        matching: Match::Name(name.to_owned()),
        namespace: Some(namespace.to_owned()),
    })
}

/// CDI's default filesystem overhead, in per mille (`DefaultGlobalOverhead` "0.055").
const FILESYSTEM_OVERHEAD_PER_MILLE: u128 = 55;

/// The golden image's source as CDI's clone planner counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Its size in bytes: a PVC's requested storage (else its capacity), a VolumeSnapshot's
    /// `status.restoreSize`.
    pub bytes: u128,
    /// That size as written.
    pub text: String,
    /// Whether it is a PVC in `Filesystem` mode (the API server's default mode).
    pub filesystem: bool,
}

/// The golden image's source, once it is fetched.
pub fn source_size(observed: &Observed<'_>) -> Option<Source> {
    let source = observed.required.get(GOLDEN_IMAGE_SOURCE)?.first()?;
    let text = [
        "/spec/resources/requests/storage",
        "/status/capacity/storage",
        "/status/restoreSize",
    ]
    .iter()
    .find_map(|p| source.pointer(p).and_then(Value::as_str))?;
    Some(Source {
        bytes: bytes(text)?,
        text: text.to_owned(),
        filesystem: source["kind"] == "PersistentVolumeClaim"
            && source
                .pointer("/spec/volumeMode")
                .and_then(Value::as_str)
                .is_none_or(|mode| mode == "Filesystem"),
    })
}

/// The storage CDI requests for a `capacity`-byte disk through the `storage` API: the
/// capacity in `Block` mode; in `Filesystem` mode aligned to 1 MiB and divided by
/// `1 - overhead`, rounded up (`GetRequiredSpace`).
fn requested(capacity: u128, filesystem: bool) -> u128 {
    if !filesystem {
        return capacity;
    }
    let aligned = capacity.div_ceil(1 << 20) * (1 << 20);
    (aligned * 1000).div_ceil(1000 - FILESYSTEM_OVERHEAD_PER_MILLE)
}

/// Why `size` cannot hold the golden image `source`, if it cannot. `target_filesystem` is the
/// root disk's volume mode when known ([`target_filesystem`]), else the source's.
pub fn too_small(
    settings: &Settings,
    size: StorageSize,
    source: &Source,
    target_filesystem: Option<bool>,
    image: &str,
) -> Option<String> {
    let filesystem = target_filesystem.unwrap_or(source.filesystem);
    let request = |s: StorageSize| {
        bytes(settings.storage_sizes.get(s).as_str()).map(|b| requested(b, filesystem))
    };
    if request(size)? >= source.bytes {
        return None;
    }
    let capacity = settings.storage_sizes.get(size).as_str();
    let fit = StorageSize::ALL
        .into_iter()
        .find(|s| request(*s).is_some_and(|b| b >= source.bytes));
    let fix = fit.map_or_else(
        || "no storageSize of this platform is large enough; ask the platform team".to_owned(),
        |s| format!("choose storageSize {s} or larger"),
    );
    let mode = if filesystem { "Filesystem" } else { "Block" };
    Some(format!(
        "{size} is {capacity}: a {mode}-mode disk of that size requests less storage than the golden image {image} ({}), and CDI refuses to clone into a smaller disk, so the VM would never boot; {fix}",
        source.text
    ))
}

/// A Kubernetes quantity in bytes (`30Gi`, `32212254720`, `1.5Ti`, `10G`).
pub fn bytes(text: &str) -> Option<u128> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let factor: u128 = match suffix {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "P" => 1_000_000_000_000_000,
        "E" => 1_000_000_000_000_000_000,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(factor)?;
    if !fraction.is_empty() {
        let digits: u32 = fraction.len().try_into().ok()?;
        let scale = 10u128.checked_pow(digits)?;
        let part: u128 = fraction.parse().ok()?;
        // Round a fractional byte count up: a disk must hold the whole image.
        value = value.checked_add((part * factor).div_ceil(scale))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filesystem_disk_requests_its_size_and_the_overhead() {
        let gi = 1u128 << 30;
        assert_eq!(requested(30 * gi, false), 30 * gi);
        // 30Gi / 0.945, rounded up: about 31.75Gi.
        assert_eq!(requested(30 * gi, true), (30 * gi * 1000).div_ceil(945));
        assert!(requested(30 * gi, true) > 31 * gi + 7 * (gi / 10));
        // Aligned to 1 MiB first.
        assert_eq!(requested(1, true), ((1 << 20) * 1000u128).div_ceil(945));
    }

    #[test]
    fn quantities_parse_to_bytes() {
        assert_eq!(bytes("30Gi"), Some(30 << 30));
        assert_eq!(bytes("32212254720"), Some(32_212_254_720));
        assert_eq!(bytes("1.5Ti"), Some(3 << 39));
        assert_eq!(bytes("10G"), Some(10_000_000_000));
        assert_eq!(bytes("Gi"), None);
        assert_eq!(bytes("3x"), None);
    }
}
