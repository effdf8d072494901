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
//! YAML is parsed with serde_norway, as everywhere in function-sco, and only the top-level
//! blocks that can name a user (`user`, `users`, `system_info`): user data is up to 64 KiB of
//! packages and files, and parsing all of it cost 2 ms a call at 64 KiB.

use serde_json::Value;

/// The user of user data `user_data` on an image whose default user is `image_user`.
pub fn login_user(user_data: &str, image_user: &str) -> String {
    let text = user_data.trim_start_matches('\u{feff}').trim_start();
    let Some(body) = text.strip_prefix("#cloud-config") else {
        return image_user.to_owned();
    };
    let config = match user_blocks(body) {
        // No key that names a user: the image's default user, without parsing the rest
        // (user data is up to 64 KiB of packages and files, and YAML costs tens of ns a byte).
        None => return image_user.to_owned(),
        // Only the blocks that matter, unless they lean on the rest (an alias to an anchor
        // elsewhere): then the whole document.
        Some(blocks) => serde_norway::from_str::<Value>(&blocks)
            .or_else(|_| serde_norway::from_str::<Value>(body)),
    };
    let Ok(config) = config else {
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

/// The top-level blocks of a block-style cloud-config whose key is `user`, `users` or
/// `system_info`, as a smaller YAML document; `None` when it has none. A top-level key starts
/// at column 0; the lines below it (indented, or `- ` items of a compact list) are its block.
/// A document that is a flow mapping (`{user: x}`) is returned whole.
///
/// Line starts are found with `memchr` (SIMD), and a line that continues a block is known by
/// its first byte, so only top-level lines are read whole: splitting 64 KiB of user data into
/// lines with `str::split_inclusive` cost 400k instructions a call.
fn user_blocks(body: &str) -> Option<String> {
    const KEYS: [&str; 3] = ["user", "users", "system_info"];
    let bytes = body.as_bytes();
    let mut blocks = String::new();
    // Where the block being kept starts.
    let mut kept: Option<usize> = None;
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|at| at + 1));
    for start in starts.filter(|&start| start < bytes.len()) {
        let rest = &body[start..];
        let continues = rest.starts_with([' ', '\t', '#'])
            || (rest.starts_with('-') && !rest.starts_with("---"));
        if continues {
            continue;
        }
        let end = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |at| at + 1);
        let content = rest[..end].trim_end();
        if content.is_empty() {
            continue;
        }
        if let Some(from) = kept.take() {
            blocks.push_str(&body[from..start]);
        }
        if content.starts_with('{') {
            return Some(body.to_owned());
        }
        let key = content.split(':').next().unwrap_or_default();
        if KEYS.contains(&key.trim().trim_matches(['"', '\''])) {
            kept = Some(start);
        }
    }
    if let Some(from) = kept {
        blocks.push_str(&body[from..]);
    }
    (!blocks.is_empty()).then_some(blocks)
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
    fn only_the_blocks_naming_a_user_are_parsed() {
        let data = "#cloud-config\npackages: [nginx]\nwrite_files:\n- path: /a\n  content: |\n    user: mallory\nusers:\n- name: bob\n# a comment\nruncmd: [ls]\n";
        assert_eq!(
            user_blocks(data).as_deref(),
            Some("users:\n- name: bob\n# a comment\n")
        );
        assert_eq!(
            login_user(data, "fedora"),
            "bob",
            "an indented user: is file content"
        );
        assert_eq!(user_blocks("packages: [a]\nruncmd: [b]\n"), None);
        assert_eq!(login_user("#cloud-config\n{user: zoe}\n", "fedora"), "zoe");
        assert_eq!(
            login_user("#cloud-config\n\"user\": quinn\n", "fedora"),
            "quinn"
        );
        // An alias to an anchor outside the blocks: the whole document is read.
        let aliased = "#cloud-config\nx-admin: &admin {name: ada}\nuser: *admin\n";
        assert_eq!(login_user(aliased, "fedora"), "ada");
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

    /// [`user_blocks`] read line by line, as it was first written: the blocks it picks
    /// must be the same.
    fn user_blocks_by_lines(body: &str) -> Option<String> {
        const KEYS: [&str; 3] = ["user", "users", "system_info"];
        let mut blocks = String::new();
        let mut keep = false;
        for line in body.split_inclusive('\n') {
            let content = line.trim_end();
            let continues = content.is_empty()
                || line.starts_with([' ', '\t', '#'])
                || (line.starts_with('-') && !line.starts_with("---"));
            if !continues {
                if content.starts_with('{') {
                    return Some(body.to_owned());
                }
                let key = content.split(':').next().unwrap_or_default();
                keep = KEYS.contains(&key.trim().trim_matches(['"', '\'']));
            }
            if keep {
                blocks.push_str(line);
            }
        }
        (!blocks.is_empty()).then_some(blocks)
    }

    #[test]
    fn the_blocks_are_those_a_line_by_line_reading_picks() {
        let lines = [
            "user: alice",
            "users:",
            "- default",
            "- name: bob",
            "  - name: eve",
            "system_info:",
            "  default_user:",
            "    name: ops",
            "packages: [nginx]",
            "write_files:",
            "  - path: /etc/x",
            "    content: |",
            "      user: nobody",
            "# user: comment",
            "",
            "   ",
            "---",
            "--- # doc",
            "-x",
            "{user: flow}",
            "\"users\": [a]",
            "'user': b",
            "\tusers: tab",
            "\r",
            "runcmd:",
            "  - [sh, -c, 'echo users: no']",
            "user:x",
        ];
        // Every sequence of up to three of these lines, with LF and CRLF endings, and with
        // and without a final newline.
        let mut documents = vec![String::new()];
        for a in lines {
            for b in lines {
                for c in ["", "user: z", "packages: []", "  - item"] {
                    for end in ["\n", "\r\n"] {
                        documents.push(format!("{a}{end}{b}{end}{c}"));
                        documents.push(format!("{end}{a}{end}{b}{end}{c}{end}"));
                    }
                }
            }
        }
        for body in &documents {
            assert_eq!(user_blocks(body), user_blocks_by_lines(body), "{body:?}");
        }
    }
}
