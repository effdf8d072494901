//! Validated string newtypes shared by the XR specs and platform settings: a value is
//! checked while it is decoded, and its schema carries the same length and pattern, so the
//! API server refuses most bad values before the function sees them, and the function names
//! the field of the rest (`spec.parameters.admin.email: "ada" is not an email address ...`).

use crate::sdk::resource::is_dns_label;

/// Schema pattern of a DNS-1123 label.
pub const DNS_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";
/// Schema pattern of an email address (the function checks more closely).
const EMAIL_PATTERN: &str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";
/// Schema pattern of an https URL.
const HTTPS_URL_PATTERN: &str = r"^https://[^\s/?#]+([/?#]\S*)?$";
/// Schema pattern of a Keycloak username (Keycloak stores usernames in lower case).
const USERNAME_PATTERN: &str = r"^[^\sA-Z]+$";

/// A string newtype that is validated when decoded, with the same constraints (length and
/// pattern) in its schema, so the API server rejects most bad values before the function
/// sees them.
macro_rules! validated_string {
    ($(#[$doc:meta])* $name:ident, $check:path, length($min:literal..=$max:literal), $pattern:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                $check(&value).map(|()| Self(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({"type": "string", "minLength": $min, "maxLength": $max, "pattern": $pattern})
            }
        }
    };
}
pub(crate) use validated_string;

validated_string!(
    /// An email address.
    Email, check_email, length(3..=254), EMAIL_PATTERN
);
validated_string!(
    /// A Keycloak username: no whitespace, no upper case.
    Username, check_username, length(1..=255), USERNAME_PATTERN
);
validated_string!(
    /// An absolute https URL.
    HttpsUrl, check_https_url, length(9..=2048), HTTPS_URL_PATTERN
);

pub fn check_dns_label(value: &str) -> Result<(), String> {
    if is_dns_label(value) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a DNS label: use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
        ))
    }
}

fn check_email(value: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{value:?} is not an email address ({why}); expected name@example.com"
        ))
    };
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("too long or contains whitespace");
    }
    let Some((local, domain)) = value.split_once('@') else {
        return fail("no '@'");
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return fail("the part before '@' must be 1 to 64 characters, with a single '@'");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return fail("the domain must be dot-separated labels such as example.com");
    }
    Ok(())
}

fn check_username(value: &str) -> Result<(), String> {
    if value.is_empty()
        || value.len() > 255
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c.is_uppercase())
    {
        return Err(format!(
            "{value:?} is not a Keycloak username: use 1 to 255 characters without whitespace or upper case"
        ));
    }
    Ok(())
}

fn check_https_url(value: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{value:?} is not an https URL ({why}); expected https://host/path"
        ))
    };
    let Some(rest) = value.strip_prefix("https://") else {
        return fail("it must start with https://");
    };
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("it contains whitespace");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = !host.is_empty()
        && !host.contains('@')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && !host.starts_with(['.', '-', ':']);
    if !host_ok {
        return fail("it has no valid host");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts `T` accepts every `good` value and refuses every `bad` one saying `why`.
    fn accepts_and_refuses<T: TryFrom<String, Error = String>>(
        good: &[&str],
        bad: &[&str],
        why: &str,
    ) {
        for value in good {
            assert!(T::try_from((*value).to_owned()).is_ok(), "{value}");
        }
        for value in bad {
            let err = T::try_from((*value).to_owned())
                .err()
                .unwrap_or_else(|| panic!("{value} accepted"));
            assert!(err.contains(why), "{value}: {err}");
        }
    }

    #[test]
    fn email_addresses() {
        accepts_and_refuses::<Email>(
            &["ada@acme.example", "a.b+c@mail.acme-corp.example"],
            &[
                "ada",
                "ada@",
                "@acme.example",
                "ada@acme",
                "ada@@acme.example",
                "a da@acme.example",
                "ada@-acme.example",
            ],
            "is not an email address",
        );
    }

    #[test]
    fn usernames() {
        accepts_and_refuses::<Username>(
            &["ada.lovelace", "ada@acme.example"],
            &["Ada", "a b", ""],
            "is not a Keycloak username",
        );
    }

    #[test]
    fn https_urls() {
        accepts_and_refuses::<HttpsUrl>(
            &[
                "https://login.example.com",
                "https://login.example.com:8443/realms/x?y#z",
                "https://[::1]/x",
            ],
            &[
                "http://login.example.com",
                "https://",
                "https:///path",
                "https://user@host/",
                "https://a b/",
                "login.example.com",
            ],
            "is not an https URL",
        );
    }
}
