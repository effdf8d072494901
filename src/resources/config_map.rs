//! ConfigMaps as the compositions compose them: metadata and string data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Meta;

/// A core/v1 ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    api_version: &'static str,
    kind: &'static str,
    /// metadata.
    pub metadata: Meta,
    /// data.
    pub data: BTreeMap<String, String>,
}

impl ConfigMap {
    /// A ConfigMap holding `data`.
    pub fn new(metadata: Meta, data: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            api_version: "v1",
            kind: "ConfigMap",
            metadata,
            data: data.into_iter().collect(),
        }
    }
}

referable! {
    impl for ConfigMap;
}
