//! Tests only: every reader of observed state, of the resources and of each composition,
//! reads what the upstream schema of its kind declares ([`crate::resources::readers`]), and the
//! lists leave none out: each type that derives `JsonSchema` for this check only is reached from
//! a listed reader, and each JSON pointer the source reads is listed.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::resources::readers::{self, Reader};

/// Pointers the source reads that are not observed state, and why.
const NOT_OBSERVED: [(&str, &str); 1] = [(
    "/system_info/default_user/name",
    "cloud-init user data, from the XR",
)];

/// Reader types whose fields schemars writes into another's (`#[serde(flatten)]`), so that
/// they have no name of their own in its schema, and where.
const FLATTENED: [(&str, &str); 1] = [("PermissionClaim", "kcp's ExportPermissionClaim")];

/// The readers of observed state, everywhere.
fn all() -> Vec<Reader> {
    let mut all = readers::resources();
    all.extend(super::iam::group::readers());
    all.extend(super::iam::user::readers());
    all.extend(super::openshift_cluster::readers());
    all.extend(super::openshift_node_pool::readers());
    all.extend(super::organisation::readers());
    all.extend(super::project::readers());
    all.extend(super::virtual_machine::readers());
    all
}

#[test]
fn every_reader_reads_what_upstream_declares() {
    let found: Vec<String> = all().iter().flat_map(readers::findings).collect();
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

#[test]
fn every_reader_in_the_source_is_listed() {
    let all = all();
    let mut listed_types = BTreeSet::new();
    let mut listed_pointers = BTreeSet::new();
    for reader in &all {
        type_names(&reader.schema, &mut listed_types);
        if reader.name.starts_with('/') {
            listed_pointers.insert(reader.name.clone());
        }
    }
    listed_pointers.extend(NOT_OBSERVED.iter().map(|(pointer, _)| pointer.to_string()));
    listed_types.extend(FLATTENED.iter().map(|(name, _)| name.to_string()));

    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut unlisted = Vec::new();
    for dir in ["src/compositions", "src/resources"] {
        for (file, code) in sources(crate_dir, &crate_dir.join(dir)) {
            for name in schema_only_types(&code) {
                if !listed_types.contains(&name) {
                    unlisted.push(format!("{file}: type {name} is in no module's readers()"));
                }
            }
            for pointer in pointers(&code) {
                if !listed_pointers.contains(&pointer) {
                    unlisted.push(format!(
                        "{file}: pointer {pointer} is in no module's readers()"
                    ));
                }
            }
        }
    }
    assert!(unlisted.is_empty(), "\n{}", unlisted.join("\n"));
}

/// The names of the types a reader's JSON Schema is made of (its title and `$defs`), without
/// the generic arguments schemars appends (`Observed_for_Value`).
fn type_names(schema: &Value, out: &mut BTreeSet<String>) {
    let plain = |name: &str| name.split('_').next().unwrap_or(name).to_string();
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(title)) = map.get("title") {
                out.insert(plain(title));
            }
            if let Some(Value::Object(defs)) = map.get("$defs") {
                out.extend(defs.keys().map(|name| plain(name)));
            }
            map.values().for_each(|v| type_names(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| type_names(v, out)),
        _ => {}
    }
}

/// The non-test Rust sources below `dir`, as (path from `crate_dir`, code before any inline
/// test module).
fn sources(crate_dir: &Path, dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                dirs.push(path.clone());
            } else if name.ends_with(".rs") && name != "tests.rs" && name != "readers.rs" {
                let code = fs::read_to_string(&path).unwrap();
                let code = code
                    .split("#[cfg(test)]\nmod tests {")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let file = path.strip_prefix(crate_dir).unwrap_or(&path);
                out.push((file.display().to_string(), code));
            }
        }
    }
    out.sort();
    out
}

/// The types that derive `JsonSchema` under test only: readers of observed state.
fn schema_only_types(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending = false;
    for line in code.lines().map(str::trim) {
        if line == "#[cfg_attr(test, derive(schemars::JsonSchema))]" {
            pending = true;
        } else if pending && !line.starts_with("#[") && !line.starts_with("///") {
            let item = line
                .split_whitespace()
                .skip_while(|w| *w != "struct" && *w != "enum")
                .nth(1)
                .unwrap_or_default();
            names.push(
                item.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
            pending = false;
        }
    }
    names
}

/// The literal JSON pointers of `.pointer("...")` calls.
fn pointers(code: &str) -> Vec<String> {
    code.split(".pointer(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|pointer| pointer.starts_with('/'))
        .map(str::to_string)
        .collect()
}
