//! VirtualMachine composition (being written).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Composition, Desired, Invalid, Observed};
use crate::config::Platform;

/// Platform settings of this composition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {}

/// The VirtualMachine composition.
pub struct VirtualMachine;

impl Composition for VirtualMachine {
    const NAME: &'static str = "VirtualMachine";
    const API_VERSION: &'static str = "compute.cloud.stakater.com/v1";
    const KIND: &'static str = "VirtualMachine";
    type Xr = Value;
    fn render(_: &Value, _: &Observed<'_>, _: &Platform) -> Result<Desired, Invalid> {
        Err(Invalid::field("(root)", "not implemented yet"))
    }
    fn definition() -> Value {
        Value::Null
    }
}
