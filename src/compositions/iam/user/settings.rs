//! The User's own platform settings (`user` in the platform settings).
//!
//! Everything a User reads that other compositions read too (Keycloak, the KCP root
//! workspace, the provider configs) is shared: see [`crate::compositions::platform`].

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// Platform settings only the User composition reads. None yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {}

/// An object without properties: the function refuses unknown keys when it decodes the
/// settings; a structural schema cannot say `additionalProperties: false`.
impl JsonSchema for Settings {
    fn schema_name() -> Cow<'static, str> {
        "UserSettings".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Platform settings only the IAM User composition reads: none yet; it reads the shared Keycloak settings.",
            "type": "object",
        })
    }
}
