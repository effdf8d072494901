//! Validated string newtypes shared by the XR specs and platform settings: a value is
//! checked while it is decoded, and its schema carries the same length and pattern, so the
//! API server refuses most bad values before the function sees them, and the function names
//! the field of the rest (`spec.parameters.admin.email: "ada" is not an email address ...`).

use crate::sdk::resource::is_dns_label;

/// Schema pattern of a DNS-1123 label.
pub const DNS_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";
/// Schema pattern of an email address (the function checks more closely): a local part of
/// dot-separated atoms as Keycloak's `EmailValidationUtil` has them, then a domain of at least
/// two dot-separated labels of letters, digits and '-', none starting or ending with '-'
/// (`check_email`'s domain rule).
pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x{80}-\x{FFFF}-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x{80}-\x{FFFF}-]+)*@([\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?$";
/// Schema pattern of free text (names): no control characters (the function refuses them).
pub const PRINTABLE_PATTERN: &str = r"^[^\x00-\x1f\x7f]*$";
/// Schema pattern of a person's name: none of the characters Keycloak's
/// `person-name-prohibited-characters` validator refuses ([`check_person_name`]).
pub const PERSON_NAME_PATTERN: &str =
    r#"^[^<>&"$%!#?§;*~/\\|^=\[\]{}()\x00-\x1f\x7f-\x9f\x{2028}\x{2029}]*$"#;
/// Schema pattern of a reference to a Keycloak username ([`check_username`]): none of the
/// characters Keycloak's default user profile refuses, no whitespace or control characters
/// (the function also counts length as Keycloak does, and refuses upper case where it does
/// not lower-case).
pub const USERNAME_REF_PATTERN: &str = r#"^[^\s<>&"'$%!#?§,;:*~/\\|^=\[\]{}()`\x00-\x1f\x7f]+$"#;
/// Schema pattern of an IPv4 CIDR (octets and prefix in range) or an IPv6 one (its shape and
/// prefix; the function checks the address and that no host bits are set).
pub const CIDR_PATTERN: &str = r"^((((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2]))|([0-9a-fA-F]{0,4}:[0-9a-fA-F:.]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])))$";
/// Schema pattern of an https URL.
const HTTPS_URL_PATTERN: &str = r"^https://[^\s/?#]+([/?#]\S*)?$";
/// Schema pattern of a username the function creates: [`check_new_username`]'s characters.
const USERNAME_PATTERN: &str = r"^[a-z0-9+._@-]+$";

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

/// Longest part of a user's value a message quotes: a hostile 1 MiB field must not become a
/// 1 MiB condition message (Kubernetes caps one at 32768 characters).
const QUOTED_MAX: usize = 64;

/// `value` quoted for a message (`"ada"`), clipped to `QUOTED_MAX` characters with its
/// length said, so a message stays short whatever the user sent.
pub fn quoted(value: &str) -> String {
    let length = value.chars().count();
    if length <= QUOTED_MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(QUOTED_MAX).collect();
        format!("{head:?}... ({length} characters)")
    }
}

/// A string of `MIN` to `MAX` characters, checked when decoded (so a bad one is named by its
/// field path) and carried as `minLength`/`maxLength` in the schema. Characters are Unicode
/// code points, as Kubernetes counts `maxLength`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// The value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// A value the function makes itself, whose length it controls (a default, a name it
    /// derives); checked in debug builds.
    pub(crate) fn trusted(value: impl Into<String>) -> Self {
        let value = value.into();
        debug_assert!((MIN..=MAX).contains(&value.chars().count()), "{value:?}");
        Self(value)
    }
}

impl<const MIN: usize, const MAX: usize> std::ops::Deref for Text<MIN, MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MIN: usize, const MAX: usize> TryFrom<String> for Text<MIN, MAX> {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        // A character is 1 to 4 bytes, so the byte length bounds the count: characters are
        // counted only when those bounds straddle a limit (counting a 64 KiB cloud-init
        // took 43k instructions a call).
        let bytes = value.len();
        if bytes <= MAX && bytes.div_ceil(4) >= MIN {
            return Ok(Self(value));
        }
        let length = value.chars().count();
        if length < MIN {
            return Err(if length == 0 {
                "must not be empty".to_owned()
            } else {
                format!(
                    "{} is {length} characters; at least {MIN} are needed",
                    quoted(&value)
                )
            });
        }
        if length > MAX {
            return Err(format!(
                "{} is {length} characters; at most {MAX} are allowed",
                quoted(&value)
            ));
        }
        Ok(Self(value))
    }
}

impl<const MIN: usize, const MAX: usize> From<Text<MIN, MAX>> for String {
    fn from(value: Text<MIN, MAX>) -> String {
        value.0
    }
}

impl<const MIN: usize, const MAX: usize> std::fmt::Display for Text<MIN, MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MIN: usize, const MAX: usize> schemars::JsonSchema for Text<MIN, MAX> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Text{MIN}To{MAX}").into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        if MIN == 0 {
            schemars::json_schema!({"type": "string", "maxLength": MAX})
        } else {
            schemars::json_schema!({"type": "string", "minLength": MIN, "maxLength": MAX})
        }
    }
}

validated_string!(
    /// A DNS-1123 label (a namespace's name).
    DnsLabel, check_dns_label, length(1..=63), DNS_LABEL_PATTERN
);
validated_string!(
    /// An email address.
    Email, check_email, length(3..=254), EMAIL_PATTERN
);
validated_string!(
    /// A person's first or last name, as Keycloak's default user profile accepts it.
    PersonName, check_person_name, length(0..=255), PERSON_NAME_PATTERN
);
validated_string!(
    /// A username for a user the function creates ([`check_new_username`]).
    Username, check_new_username, length(3..=255), USERNAME_PATTERN
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
            "{} is not a DNS label: use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
            quoted(value)
        ))
    }
}

fn check_email(value: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{} is not an email address ({why}); expected name@example.com",
            quoted(value)
        ))
    };
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("too long or contains whitespace");
    }
    let Some((local, domain)) = value.split_once('@') else {
        return fail("no '@'");
    };
    if local.is_empty() || local.encode_utf16().count() > 64 || domain.contains('@') {
        return fail("the part before '@' must be 1 to 64 characters, with a single '@'");
    }
    // Keycloak's `EmailValidationUtil` (from hibernate-validator): dot-separated atoms of
    // letters, digits, ``!#$%&'*+/=?^_`{|}~-`` and characters U+0080 to U+FFFF (quoted local
    // parts, which it also takes, are not accepted here).
    let atom_char = |c: char| {
        c.is_ascii_alphanumeric()
            || "!#$%&'*+/=?^_`{|}~-".contains(c)
            || ('\u{80}'..='\u{FFFF}').contains(&c)
    };
    if !local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atom_char))
    {
        return fail(
            "the part before '@' must be dot-separated runs of letters, digits and !#$%&'*+/=?^_`{|}~-, with no dot first, last or twice in a row",
        );
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

/// Keycloak's default user profile refuses a first or last name with one of
/// `<>&"$%!#?§;*~/\|^=[]{}()`, a vertical whitespace or an ASCII control character
/// (keycloak `services/src/main/java/org/keycloak/userprofile/validator/
/// PersonNameProhibitedCharactersValidator.java`: `^[^<>&"\v$%!#?§;*~/\\|^=\[\]{}()\p{Cntrl}]+$`,
/// on `firstName` and `lastName` of the default profile), through the admin API too, so a
/// user with such a name is never created. Other control characters are refused as well.
pub fn check_person_name(value: &str) -> Result<(), String> {
    let refused = |c: char| {
        "<>&\"$%!#?§;*~/\\|^=[]{}()".contains(c)
            || c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}')
    };
    if value.chars().count() > 255 {
        return Err(format!(
            "{} is {} characters; at most 255 are allowed",
            quoted(value),
            value.chars().count()
        ));
    }
    if let Some(c) = value.chars().find(|&c| refused(c)) {
        return Err(format!(
            "{} has {c:?}, which Keycloak refuses in a person's name (none of <>&\"$%!#?§;*~/\\|^=[]{{}}() or control characters)",
            quoted(value)
        ));
    }
    Ok(())
}

/// The characters Keycloak's `username-prohibited-characters` validator refuses besides
/// whitespace and control characters (keycloak `services/src/main/java/org/keycloak/
/// userprofile/validator/UsernameProhibitedCharactersValidator.java`: the pattern
/// `^[^<>&"'\s\v\h$%!#?§,;:*~/\\|^=\[\]{}()`\p{Cntrl}]+$`).
const KEYCLOAK_PROHIBITED: &str = "<>&\"'$%!#?§,;:*~/\\|^=[]{}()`";

/// Whether `c` is one of [`KEYCLOAK_PROHIBITED`] (a `match`, not a search of that string).
fn is_keycloak_prohibited(c: char) -> bool {
    matches!(
        c,
        '<' | '>'
            | '&'
            | '"'
            | '\''
            | '$'
            | '%'
            | '!'
            | '#'
            | '?'
            | '§'
            | ','
            | ';'
            | ':'
            | '*'
            | '~'
            | '/'
            | '\\'
            | '|'
            | '^'
            | '='
            | '['
            | ']'
            | '{'
            | '}'
            | '('
            | ')'
            | '`'
    )
}

/// A username Keycloak's default user profile holds, as Keycloak stores it: 3 to 255
/// characters (its `length` validator, which counts UTF-16 units as Java does), none that
/// `username-prohibited-characters` refuses (whitespace, control characters and the
/// punctuation listed in `KEYCLOAK_PROHIBITED`), and no upper case (Keycloak lower-cases
/// usernames, and the Terraform provider behind provider-keycloak refuses upper case in
/// users and group members). `system:` names
/// cannot pass (`:` is refused), so such a username is also a valid RBAC subject. For
/// references to users that may have been made elsewhere (group members, project access).
pub fn check_username(value: &str) -> Result<(), String> {
    let fail = |why: String| {
        Err(format!(
            "{} is not a Keycloak username ({why}): use 3 to 255 characters, in lower case, without whitespace or any of {KEYCLOAK_PROHIBITED}",
            quoted(value)
        ))
    };
    let length = if value.is_ascii() {
        value.len()
    } else {
        value.encode_utf16().count()
    };
    if !(3..=255).contains(&length) {
        return fail(format!("{length} characters"));
    }
    let refused = |c: char| {
        c.is_whitespace() || c.is_control() || c == '\u{180e}' || is_keycloak_prohibited(c)
    };
    if let Some(c) = value.chars().find(|c| refused(*c)) {
        return fail(format!("Keycloak refuses {c:?}"));
    }
    if value.chars().any(char::is_uppercase) {
        return fail("upper case".into());
    }
    Ok(())
}

/// A username for a user the function creates: [`check_username`] in ASCII, that is lower-case
/// letters, digits, `+`, `.`, `_`, `@` and `-`. Keycloak's `up-username-not-idn-homograph`
/// validator refuses some non-ASCII usernames; ASCII ones never look like another.
pub fn check_new_username(value: &str) -> Result<(), String> {
    check_username(value)?;
    if !value.is_ascii() {
        return Err(format!(
            "{} is not a username the function creates: use lower-case ASCII letters, digits, '+', '.', '_', '@' and '-' (Keycloak refuses some non-ASCII usernames as lookalikes)",
            quoted(value)
        ));
    }
    Ok(())
}

fn check_https_url(value: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{} is not an https URL ({why}); expected https://host/path",
            quoted(value)
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
    fn text_counts_characters_and_clips_what_it_quotes() {
        type Name = Text<1, 5>;
        assert!(
            Name::try_from("ädäöü".to_owned()).is_ok(),
            "five characters, ten bytes"
        );
        assert_eq!(
            Name::try_from(String::new()).unwrap_err(),
            "must not be empty"
        );
        let long = "x".repeat(1 << 20);
        let err = Name::try_from(long).unwrap_err();
        assert!(
            err.ends_with("is 1048576 characters; at most 5 are allowed"),
            "{err}"
        );
        assert!(err.len() < 200, "{err}");
        let schema = schemars::SchemaGenerator::default().into_root_schema_for::<Name>();
        assert_eq!(schema.get("maxLength"), Some(&serde_json::json!(5)));
        assert_eq!(schema.get("minLength"), Some(&serde_json::json!(1)));
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
                // Keycloak's EmailValidationUtil refuses these local parts.
                "grace..hopper@acme.example",
                ".grace@acme.example",
                "grace.@acme.example",
                "grace(hopper)@acme.example",
                "grace,hopper@acme.example",
                "grace;hopper@acme.example",
                "grace[h]@acme.example",
            ],
            "is not an email address",
        );
        // Letters beyond ASCII (U+0080 to U+FFFF) and the atom's specials are Keycloak's too.
        accepts_and_refuses::<Email>(
            &[
                "zoë@acme.example",
                "o'brien+ops@acme.example",
                "a{b}|c@acme.example",
            ],
            &[],
            "",
        );
    }

    #[test]
    fn the_email_schema_pattern_refuses_the_domains_the_function_refuses() {
        let schema = serde_json::json!({"type": "string", "pattern": EMAIL_PATTERN});
        let pattern = jsonschema::validator_for(&schema).unwrap();
        for value in [
            "ada@acme.example",
            "zoë@bücher.example",
            "a@x1.y-z.example",
            "ada@acme",
            "a@x..y",
            "a@.acme.example",
            "a@acme.example.",
            "ada@-acme.example",
            "ada@acme-.example",
            "ada@ac_me.example",
            "ada@ac!me.example",
        ] {
            assert_eq!(
                pattern.is_valid(&serde_json::json!(value)),
                Email::try_from(value.to_owned()).is_ok(),
                "{value}"
            );
        }
    }

    #[test]
    fn person_names() {
        accepts_and_refuses::<PersonName>(
            &[
                "",
                "Grace",
                "Zoë O'Brien-Smith",
                "José María",
                "van der Berg, Jr.",
            ],
            &[
                "Grace (Amazing)",
                "<b>Ada</b>",
                "Ada & Bob",
                "Ada\u{2028}",
                "Ada\u{85}",
                "a/b",
                "§1",
            ],
            "which Keycloak refuses in a person's name",
        );
    }

    #[test]
    fn usernames() {
        accepts_and_refuses::<Username>(
            &[
                "ada.lovelace",
                "ada@acme.example",
                "ada+ops@acme.example",
                "a-b_c",
            ],
            &[
                "Ada",
                "a b",
                "",
                "ab",
                "o'brien",
                "a:b",
                "a%b",
                "a\tb",
                &"a".repeat(256),
            ],
            "is not a Keycloak username",
        );
        assert!(Username::try_from("josé".to_owned()).is_err());
        assert!(
            check_username("josé").is_ok(),
            "Keycloak holds Latin letters"
        );
        assert!(check_username("system:admin").is_err());
        // The match and the list the message shows are the same characters.
        for c in (' '..='~').chain(['§']) {
            assert_eq!(
                is_keycloak_prohibited(c),
                KEYCLOAK_PROHIBITED.contains(c),
                "{c:?}"
            );
        }
        // Keycloak counts UTF-16 units: 128 two-unit characters are 256.
        assert!(check_username(&"𝒶".repeat(127)).is_ok());
        assert!(check_username(&"𝒶".repeat(128)).is_err());
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
