//! The wire format of google.protobuf's JSON types (`Struct`, its map entries, `Value`,
//! `ListValue`), shared by the decoder ([`crate::Struct`], [`crate::Wire`]) and the encoder
//! ([`crate::to_struct`]): the field keys, a [`Reader`] of fields, and the faults reading
//! can find.
//!
//! # Errors
//!
//! The checks here report a [`Fault`], this crate's own kind of error. prost's `Message`
//! needs a `prost::DecodeError`, which prost 0.14 builds only through the deprecated
//! `DecodeError::new` or from its crate-private error kinds. So at the one place a fault
//! leaves the crate as a `DecodeError` (`Message::merge_field` of [`crate::Struct`]),
//! [`Fault::to_prost`] has prost's public decoding functions decode a minimal input with
//! the same fault, and returns the error prost itself gives for it: the text a caller sees
//! is prost's, word for word, and no deprecated API is used. The recursion limit needs
//! nesting deeper than prost allows; that input is built once (a `OnceLock`).

use std::fmt;
use std::sync::OnceLock;

use prost::DecodeError;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType, decode_varint};

/// How deep objects and lists may nest (prost's own recursion limit).
pub const MAX_DEPTH: u32 = 100;

// Field keys: all fields here are numbered below 16, so each key is one byte.
pub(crate) const fn key(field: u8, wire_type: u8) -> u8 {
    (field << 3) | wire_type
}
pub(crate) const LEN: u8 = 2;
/// Struct.fields entries, ListValue.values, an entry's key.
pub(crate) const ENTRY: u8 = key(1, LEN);
/// An entry's value.
pub(crate) const ENTRY_VALUE: u8 = key(2, LEN);
pub(crate) const NULL: u8 = key(1, 0);
pub(crate) const NUMBER: u8 = key(2, 1);
pub(crate) const STRING: u8 = key(3, LEN);
pub(crate) const BOOL: u8 = key(4, 0);
pub(crate) const STRUCT: u8 = key(5, LEN);
pub(crate) const LIST: u8 = key(6, LEN);

/// What is wrong with bytes that are not a well-formed Struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A string is not UTF-8.
    Utf8,
    /// A known field has another wire type, a wire type is not one, or a group appears.
    WireType,
    /// A field number is 0.
    Tag,
    /// A length or fixed-width value runs past the end.
    Underflow,
    /// A varint is longer than ten bytes or runs past the end.
    Varint,
    /// Nesting deeper than [`MAX_DEPTH`].
    Depth,
}

impl Fault {
    /// The `DecodeError` prost gives for this fault: prost's own decoding of a minimal input
    /// that has it (see the module doc).
    pub(crate) fn to_prost(self) -> DecodeError {
        let err = match self {
            Fault::Utf8 => {
                let mut s = String::new();
                prost::encoding::string::merge(
                    WireType::LengthDelimited,
                    &mut s,
                    &mut &[1, 0xff][..],
                    DecodeContext::default(),
                )
                .err()
            }
            Fault::WireType => {
                prost::encoding::check_wire_type(WireType::LengthDelimited, WireType::Varint).err()
            }
            Fault::Tag => prost::encoding::decode_key(&mut &[0u8][..]).err(),
            Fault::Underflow => {
                let mut bytes = Vec::<u8>::new();
                prost::encoding::bytes::merge(
                    WireType::LengthDelimited,
                    &mut bytes,
                    &mut &[1][..],
                    DecodeContext::default(),
                )
                .err()
            }
            Fault::Varint => decode_varint(&mut &[0x80; 11][..]).err(),
            Fault::Depth => {
                use prost::Message;
                let mut deep = Deep;
                deep.merge(too_deep()).err()
            }
        };
        err.expect("prost refuses the faulty input")
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_prost(), f)
    }
}

/// A message whose field 1 is itself, without prost's derive (which would add its field
/// names to the error): decoding nests as deep as the input does.
#[derive(Debug, Default)]
struct Deep;

impl prost::Message for Deep {
    fn encode_raw(&self, _: &mut impl BufMut) {}

    fn merge_field(
        &mut self,
        _tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        prost::encoding::message::merge(wire_type, self, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        0
    }

    fn clear(&mut self) {}
}

/// A [`Deep`] nested one level more than prost decodes, built once.
fn too_deep() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut bytes = Vec::new();
        for _ in 0..=MAX_DEPTH {
            let mut outer = vec![ENTRY];
            prost::encoding::encode_varint(bytes.len() as u64, &mut outer);
            outer.extend_from_slice(&bytes);
            bytes = outer;
        }
        bytes
    })
}

/// Protobuf fields of a byte slice, one at a time.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    /// The next field's number and wire type; `None` at the end.
    #[inline]
    pub(crate) fn key(&mut self) -> Result<Option<(u32, WireType)>, Fault> {
        let key = match self.0 {
            [] => return Ok(None),
            // Every field of google.protobuf's JSON types has a one-byte key.
            [byte @ 0x08..0x80, rest @ ..] => {
                self.0 = rest;
                u64::from(*byte)
            }
            _ => self.varint()?,
        };
        let wire_type = wire_type(key & 7)?;
        let field = u32::try_from(key >> 3)
            .ok()
            .filter(|&f| f != 0)
            .ok_or(Fault::Tag)?;
        Ok(Some((field, wire_type)))
    }

    /// A varint; keys and most lengths here are one byte, so that case comes first.
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, Fault> {
        match self.0 {
            [byte @ 0..0x80, rest @ ..] => {
                self.0 = rest;
                Ok(u64::from(*byte))
            }
            _ => decode_varint(&mut self.0).map_err(|_| Fault::Varint),
        }
    }

    pub(crate) fn fixed64(&mut self) -> Result<u64, Fault> {
        let (bytes, rest) = self.0.split_first_chunk::<8>().ok_or(Fault::Underflow)?;
        self.0 = rest;
        Ok(u64::from_le_bytes(*bytes))
    }

    #[inline]
    pub(crate) fn delimited(&mut self) -> Result<&'a [u8], Fault> {
        let len = self.varint()?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= self.0.len())
            .ok_or(Fault::Underflow)?;
        let (body, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(body)
    }

    /// Skips a field of an unknown number. Groups are not skipped: google.protobuf's JSON
    /// types never hold one.
    pub(crate) fn skip(&mut self, wire_type: WireType) -> Result<(), Fault> {
        match wire_type {
            WireType::Varint => self.varint().map(drop),
            WireType::SixtyFourBit => self.fixed64().map(drop),
            WireType::LengthDelimited => self.delimited().map(drop),
            WireType::ThirtyTwoBit => {
                self.0 = self.0.get(4..).ok_or(Fault::Underflow)?;
                Ok(())
            }
            WireType::StartGroup | WireType::EndGroup => Err(Fault::WireType),
        }
    }
}

/// The wire type in a key's low three bits.
#[inline]
pub(crate) fn wire_type(bits: u64) -> Result<WireType, Fault> {
    WireType::try_from(bits).map_err(|_| Fault::WireType)
}

/// A string value's text (its bytes were checked when decoded, so this only fails on bytes
/// that were not).
pub(crate) fn text(bytes: &[u8]) -> Result<&str, Fault> {
    std::str::from_utf8(bytes).map_err(|_| Fault::Utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fault_is_the_error_prost_gives_for_it() {
        let text = |f: Fault| f.to_prost().to_string();
        let prefix = "failed to decode Protobuf message: ";
        assert_eq!(
            text(Fault::Utf8),
            format!("{prefix}invalid string value: data is not UTF-8 encoded")
        );
        assert!(
            text(Fault::WireType).starts_with(&format!("{prefix}invalid wire type")),
            "{}",
            text(Fault::WireType)
        );
        assert_eq!(text(Fault::Tag), format!("{prefix}invalid tag value: 0"));
        assert_eq!(text(Fault::Underflow), format!("{prefix}buffer underflow"));
        assert_eq!(text(Fault::Varint), format!("{prefix}invalid varint"));
        assert_eq!(
            text(Fault::Depth),
            format!("{prefix}recursion limit reached")
        );
        assert_eq!(Fault::Depth.to_string(), text(Fault::Depth));
    }

    #[test]
    fn the_keys_are_the_protobuf_keys() {
        assert_eq!(
            [ENTRY, ENTRY_VALUE, NULL, NUMBER, STRING, BOOL, STRUCT, LIST],
            [0x0a, 0x12, 0x08, 0x11, 0x1a, 0x20, 0x2a, 0x32]
        );
    }
}
