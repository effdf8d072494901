//! No secret leaves through a log line or a status: every example is served by the binary
//! with debug logging, and neither its log nor any part of its answer other than the composed
//! resources themselves (the XR's status, conditions, results, context) holds a secret the
//! request carried (function credentials, Secret data of observed and required objects, the
//! credentials inside kubeconfigs) or one the function generated (the data of the Secrets it
//! composes), raw or base64-encoded.

mod support;

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use function_sco::sdk::proto::v1;
use function_sco::sdk::{Runner, render, response};
use serde_json::Value;
use support::process::Served;
use support::{case_dirs, case_input, root};
use tonic::transport::Endpoint;

/// Shorter values (`true`, a key name) would match innocently.
const SHORTEST_SECRET: usize = 8;

/// Every secret a Secret-like object holds: its data decoded, its stringData, and the
/// credentials of a kubeconfig among them.
fn secrets_of(object: &Value, out: &mut BTreeSet<String>) {
    if object["kind"] != "Secret" {
        return;
    }
    let data = object["data"].as_object().into_iter().flatten();
    for value in data.filter_map(|(_, v)| v.as_str()) {
        if let Ok(bytes) = STANDARD.decode(value) {
            secret_text(&String::from_utf8_lossy(&bytes), out);
        }
    }
    let plain = object["stringData"].as_object().into_iter().flatten();
    for value in plain.filter_map(|(_, v)| v.as_str()) {
        secret_text(value, out);
    }
}

fn secret_text(text: &str, out: &mut BTreeSet<String>) {
    out.insert(text.to_owned());
    let Ok(structured) = serde_norway::from_str::<Value>(text) else {
        return;
    };
    match structured["users"].as_array() {
        // A kubeconfig's users hold the credentials; the rest (server URL, CA) is not secret.
        Some(users) => users.iter().for_each(|user| parts(&user["user"], out)),
        // Other structured secrets (a pull secret's `.dockerconfigjson`) are secret throughout.
        None if structured.is_object() || structured.is_array() => parts(&structured, out),
        None => {}
    }
}

/// The string leaves of a structured secret, and what those that are base64 decode to (a pull
/// secret's `auths.*.auth` is `user:password` encoded).
fn parts(value: &Value, out: &mut BTreeSet<String>) {
    let mut strings = BTreeSet::new();
    leaves(value, &mut strings);
    for s in strings {
        if let Ok(bytes) = STANDARD.decode(&s)
            && let Ok(text) = String::from_utf8(bytes)
        {
            out.insert(text);
        }
        out.insert(s);
    }
}

fn leaves(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::Object(m) => m.values().for_each(|v| leaves(v, out)),
        _ => {}
    }
}

/// The forms a secret takes in text: itself, base64-encoded, and escaped as a JSON string (a
/// JSON log line) or by `{:?}` (a message formatting it as Rust debug output).
fn forms(secret: &str) -> [String; 4] {
    let quoted = |s: String| s[1..s.len() - 1].to_owned();
    [
        secret.to_owned(),
        STANDARD.encode(secret),
        quoted(serde_json::to_string(secret).unwrap()),
        quoted(format!("{secret:?}")),
    ]
}

/// The secrets found in `text` in any of their [`forms`].
fn found_in<'a>(secrets: &'a BTreeSet<String>, text: &str) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|secret| {
            forms(secret)
                .iter()
                .any(|form| text.contains(form.as_str()))
        })
        .map(String::as_str)
        .collect()
}

/// A JSON value as text to search: its JSON, and its string leaves as they are.
fn searchable(value: &Value) -> String {
    let mut strings = BTreeSet::new();
    leaves(value, &mut strings);
    let mut text = value.to_string();
    for s in strings {
        text.push('\n');
        text.push_str(&s);
    }
    text
}

/// A URL is where something is, not a credential: an OpenShiftCluster's API endpoint is in
/// its connection Secret and, by its API, in its status.
fn is_address(value: &str) -> bool {
    (value.starts_with("https://") || value.starts_with("http://"))
        && !value.contains(char::is_whitespace)
        && !value.contains('@')
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_or_a_status() {
    let server = Served::start(&["--insecure", "--debug"]);
    let channel = Endpoint::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .expect("connect");
    let mut client = v1::function_runner_service_client::FunctionRunnerServiceClient::new(channel);
    let runner = Runner::new(function_sco::function::Sco, response::DEFAULT_TTL);
    let mut secrets = BTreeSet::new();
    // What the request shows outside Secrets is no secret, even when a Secret holds it too
    // (a VM's service address in its connection Secret, an OIDC client id); nor is a URL.
    let mut public = BTreeSet::new();
    let mut answers = Vec::new();
    let mut examples = 0;
    for dir in case_dirs(&root().join("examples")) {
        let input = case_input(&dir);
        // The request Crossplane sends once the requirements are settled.
        let (request, _) = render::settle(&runner, &input);
        for values in input.credentials.values() {
            for bytes in values.values() {
                secret_text(&String::from_utf8_lossy(bytes), &mut secrets);
            }
        }
        for object in input.observed.iter().chain(&input.required) {
            secrets_of(object, &mut secrets);
            if object["kind"] != "Secret" {
                leaves(object, &mut public);
            }
        }
        leaves(&input.composite, &mut public);
        // The environment is platform configuration (an SSH public key, URLs), not a secret store.
        leaves(&Value::Object(input.context.clone()), &mut public);
        let rsp = client
            .run_function(request)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .into_inner();
        for resource in rsp.desired.iter().flat_map(|d| d.resources.values()) {
            if let Some(manifest) = &resource.resource {
                secrets_of(&pbstruct::to_json_value(manifest), &mut secrets);
            }
        }
        // Everything but the composed resources, which are where secrets belong.
        let composite = rsp
            .desired
            .as_ref()
            .and_then(|d| d.composite.as_ref())
            .and_then(|c| c.resource.as_ref())
            .map(pbstruct::to_json_value);
        let context = rsp.context.as_ref().map(pbstruct::to_json_value);
        answers.push(format!(
            "{}\n{}\n{:?}\n{:?}\n{}",
            dir.display(),
            searchable(&composite.unwrap_or_default()),
            rsp.conditions,
            rsp.results,
            searchable(&context.unwrap_or_default()),
        ));
        examples += 1;
    }
    drop(client);
    let log = server.log();
    secrets.retain(|s| s.len() >= SHORTEST_SECRET && !public.contains(s) && !is_address(s));
    assert!(
        examples >= 3 && secrets.len() >= 3,
        "{examples} examples, {} secrets",
        secrets.len()
    );
    assert!(
        log.lines().count() >= examples,
        "the log shows every call:\n{log}"
    );
    let log = log
        .lines()
        .map(|line| match serde_json::from_str::<Value>(line) {
            Ok(fields) => format!("{line}\n{}", searchable(&fields)),
            Err(_) => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let leaked = found_in(&secrets, &log);
    assert!(
        leaked.is_empty(),
        "{} secrets are in the log (the shortest has {} characters):\n{log}",
        leaked.len(),
        leaked.iter().map(|s| s.len()).min().unwrap_or(0)
    );
    for answer in &answers {
        let leaked = found_in(&secrets, answer);
        assert!(
            leaked.is_empty(),
            "{} secrets are in the status, conditions, results or context: {answer}",
            leaked.len()
        );
    }
}

/// The scanner itself: a pull secret written into a status message, as JSON or as debug
/// output, and its registry password (base64 inside the JSON) in a log line, are found.
#[test]
fn the_scanner_finds_a_structured_secret_in_every_form() {
    let auth = STANDARD.encode("robot:s3cr3t-registry-password");
    let pull = format!(r#"{{"auths":{{"quay.io":{{"auth":"{auth}"}}}}}}"#);
    let secret = serde_json::json!({
        "kind": "Secret",
        "data": {".dockerconfigjson": STANDARD.encode(&pull)},
    });
    let mut secrets = BTreeSet::new();
    secrets_of(&secret, &mut secrets);
    assert!(
        secrets.contains("robot:s3cr3t-registry-password"),
        "{secrets:?}"
    );
    for text in [
        searchable(&serde_json::json!({"status": {"message": format!("ready {pull}")}})),
        format!("{:?}", format!("ready {pull}")),
        serde_json::json!({"message": "pulled as robot:s3cr3t-registry-password"}).to_string(),
        format!("token {}", STANDARD.encode(&pull)),
    ] {
        assert!(!found_in(&secrets, &text).is_empty(), "not found in {text}");
    }
    assert!(found_in(&secrets, "cluster dev is ready").is_empty());
}
