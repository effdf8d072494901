//! Secrets as the compositions compose them: metadata, type and data. Each data value is
//! borrowed (or owned, when it was built) and base64-encoded as it is written, so a 64 KiB
//! cloud-init is neither copied into the builder nor encoded by a scalar engine
//! (k8s-openapi's `Secret` owns a copy of every value).

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use serde::{Deserialize, Serialize, Serializer};

use super::Meta;

/// A core/v1 Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret<'a> {
    api_version: &'static str,
    kind: &'static str,
    /// metadata.
    pub metadata: Meta,
    /// `type` (`Opaque` when unset).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<&'static str>,
    /// data: keys and their values, unencoded.
    pub data: BTreeMap<String, Base64<'a>>,
}

impl<'a> Secret<'a> {
    /// A Secret holding `data`.
    pub fn new(metadata: Meta, data: impl IntoIterator<Item = (String, Base64<'a>)>) -> Self {
        Self {
            api_version: "v1",
            kind: "Secret",
            metadata,
            type_: None,
            data: data.into_iter().collect(),
        }
    }

    /// The same Secret with `type: Opaque`.
    #[must_use]
    pub fn opaque(mut self) -> Self {
        self.type_ = Some("Opaque");
        self
    }
}

referable! {
    impl for Secret<'_>;
}

/// What a composition reads of an observed Secret: its data, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedSecret {
    /// data.
    #[cfg_attr(test, schemars(with = "Option<BTreeMap<String, String>>"))]
    pub data: Option<BTreeMap<String, ByteString>>,
}

/// Bytes written as standard base64 with padding, as Kubernetes writes `[]byte` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64<'a>(pub Cow<'a, [u8]>);

impl<'a> From<&'a str> for Base64<'a> {
    fn from(text: &'a str) -> Self {
        Self(Cow::Borrowed(text.as_bytes()))
    }
}

impl From<String> for Base64<'_> {
    fn from(text: String) -> Self {
        Self(Cow::Owned(text.into_bytes()))
    }
}

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64_simd::STANDARD.encode_to_string(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;

    #[test]
    fn it_writes_what_k8s_openapi_writes() {
        let metadata = Meta {
            name: "s".into(),
            ..Meta::default()
        };
        // Every length modulo 3, and bytes that are not text.
        let values: Vec<Vec<u8>> = (0..70u8)
            .map(|n| (0..n).map(|i| i.wrapping_mul(37)).collect())
            .collect();
        let ours = Secret::new(
            metadata.clone(),
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("k{i:02}"), Base64(Cow::Borrowed(v.as_slice())))),
        );
        let theirs = k8s_openapi::api::core::v1::Secret {
            metadata: metadata.into(),
            data: Some(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("k{i:02}"), ByteString(v.clone())))
                    .collect(),
            ),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&ours).unwrap(),
            serde_json::to_value(&theirs).unwrap()
        );
        assert_eq!(
            serde_json::to_value(Base64::from("hello")).unwrap(),
            json!(base64::engine::general_purpose::STANDARD.encode("hello"))
        );
    }

    #[test]
    fn opaque_sets_the_type() {
        let secret = Secret::new(Meta::default(), []).opaque();
        let written = serde_json::to_value(&secret).unwrap();
        assert_eq!(written["type"], "Opaque");
        assert_eq!(written["kind"], "Secret");
        assert_eq!(written["apiVersion"], "v1");
    }
}
