//! Kubeconfig files: read a platform kubeconfig (the KCP admin kubeconfig) and derive one that
//! uses the same credentials against another server URL (a KCP workspace).

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

impl Kubeconfig {
    /// Parses a kubeconfig file.
    pub fn parse(bytes: &[u8]) -> Result<Self, KubeconfigError> {
        serde_norway::from_slice(bytes).map_err(|e| {
            KubeconfigError::Parse(e.location().map_or_else(
                || "the start".to_owned(),
                |l| format!("line {}, column {}", l.line(), l.column()),
            ))
        })
    }

    /// A kubeconfig with the current context's credentials and TLS settings, pointed at
    /// `server`, with a single cluster, user and context all called `name`.
    pub fn pointed_at(&self, server: &str, name: &str) -> Result<Self, KubeconfigError> {
        let context = match self
            .contexts
            .iter()
            .find(|c| c.name == self.current_context)
        {
            Some(c) => c,
            None if self.current_context.is_empty() && self.contexts.len() == 1 => {
                &self.contexts[0]
            }
            None => return Err(KubeconfigError::NoContext(self.contexts.len())),
        };
        let wanted = &context.context;
        let dangling = |what, missing: &str| KubeconfigError::Dangling {
            context: context.name.clone(),
            what,
            name: missing.to_owned(),
        };
        let mut cluster = self
            .clusters
            .iter()
            .find(|c| c.name == wanted.cluster)
            .map(|c| c.cluster.clone())
            .ok_or_else(|| dangling("cluster", &wanted.cluster))?;
        let user = self
            .users
            .iter()
            .find(|u| u.name == wanted.user)
            .map(|u| u.user.clone())
            .ok_or_else(|| dangling("user", &wanted.user))?;
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

    /// The kubeconfig as YAML.
    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).expect("kubeconfigs serialise to YAML")
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
}
