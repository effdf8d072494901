//! The Organisation's own platform settings (`organisation` in the platform settings).
//!
//! Everything an Organisation reads that other compositions read too (KCP, Keycloak, token
//! validation, the secret namespace) is shared: see [`crate::compositions::platform`].

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// Platform settings only the Organisation composition reads. None yet: every setting it
/// reads is shared with the compositions that work inside an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {}

/// An object without properties. The function refuses unknown keys when it decodes the
/// settings; the schema leaves them to the API server's pruning, as a structural schema
/// cannot say `additionalProperties: false`.
impl JsonSchema for Settings {
    fn schema_name() -> Cow<'static, str> {
        "OrganisationSettings".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Platform settings only the Organisation composition reads: none yet; every setting it reads is shared with the compositions that work inside an organisation.",
            "type": "object",
        })
    }
}
