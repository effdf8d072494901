//! OpenSSH public keys, checked before they reach a VM: a key the guest's sshd would not
//! accept is refused with the reason, instead of leaving a VM nobody can log in to.
//!
//! A key is one `type base64-blob [comment]` line (as in a `.pub` file), given raw or
//! base64-encoded. The type must be one OpenSSH accepts by default, and the blob must be the
//! SSH wire encoding of a key of that type: length-prefixed strings whose first one repeats
//! the type, with the number and sizes of fields the type has, and nothing after them.
//! (Hand-written rather than the `ssh-key` crate: the check needs only the wire framing, not
//! the crate's cryptography and its dependency tree.)

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

/// How a user's base64 wrapping of the key may look: padded or not.
const WRAPPING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Key types accepted, with the fields of their blob after the type string.
const KEY_TYPES: &[(&str, &[Field])] = &[
    ("ssh-ed25519", &[Field::Bytes(32)]),
    ("ssh-rsa", &[Field::Any, Field::RsaModulus]),
    (
        "ecdsa-sha2-nistp256",
        &[Field::Text("nistp256"), Field::Point(65)],
    ),
    (
        "ecdsa-sha2-nistp384",
        &[Field::Text("nistp384"), Field::Point(97)],
    ),
    (
        "ecdsa-sha2-nistp521",
        &[Field::Text("nistp521"), Field::Point(133)],
    ),
    (
        "sk-ssh-ed25519@openssh.com",
        &[Field::Bytes(32), Field::Any],
    ),
    (
        "sk-ecdsa-sha2-nistp256@openssh.com",
        &[Field::Text("nistp256"), Field::Point(65), Field::Any],
    ),
];

/// A field of a key blob.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// Non-empty bytes (an RSA exponent or modulus, a security key's application).
    Any,
    /// Exactly this many bytes (an Ed25519 key).
    Bytes(usize),
    /// This text (an ECDSA curve name).
    Text(&'static str),
    /// An uncompressed elliptic curve point of this many bytes (`0x04 || x || y`).
    Point(usize),
    /// An RSA modulus (an SSH mpint) of at least [`RSA_MINIMUM_BITS`].
    RsaModulus,
}

/// The shortest RSA modulus the guests accept: the default system-wide crypto policy of
/// RHEL 8 and later, CentOS Stream and Fedora refuses RSA keys under 2048 bits (OpenSSH
/// itself refuses those under 1024, `SSH_RSA_MINIMUM_MODULUS_SIZE`).
const RSA_MINIMUM_BITS: usize = 2048;

/// The bit length of an SSH mpint's magnitude (big-endian, leading zero bytes ignored).
fn mpint_bits(value: &[u8]) -> usize {
    let Some(start) = value.iter().position(|&b| b != 0) else {
        return 0;
    };
    (value.len() - start) * 8 - value[start].leading_zeros() as usize
}

/// A checked OpenSSH public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The key type (`ssh-ed25519`).
    pub key_type: &'static str,
    /// The key as an `authorized_keys` line: type, blob and comment, single-spaced.
    pub line: String,
}

/// Parses a public key given raw or base64-encoded. The error says what is wrong.
pub fn parse(data: &str) -> Result<PublicKey, String> {
    let text = data.trim();
    if text.is_empty() {
        return Err("it is empty".into());
    }
    let first = text.split_ascii_whitespace().next().unwrap_or_default();
    if text.contains([' ', '\t']) || key_type(first).is_some() {
        return parse_line(text);
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let decoded = WRAPPING
        .decode(compact)
        .map_err(|_| "it is neither a key line nor base64".to_owned())?;
    let line = String::from_utf8(decoded)
        .map_err(|_| "it decodes from base64 to something that is not text".to_owned())?;
    parse_line(line.trim()).map_err(|e| format!("it decodes from base64, but {e}"))
}

fn key_type(name: &str) -> Option<(&'static str, &'static [Field])> {
    KEY_TYPES.iter().find(|(t, _)| *t == name).copied()
}

fn parse_line(line: &str) -> Result<PublicKey, String> {
    if line.lines().count() > 1 {
        return Err("it holds more than one line; give exactly one key".into());
    }
    let mut parts = line.splitn(3, [' ', '\t']).filter(|p| !p.is_empty());
    let name = parts.next().unwrap_or_default();
    let Some((key_type, fields)) = key_type(name) else {
        let known: Vec<&str> = KEY_TYPES.iter().map(|(t, _)| *t).collect();
        return Err(format!(
            "key type {name:?} is not supported (supported: {})",
            known.join(", ")
        ));
    };
    let Some(blob) = parts.next() else {
        return Err(format!("the key data after {key_type:?} is missing"));
    };
    let bytes = STANDARD
        .decode(blob)
        .map_err(|_| "the key data is not valid base64".to_owned())?;
    check_blob(key_type, fields, &bytes)?;
    let mut normalised = format!("{key_type} {blob}");
    if let Some(comment) = parts.next().map(str::trim).filter(|c| !c.is_empty()) {
        normalised.push(' ');
        normalised.push_str(comment);
    }
    Ok(PublicKey {
        key_type,
        line: normalised,
    })
}

fn check_blob(key_type: &str, fields: &[Field], mut bytes: &[u8]) -> Result<(), String> {
    let malformed = || format!("the key data is not a well-formed {key_type} key");
    let embedded = take_string(&mut bytes).ok_or_else(malformed)?;
    if embedded != key_type.as_bytes() {
        return Err(format!(
            "the key data is a {:?} key but the line says {key_type:?}",
            String::from_utf8_lossy(embedded)
        ));
    }
    for field in fields {
        let value = take_string(&mut bytes).ok_or_else(malformed)?;
        let fits = match *field {
            Field::RsaModulus => match mpint_bits(value) {
                0 => false,
                bits if bits < RSA_MINIMUM_BITS => {
                    return Err(format!(
                        "it is a {bits}-bit RSA key, and the guests' default crypto policy refuses RSA keys under {RSA_MINIMUM_BITS} bits; use an ssh-ed25519 key (or RSA of {RSA_MINIMUM_BITS} bits or more)"
                    ));
                }
                _ => true,
            },
            Field::Any => !value.is_empty(),
            Field::Bytes(n) => value.len() == n,
            Field::Text(text) => value == text.as_bytes(),
            Field::Point(n) => value.len() == n && value[0] == 0x04,
        };
        if !fits {
            return Err(malformed());
        }
    }
    if bytes.is_empty() {
        Ok(())
    } else {
        Err(malformed())
    }
}

/// Takes one SSH wire string (a big-endian u32 length, then that many bytes).
fn take_string<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (length, rest) = bytes.split_first_chunk::<4>()?;
    let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
    if rest.len() < length {
        return None;
    }
    let (value, rest) = rest.split_at(length);
    *bytes = rest;
    Some(value)
}

/// base64 as OpenSSH writes it, for tests and examples.
#[cfg(test)]
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(bytes: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    fn blob(fields: &[&[u8]]) -> String {
        encode(&fields.iter().flat_map(|f| string(f)).collect::<Vec<u8>>())
    }

    fn ed25519() -> String {
        format!(
            "ssh-ed25519 {} dev@example.com",
            blob(&[b"ssh-ed25519", &[7; 32]])
        )
    }

    #[test]
    fn raw_and_base64_keys_parse_to_the_same_line() {
        let raw = parse(&ed25519()).unwrap();
        assert_eq!(raw.key_type, "ssh-ed25519");
        assert_eq!(raw.line, ed25519());
        assert_eq!(
            parse(&encode(format!("{}\n", ed25519()).as_bytes())).unwrap(),
            raw
        );
        let unpadded = encode(ed25519().as_bytes())
            .trim_end_matches('=')
            .to_owned();
        assert_eq!(parse(&unpadded).unwrap(), raw);
        assert_eq!(parse(&format!("  {}\n", ed25519())).unwrap(), raw);
    }

    #[test]
    fn rsa_keys_under_2048_bits_are_refused() {
        let rsa = |modulus: &[u8]| {
            parse(&format!(
                "ssh-rsa {}",
                blob(&[b"ssh-rsa", &[1, 0, 1], modulus])
            ))
        };
        // 2048 bits, written as OpenSSH does: a zero byte before a high first byte.
        let mut exact = vec![0u8, 0x80];
        exact.resize(257, 0x11);
        assert!(rsa(&exact).is_ok());
        let err = rsa(&[0x7f; 256]).unwrap_err();
        assert!(err.starts_with("it is a 2047-bit RSA key"), "{err}");
        assert!(rsa(&[0xc5; 128]).unwrap_err().contains("1024-bit"));
        assert!(rsa(&[0, 0]).unwrap_err().contains("not a well-formed"));
    }

    #[test]
    fn every_supported_type_parses() {
        let point = |n: usize| {
            let mut p = vec![4u8];
            p.resize(n, 1);
            p
        };
        let keys = [
            blob(&[b"ssh-rsa", &[1, 0, 1], &[0xc5; 257]]),
            blob(&[b"ecdsa-sha2-nistp256", b"nistp256", &point(65)]),
            blob(&[b"ecdsa-sha2-nistp384", b"nistp384", &point(97)]),
            blob(&[b"ecdsa-sha2-nistp521", b"nistp521", &point(133)]),
            blob(&[b"sk-ssh-ed25519@openssh.com", &[1; 32], b"ssh:"]),
            blob(&[
                b"sk-ecdsa-sha2-nistp256@openssh.com",
                b"nistp256",
                &point(65),
                b"ssh:",
            ]),
        ];
        for ((key_type, _), key) in KEY_TYPES[1..].iter().zip(keys) {
            let parsed =
                parse(&format!("{key_type} {key}")).unwrap_or_else(|e| panic!("{key_type}: {e}"));
            assert_eq!(parsed.key_type, *key_type);
            assert_eq!(parsed.line, format!("{key_type} {key}"));
        }
    }

    #[test]
    fn bad_keys_say_why() {
        let cases = [
            ("", "it is empty"),
            (
                "ssh-ed25519",
                "the key data after \"ssh-ed25519\" is missing",
            ),
            ("ssh-ed25519 !!!", "the key data is not valid base64"),
            ("hello", "it is neither a key line nor base64"),
            ("ssh-dss AAAA", "key type \"ssh-dss\" is not supported"),
            (
                "aGVsbG8gd29ybGQ=",
                "it decodes from base64, but key type \"hello\" is not supported",
            ),
        ];
        for (data, expected) in cases {
            let err = parse(data).unwrap_err();
            assert!(err.starts_with(expected), "{data:?}: {err}");
        }
        let mismatch = format!("ssh-rsa {}", blob(&[b"ssh-ed25519", &[7; 32]]));
        assert_eq!(
            parse(&mismatch).unwrap_err(),
            "the key data is a \"ssh-ed25519\" key but the line says \"ssh-rsa\""
        );
        let short = format!("ssh-ed25519 {}", blob(&[b"ssh-ed25519", &[7; 31]]));
        assert_eq!(
            parse(&short).unwrap_err(),
            "the key data is not a well-formed ssh-ed25519 key"
        );
        let trailing = format!("ssh-ed25519 {}", blob(&[b"ssh-ed25519", &[7; 32], b"x"]));
        assert_eq!(
            parse(&trailing).unwrap_err(),
            "the key data is not a well-formed ssh-ed25519 key"
        );
        let curve = format!(
            "ecdsa-sha2-nistp256 {}",
            blob(&[b"ecdsa-sha2-nistp256", b"nistp384", &[4; 65]])
        );
        assert_eq!(
            parse(&curve).unwrap_err(),
            "the key data is not a well-formed ecdsa-sha2-nistp256 key"
        );
        let two = format!("{}\n{}", ed25519(), ed25519());
        assert_eq!(
            parse(&two).unwrap_err(),
            "it holds more than one line; give exactly one key"
        );
        let truncated = format!("ssh-ed25519 {}", encode(&[0, 0, 0, 99, b's']));
        assert_eq!(
            parse(&truncated).unwrap_err(),
            "the key data is not a well-formed ssh-ed25519 key"
        );
    }

    #[test]
    fn an_ecdsa_point_must_be_uncompressed_and_the_curves_size() {
        let ecdsa = |point: &[u8]| {
            parse(&format!(
                "ecdsa-sha2-nistp256 {}",
                blob(&[b"ecdsa-sha2-nistp256", b"nistp256", point])
            ))
        };
        let malformed = "the key data is not a well-formed ecdsa-sha2-nistp256 key";
        let mut point = vec![4u8; 65];
        assert!(ecdsa(&point).is_ok());
        // The curve's size, but not the uncompressed form (0x04 || x || y).
        point[0] = 2;
        assert_eq!(ecdsa(&point).unwrap_err(), malformed);
        // Uncompressed, but a byte short of the curve's size.
        assert_eq!(ecdsa(&[4; 64]).unwrap_err(), malformed);
    }

    #[test]
    fn zero_bytes_before_an_rsa_modulus_do_not_lengthen_it() {
        // A 1024-bit modulus written with 129 leading zero bytes, as long as a 2048-bit one.
        let mut padded = vec![0u8; 129];
        padded.extend_from_slice(&[0xc5; 128]);
        let err = parse(&format!(
            "ssh-rsa {}",
            blob(&[b"ssh-rsa", &[1, 0, 1], &padded])
        ))
        .unwrap_err();
        assert!(err.starts_with("it is a 1024-bit RSA key"), "{err}");
    }
}
