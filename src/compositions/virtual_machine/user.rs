//! The user SSH logs in as: the one cloud-init gives the propagated key to.
//!
//! KubeVirt's `noCloud` propagation puts the keys into the NoCloud meta-data as
//! `public-keys` (`kubevirt/kubevirt` `pkg/cloud-init/cloud-init.go`); user data is not
//! touched. cloud-init's `cc_ssh` gives those keys to the **default user**
//! (`canonical/cloud-init` `cloudinit/config/cc_ssh.py`, `ug_util.extract_default`), which is:
//! - the top-level `user:` of a cloud-config (a name or a mapping with `name`), merged over
//!   the distro's default user;
//! - else, when `users:` lists `default`, the distro default user (`system_info.default_user`
//!   in `/etc/cloud/cloud.cfg`: `cloud-user` on RHEL and CentOS, `fedora` on Fedora, per
//!   `canonical/cloud-init` `config/cloud.cfg.tmpl`); a `system_info.default_user.name` in the
//!   user data names it;
//! - else, when `users:` names users without `default`, nobody gets the meta-data keys: the
//!   first named user is the one the user data prepares for logins (with its own
//!   `ssh_authorized_keys`), so that is the user published;
//! - user data that is not a cloud-config (`#!` scripts, `#include`, MIME multipart) or has
//!   neither key leaves the image's default user.
//!
//! YAML is parsed with serde_norway, as everywhere in function-sco.

use serde_json::Value;

/// The user of user data `user_data` on an image whose default user is `image_user`.
pub fn login_user(user_data: &str, image_user: &str) -> String {
    let text = user_data.trim_start_matches('\u{feff}').trim_start();
    let Some(body) = text.strip_prefix("#cloud-config") else {
        return image_user.to_owned();
    };
    let Ok(config) = serde_norway::from_str::<Value>(body) else {
        return image_user.to_owned();
    };
    let name = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(m) => m
                .get("name")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            _ => None,
        }
    };
    if let Some(user) = config.get("user").and_then(name) {
        return user;
    }
    let default_user = config
        .pointer("/system_info/default_user/name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(image_user)
        .to_owned();
    match config.get("users") {
        Some(Value::Array(users)) => {
            if users.iter().any(|u| u.as_str() == Some("default")) {
                return default_user;
            }
            users.iter().find_map(name).unwrap_or(default_user)
        }
        // `users: bob, alice` (a comma-separated string) is accepted by cloud-init too.
        Some(Value::String(list)) => {
            let mut names = list.split(',').map(str::trim).filter(|n| !n.is_empty());
            if list.split(',').any(|n| n.trim() == "default") {
                return default_user;
            }
            names.next().map_or(default_user, str::to_owned)
        }
        _ => default_user,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_config_user_wins() {
        assert_eq!(
            login_user("#cloud-config\nuser: alice\n", "fedora"),
            "alice"
        );
        assert_eq!(
            login_user(
                "#cloud-config\nuser:\n  name: bob\n  sudo: ALL=(ALL) NOPASSWD:ALL\n",
                "fedora"
            ),
            "bob"
        );
    }

    #[test]
    fn users_with_default_keep_the_image_user() {
        let data = "#cloud-config\nusers:\n- default\n- name: bob\n";
        assert_eq!(login_user(data, "fedora"), "fedora");
        assert_eq!(login_user(data, "cloud-user"), "cloud-user");
        let named =
            "#cloud-config\nsystem_info:\n  default_user:\n    name: ops\nusers: [default]\n";
        assert_eq!(login_user(named, "fedora"), "ops");
    }

    #[test]
    fn users_without_default_publish_the_first_named_user() {
        let data = "#cloud-config\nusers:\n- name: bob\n  ssh_authorized_keys: [ssh-ed25519 AAAA]\n- name: eve\n";
        assert_eq!(login_user(data, "fedora"), "bob");
        assert_eq!(
            login_user("#cloud-config\nusers: carol, dave\n", "fedora"),
            "carol"
        );
    }

    #[test]
    fn user_data_that_sets_no_user_leaves_the_image_default() {
        // Regression (issue 13, point 6): the Secret said cloud-user on Fedora.
        assert_eq!(
            login_user("#cloud-config\npackages: [nginx]\n", "fedora"),
            "fedora"
        );
        assert_eq!(login_user("#!/bin/bash\necho hi\n", "fedora"), "fedora");
        assert_eq!(
            login_user("#!/bin/bash\nuseradd alice\n", "cloud-user"),
            "cloud-user"
        );
        assert_eq!(login_user("#cloud-config\n: [bad yaml", "fedora"), "fedora");
        assert_eq!(
            login_user("\u{feff}  #cloud-config\nuser: x\n", "fedora"),
            "x"
        );
    }
}
