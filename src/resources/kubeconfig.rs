//! Kubeconfig files: read a platform kubeconfig (the KCP admin kubeconfig) and derive one that
//! uses the same credentials against another server URL (a KCP workspace).
//!
//! Both directions sit on every call of the compositions that reach KCP, so neither goes
//! through a general YAML library each time: the admin kubeconfig is the same bytes on every
//! call, and the last one parsed is kept per thread; kubeconfigs are written by
//! [`Kubeconfig::to_yaml`] in block style with every scalar in JSON's double-quoted form, which
//! YAML 1.2 reads as the same string (client-go's `clientcmd` reads it through
//! `sigs.k8s.io/yaml`), keys in the order `kubectl config view` prints them.

use std::cell::RefCell;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why a kubeconfig cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeconfigError {
    /// Not a kubeconfig YAML document. Only the position is kept: parser messages may quote
    /// the file, and a kubeconfig holds credentials.
    #[error("it is not a kubeconfig YAML document (error at {0})")]
    Parse(String),
    /// No `current-context`, and not exactly one context to fall back to.
    #[error("it has no current-context and {0} contexts, so which one to use is unclear")]
    NoContext(usize),
    /// The current context names something the file does not define.
    #[error("context {context:?} refers to {what} {name:?}, which it does not define")]
    Dangling {
        /// The context.
        context: String,
        /// `cluster` or `user`.
        what: &'static str,
        /// The missing entry.
        name: String,
    },
}

/// The error for `context` naming a `what` (`cluster`, `user`) the file does not define.
fn dangling(context: &NamedContext, what: &'static str, missing: &str) -> KubeconfigError {
    KubeconfigError::Dangling {
        context: context.name.clone(),
        what,
        name: missing.to_owned(),
    }
}

/// A kubeconfig (`apiVersion: v1`, `kind: Config`), the parts a client needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    /// `v1`.
    #[serde(rename = "apiVersion", default = "v1")]
    pub api_version: String,
    /// `Config`.
    #[serde(default = "config")]
    pub kind: String,
    /// Clusters by name.
    #[serde(default)]
    pub clusters: Vec<NamedCluster>,
    /// Contexts by name.
    #[serde(default)]
    pub contexts: Vec<NamedContext>,
    /// The context in use.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub current_context: String,
    /// Users (credentials) by name.
    #[serde(default)]
    pub users: Vec<NamedUser>,
}

fn v1() -> String {
    "v1".into()
}

fn config() -> String {
    "Config".into()
}

/// A named cluster: server URL and TLS settings, kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    /// Its name.
    pub name: String,
    /// `server`, `certificate-authority-data`, `tls-server-name`, ...
    pub cluster: Map<String, Value>,
}

/// A named context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    /// Its name.
    pub name: String,
    /// The context.
    pub context: Context,
}

/// A kubeconfig context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The cluster's name.
    pub cluster: String,
    /// The user's name.
    pub user: String,
    /// Default namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A named user: credentials (token, client certificate, ...), kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedUser {
    /// Its name.
    pub name: String,
    /// The credentials.
    pub user: Map<String, Value>,
}

/// The bytes a thread parsed last, and what they parsed to.
type LastParse = Option<(Vec<u8>, Result<Kubeconfig, KubeconfigError>)>;

impl Kubeconfig {
    /// Parses a kubeconfig file (the result for the same bytes as the thread's last call is
    /// reused: parsing YAML costs more than the rest of a call's use of it).
    pub fn parse(bytes: &[u8]) -> Result<Self, KubeconfigError> {
        thread_local! {
            static LAST: RefCell<LastParse> = const { RefCell::new(None) };
        }
        LAST.with_borrow_mut(|last| match last {
            Some((seen, parsed)) if seen == bytes => parsed.clone(),
            _ => {
                let parsed = Self::parse_uncached(bytes);
                *last = Some((bytes.to_vec(), parsed.clone()));
                parsed
            }
        })
    }

    fn parse_uncached(bytes: &[u8]) -> Result<Self, KubeconfigError> {
        serde_norway::from_slice(bytes).map_err(|e| {
            KubeconfigError::Parse(e.location().map_or_else(
                || "the start".to_owned(),
                |l| format!("line {}, column {}", l.line(), l.column()),
            ))
        })
    }

    /// The current context (the only one when none is named).
    fn current(&self) -> Result<&NamedContext, KubeconfigError> {
        match self
            .contexts
            .iter()
            .find(|c| c.name == self.current_context)
        {
            Some(c) => Ok(c),
            None if self.current_context.is_empty() && self.contexts.len() == 1 => {
                Ok(&self.contexts[0])
            }
            None => Err(KubeconfigError::NoContext(self.contexts.len())),
        }
    }

    /// The current context's cluster entry (server, CA, TLS settings).
    pub fn current_cluster(&self) -> Result<&Map<String, Value>, KubeconfigError> {
        let context = self.current()?;
        self.clusters
            .iter()
            .find(|c| c.name == context.context.cluster)
            .map(|c| &c.cluster)
            .ok_or_else(|| dangling(context, "cluster", &context.context.cluster))
    }

    /// A kubeconfig with the current context's credentials and TLS settings, pointed at
    /// `server`, with a single cluster, user and context all called `name`.
    pub fn pointed_at(&self, server: &str, name: &str) -> Result<Self, KubeconfigError> {
        let context = self.current()?;
        let mut cluster = self.current_cluster()?.clone();
        let user = self
            .users
            .iter()
            .find(|u| u.name == context.context.user)
            .map(|u| u.user.clone())
            .ok_or_else(|| dangling(context, "user", &context.context.user))?;
        cluster.insert("server".to_owned(), Value::String(server.to_owned()));
        Ok(Self {
            api_version: v1(),
            kind: config(),
            clusters: vec![NamedCluster {
                name: name.to_owned(),
                cluster,
            }],
            contexts: vec![NamedContext {
                name: name.to_owned(),
                context: Context {
                    cluster: name.to_owned(),
                    user: name.to_owned(),
                    namespace: None,
                },
            }],
            current_context: name.to_owned(),
            users: vec![NamedUser {
                name: name.to_owned(),
                user,
            }],
        })
    }

    /// The kubeconfig as YAML (see the module doc for its form).
    pub fn to_yaml(&self) -> String {
        let value = serde_json::to_value(self).expect("kubeconfigs serialise");
        let mut out = String::with_capacity(1024);
        match &value {
            Value::Object(map) => block_map(&mut out, map, 0),
            _ => unreachable!("a kubeconfig serialises to a mapping"),
        }
        out
    }
}

/// Writes `map` in block style at `indent` (an empty map never reaches here).
fn block_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        out.extend(std::iter::repeat_n(' ', indent));
        scalar_key(out, key);
        out.push(':');
        block_value(out, value, indent);
    }
}

/// Writes what follows `key:` or `-`: a nested block on the next lines, or ` scalar`.
fn block_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            block_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                out.extend(std::iter::repeat_n(' ', indent));
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first entry shares the dash's line, the rest align under it.
                        let start = out.len();
                        block_map(out, map, indent + 2);
                        out.replace_range(start..start + indent + 2, " ");
                    }
                    _ => block_value(out, item, indent + 2),
                }
            }
        }
        scalar => {
            out.push(' ');
            flow_scalar(out, scalar);
            out.push('\n');
        }
    }
}

/// A key: plain when it is a plain word (every kubeconfig key is), else quoted.
fn scalar_key(out: &mut String, key: &str) {
    let plain = key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    if plain {
        out.push_str(key);
    } else {
        flow_scalar(out, &Value::String(key.to_owned()));
    }
}

/// A scalar (or an empty collection) in JSON's form, with every character outside ASCII
/// escaped, so that no YAML reader's character rules come into play.
fn flow_scalar(out: &mut String, value: &Value) {
    let json = value.to_string();
    if json.is_ascii() {
        out.push_str(&json);
        return;
    }
    for c in json.chars() {
        match u32::from(c) {
            0..=0x7f => out.push(c),
            code @ 0x80..=0xffff => {
                let _ = write!(out, "\\u{code:04X}");
            }
            code => {
                let _ = write!(out, "\\U{code:08X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: kcp
  cluster:
    server: https://kcp.example.com/clusters/root
    certificate-authority-data: Q0E=
- name: other
  cluster:
    server: https://other
contexts:
- name: admin
  context: {cluster: kcp, user: kcp-admin}
- name: other
  context: {cluster: other, user: nobody}
current-context: admin
users:
- name: kcp-admin
  user:
    token: secret-token
"#;

    #[test]
    fn points_the_current_context_at_another_server() {
        let admin = Kubeconfig::parse(ADMIN.as_bytes()).unwrap();
        let ws = admin
            .pointed_at("https://kcp.example.com/clusters/root:acme", "root:acme")
            .unwrap();
        let yaml = ws.to_yaml();
        let back: Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(
            back,
            serde_json::json!({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": "root:acme", "cluster": {"server": "https://kcp.example.com/clusters/root:acme", "certificate-authority-data": "Q0E="}}],
                "contexts": [{"name": "root:acme", "context": {"cluster": "root:acme", "user": "root:acme"}}],
                "current-context": "root:acme",
                "users": [{"name": "root:acme", "user": {"token": "secret-token"}}],
            })
        );
        assert_eq!(Kubeconfig::parse(yaml.as_bytes()).unwrap(), ws);
    }

    #[test]
    fn written_in_block_style_with_json_scalars() {
        let admin = Kubeconfig::parse(ADMIN.as_bytes()).unwrap();
        let yaml = admin.pointed_at("https://k/c", "w").unwrap().to_yaml();
        assert_eq!(
            yaml,
            concat!(
                "apiVersion: \"v1\"\n",
                "clusters:\n",
                "- cluster:\n",
                "    certificate-authority-data: \"Q0E=\"\n",
                "    server: \"https://k/c\"\n",
                "  name: \"w\"\n",
                "contexts:\n",
                "- context:\n",
                "    cluster: \"w\"\n",
                "    user: \"w\"\n",
                "  name: \"w\"\n",
                "current-context: \"w\"\n",
                "kind: \"Config\"\n",
                "users:\n",
                "- name: \"w\"\n",
                "  user:\n",
                "    token: \"secret-token\"\n",
            )
        );
    }

    #[test]
    fn every_value_reads_back_as_written() {
        // Strings YAML would otherwise read as other types or cut short, characters outside
        // ASCII, nested lists (an exec plugin's args) and empty collections.
        let user = serde_json::json!({
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": "kubectl",
                "args": ["oidc-login", "get-token", "--oidc-extra-scope=email", "yes", "null", "0x1F", "~", "a: b", "#c", "- d", "'e'", "\"f\"", "g\\h", "tab\there", "line\nbreak", "\u{e9}t\u{e9}", "\u{1F600}", "\u{2028}", ""],
                "env": [],
                "interactiveMode": "IfAvailable",
                "provideClusterInfo": false,
                "nested": [[1, 2.5], {}, {"k": [true, null]}],
            },
            "weird key: #1": "v",
        });
        let mut config = of_user(&user);
        config.clusters = vec![NamedCluster {
            name: "c".into(),
            cluster: Map::new(),
        }];
        let yaml = config.to_yaml();
        assert!(yaml.is_ascii(), "{yaml}");
        let back: Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(back, serde_json::to_value(&config).unwrap(), "{yaml}");
        assert_eq!(Kubeconfig::parse_uncached(yaml.as_bytes()).unwrap(), config);
    }

    #[test]
    fn a_parse_is_reused_only_for_the_same_bytes() {
        let first = Kubeconfig::parse(ADMIN.as_bytes()).unwrap();
        assert_eq!(Kubeconfig::parse(ADMIN.as_bytes()).unwrap(), first);
        let other = ADMIN.replace("secret-token", "other-token");
        let second = Kubeconfig::parse(other.as_bytes()).unwrap();
        assert_eq!(second.users[0].user["token"], "other-token");
        assert!(Kubeconfig::parse(b"[").is_err());
        assert_eq!(Kubeconfig::parse(ADMIN.as_bytes()).unwrap(), first);
    }

    #[test]
    fn a_single_context_is_used_without_current_context() {
        let single = "contexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: x}}]\nusers: [{name: u, user: {}}]\n";
        let ws = Kubeconfig::parse(single.as_bytes())
            .unwrap()
            .pointed_at("https://y", "ws")
            .unwrap();
        assert_eq!(ws.clusters[0].cluster["server"], "https://y");
    }

    #[test]
    fn unusable_kubeconfigs_say_why() {
        assert!(matches!(
            Kubeconfig::parse(b"- a list"),
            Err(KubeconfigError::Parse(_))
        ));
        let none = Kubeconfig::parse(b"kind: Config\n").unwrap();
        assert_eq!(
            none.pointed_at("https://y", "ws"),
            Err(KubeconfigError::NoContext(0))
        );
        let dangling = Kubeconfig::parse(
            b"current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n",
        )
        .unwrap();
        let err = dangling.pointed_at("https://y", "ws").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"context "a" refers to cluster "c", which it does not define"#
        );
    }

    /// A kubeconfig of one user, `u`, whose settings are `user`.
    fn of_user(user: &Value) -> Kubeconfig {
        Kubeconfig {
            api_version: v1(),
            kind: config(),
            clusters: vec![],
            contexts: vec![],
            current_context: String::new(),
            users: vec![NamedUser {
                name: "u".into(),
                user: user.as_object().unwrap().clone(),
            }],
        }
    }

    #[test]
    fn each_nesting_level_is_indented_two_spaces_more() {
        // An exec plugin's settings sit in a mapping four levels down, and extensions can
        // hold lists of lists: each level still steps in by two spaces, as kubectl writes.
        let user = serde_json::json!({"exec": {"args": [["a"]], "command": "c"}});
        let config = of_user(&user);
        let yaml = config.to_yaml();
        let indents: Vec<usize> = yaml
            .lines()
            .map(|l| l.len() - l.trim_start_matches(' ').len())
            .collect();
        assert!(indents.windows(2).all(|w| w[1] <= w[0] + 2), "{yaml}");
        assert_eq!(Kubeconfig::parse_uncached(yaml.as_bytes()).unwrap(), config);
    }
}
