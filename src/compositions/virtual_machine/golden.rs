//! The root disk against its golden image: CDI refuses to clone into a smaller target.
//!
//! CDI's clone planner compares the usable space of source and target PVC and fails with
//! "target resources requests storage size is smaller than the source"
//! (`kubevirt/containerized-data-importer` `pkg/controller/clone/planner.go`,
//! `validateClone`/`getUsableSpace`); the DataVolume never becomes ready and the VM never
//! boots. A PVC's usable space is its requested storage, less CDI's filesystem overhead in
//! `Filesystem` volume mode (CDIConfig `filesystemOverhead`, 5.5% by default:
//! `pkg/common` `DefaultGlobalOverhead`). Our DataVolume asks through the `storage` API, for
//! which CDI adds that overhead to the request, so the target's usable space is the
//! `storageSize` capacity; a `Filesystem` source (a DataImportCron import on NFS, CephFS,
//! hostpath) is compared by its request less the default overhead, since a 30Gi image is
//! stored in a PVC of about 31.75Gi there. A snapshot source is refused by the CSI
//! external-provisioner below its `status.restoreSize`, compared as it is.
//!
//! So the composition asks Crossplane for the flavour's DataSource
//! (`cdi.kubevirt.io/v1beta1`, requirement `golden-image`), then for what its resolved
//! `status.source` points at (a PVC or a VolumeSnapshot, requirement `golden-image-source`),
//! and **refuses** a `storageSize` whose capacity is below the source's size, naming the
//! smallest size that fits. Refusing rather than rounding up: `storageSize` is the user's
//! explicit choice from a closed set, and a silently larger disk would not match it. The
//! check applies only before the VM exists: a golden image that grows later (a new
//! DataImportCron import) must not break a running VM, whose disk is already cloned.

use serde_json::Value;

use super::settings::Settings;
use super::spec::StorageSize;
use crate::compositions::Observed;
use crate::sdk::response::{Match, Requirement};

/// The requirement fetching the flavour's DataSource.
pub const GOLDEN_IMAGE: &str = "golden-image";
/// The requirement fetching what the DataSource points at.
pub const GOLDEN_IMAGE_SOURCE: &str = "golden-image-source";

/// The DataSource's requirement.
pub fn data_source(settings: &Settings, name: &str) -> Requirement {
    Requirement {
        api_version: "cdi.kubevirt.io/v1beta1".into(),
        kind: "DataSource".into(),
        matching: Match::Name(name.to_owned()),
        namespace: Some(settings.golden_image_namespace.clone()),
    }
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

/// The golden image's size in bytes, once its source is fetched, as CDI's clone planner counts
/// it, and how it was read: a PVC's requested storage (else its capacity), less the filesystem
/// overhead in `Filesystem` mode (the API server's default mode); a VolumeSnapshot's
/// `status.restoreSize`.
pub fn source_size(observed: &Observed<'_>) -> Option<(u128, String)> {
    let source = observed.required.get(GOLDEN_IMAGE_SOURCE)?.first()?;
    let text = [
        "/spec/resources/requests/storage",
        "/status/capacity/storage",
        "/status/restoreSize",
    ]
    .iter()
    .find_map(|p| source.pointer(p).and_then(Value::as_str))?;
    let size = bytes(text)?;
    let filesystem = source["kind"] == "PersistentVolumeClaim"
        && source
            .pointer("/spec/volumeMode")
            .and_then(Value::as_str)
            .is_none_or(|mode| mode == "Filesystem");
    if filesystem {
        let usable = size * (1000 - FILESYSTEM_OVERHEAD_PER_MILLE) / 1000;
        Some((
            usable,
            format!("{text}, {usable} bytes usable in Filesystem mode"),
        ))
    } else {
        Some((size, text.to_owned()))
    }
}

/// Why `size` cannot hold the golden image of `source_size` bytes, if it cannot.
pub fn too_small(
    settings: &Settings,
    size: StorageSize,
    (source_bytes, source_text): &(u128, String),
    image: &str,
) -> Option<String> {
    let capacity = settings.storage_sizes.get(size).as_str();
    if bytes(capacity)? >= *source_bytes {
        return None;
    }
    let fit = StorageSize::ALL.into_iter().find(|s| {
        bytes(settings.storage_sizes.get(*s).as_str()).is_some_and(|b| b >= *source_bytes)
    });
    let fix = fit.map_or_else(
        || "no storageSize of this platform is large enough; ask the platform team".to_owned(),
        |s| format!("choose storageSize {s} or larger"),
    );
    Some(format!(
        "{size} is {capacity}, smaller than the golden image {image} ({source_text}): CDI refuses to clone into a smaller disk and the VM would never boot; {fix}"
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
    fn quantities_parse_to_bytes() {
        assert_eq!(bytes("30Gi"), Some(30 << 30));
        assert_eq!(bytes("32212254720"), Some(32_212_254_720));
        assert_eq!(bytes("1.5Ti"), Some(3 << 39));
        assert_eq!(bytes("10G"), Some(10_000_000_000));
        assert_eq!(bytes("Gi"), None);
        assert_eq!(bytes("3x"), None);
    }
}
