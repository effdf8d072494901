//! `google.protobuf.Struct` kept as its wire bytes (the generated protocol code uses this type
//! through `extern_path`), read into and written from `serde_json` directly.
//!
//! A function reads a few of the objects a request carries and passes the rest through:
//! desired resources composed by earlier steps, the context, observed resources it does not
//! look at. As prost messages every object became a tree of `Struct`s and `Value`s on decode,
//! was cloned into the response, converted again into JSON when read, and freed node by node.
//! Here decoding checks the bytes (well formed, UTF-8 strings, nesting at most
//! [`MAX_DEPTH`]) and keeps them; passing an object through is a copy of bytes; reading one
//! goes through one serde `Deserializer` over the bytes ([`Wire`]), into `serde_json` or
//! straight into a typed value. Writing, of JSON as of typed values, goes through the one
//! encoder, [`crate::to_struct`]; JSON objects come out as the bytes prost_types writes.
//!
//! A field of a oneof (`Value.kind`) or of a map entry that appears twice keeps the last one,
//! as for scalars; canonical encoders (Go's, prost's) never write a message field twice.

use std::fmt;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{
    self, DecodeContext, WireType, check_wire_type, decode_varint, encode_varint,
    encoded_len_varint,
};
use prost::{DecodeError, Message};

use crate::ser;
use crate::wire::{
    BOOL, ENTRY, ENTRY_VALUE, Fault, LEN, LIST, MAX_DEPTH, NULL, NUMBER, Reader, STRING, STRUCT,
    text, wire_type,
};
use serde::{Deserialize, de};
use serde_json::{Map, Value};

/// Largest integer an `f64` represents exactly.
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A JSON object, `google.protobuf.Struct`, as the body of its encoding: one length-delimited
/// field 1 (a map entry) per key. Always well formed: only decoding (which checks) and
/// [`Struct::from_json`] make one.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Struct {
    raw: Vec<u8>,
}

impl Struct {
    /// Encodes a JSON object, through [`crate::to_struct`]: its keys in the map's order,
    /// which for `serde_json::Map` is sorted, so the bytes are those prost_types writes.
    pub fn from_json(object: &Map<String, Value>) -> Self {
        // A map with string keys always serialises to an object.
        crate::to_struct(object).unwrap_or_default()
    }

    /// A Struct from the bytes of its body, which [`super::pbser`] wrote.
    pub(crate) fn from_raw(raw: Vec<u8>) -> Self {
        Self { raw }
    }

    /// The object as JSON.
    pub fn to_json(&self) -> Map<String, Value> {
        // The bytes were checked when they were decoded (or written by us): this cannot fail.
        Map::deserialize(self.deserializer()).unwrap_or_default()
    }

    /// The value of `key`, as JSON.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.value_at(&[key])
    }

    /// The value at `path` (`["sco", "virtualMachine"]`), as JSON: nothing else is decoded.
    pub fn value_at(&self, path: &[&str]) -> Option<Value> {
        Value::deserialize(self.wire_at(path)?).ok()
    }

    /// The value at `path`, still encoded: compared by its bytes, read only when needed.
    pub fn encoded_at(&self, path: &[&str]) -> Option<Encoded<'_>> {
        self.wire_at(path).map(Encoded)
    }

    /// The string at `path` (`["metadata", "name"]`), borrowed: nothing is decoded but the
    /// entries on the way.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        match self.wire_at(path)? {
            Wire::Str(bytes) => text(bytes).ok(),
            _ => None,
        }
    }

    /// The strings at `keys` of the object at `path` (`&[]`: this object), all read in one
    /// pass over its entries; `""` for a key that is missing or not a string.
    pub fn strs_at<const N: usize>(&self, path: &[&str], keys: [&str; N]) -> [&str; N] {
        match self.wire_at(path) {
            Some(Wire::Object(object)) => strs_of(object, &keys),
            _ => [""; N],
        }
    }

    /// For each item of the list at `path`, in order, the strings at `keys` of that item as
    /// [`Struct::strs_at`] reads them (`""` for each key of an item that is not an object);
    /// no items when `path` holds no list. Reads `status.conditions` without building it.
    pub fn list_strs_at<const N: usize>(
        &self,
        path: &[&str],
        keys: [&str; N],
    ) -> impl Iterator<Item = [&str; N]> {
        let mut reader = Reader(match self.wire_at(path) {
            Some(Wire::List(list)) => list,
            _ => &[],
        });
        std::iter::from_fn(move || {
            let item = next_item(&mut reader).ok()??;
            Some(match wire_value(item) {
                Ok(Wire::Object(object)) => strs_of(object, &keys),
                _ => [""; N],
            })
        })
    }

    /// The value at `path`, found by walking the entries on the way (the last of a repeated
    /// key wins, as when decoding).
    fn wire_at(&self, path: &[&str]) -> Option<Wire<'_>> {
        let mut current = self.deserializer();
        for key in path {
            let Wire::Object(object) = current else {
                return None;
            };
            current = entries(object)
                .filter(|e| e.key == key.as_bytes())
                .last()?
                .value()?;
        }
        Some(current)
    }

    /// Sets `key` to `value`, replacing every entry of that key. The entry goes before the
    /// first key that sorts after it, so an object whose keys are in order stays in order.
    pub fn insert(&mut self, key: &str, value: &Value) {
        let mut new = Vec::new();
        // A JSON value always serialises.
        let _ = ser::entry(&mut new, key, value);
        let mut raw = Vec::with_capacity(self.raw.len() + new.len());
        let mut written = false;
        for entry in entries(&self.raw) {
            if entry.key == key.as_bytes() {
                continue;
            }
            // Byte order is the order of the keys as strings.
            if !written && entry.key > key.as_bytes() {
                raw.extend_from_slice(&new);
                written = true;
            }
            raw.extend_from_slice(entry.whole);
        }
        if !written {
            raw.extend_from_slice(&new);
        }
        self.raw = raw;
    }

    /// Whether the object has no entries.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

impl fmt::Debug for Struct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Struct({})", Value::Object(self.to_json()))
    }
}

/// A value of a Struct as it is encoded (see [`Struct::encoded_at`]).
#[derive(Debug, Clone, Copy)]
pub struct Encoded<'a>(Wire<'a>);

impl Encoded<'_> {
    /// The value as JSON.
    pub fn to_json(self) -> Value {
        Value::deserialize(self.0).unwrap_or(Value::Null)
    }

    /// Bytes identifying the value: values with the same key are the same value (the same
    /// value encoded differently, with its keys in another order say, has another key).
    pub fn key(&self) -> Vec<u8> {
        self.key_parts(|kind, bytes| [&[kind][..], bytes].concat())
    }

    /// Whether `key` is this value's [`Encoded::key`], compared without building it.
    pub fn has_key(&self, key: &[u8]) -> bool {
        self.key_parts(|kind, bytes| key.split_first() == Some((&kind, bytes)))
    }

    fn key_parts<R>(&self, with: impl FnOnce(u8, &[u8]) -> R) -> R {
        match self.0 {
            Wire::Null => with(0, &[]),
            Wire::Bool(b) => with(1, &[u8::from(b)]),
            Wire::Number(n) => with(2, &n.to_le_bytes()),
            Wire::Str(bytes) => with(3, bytes),
            Wire::Object(bytes) => with(4, bytes),
            Wire::List(bytes) => with(5, bytes),
        }
    }
}

/// The strings at `keys` of the object with body `object`, in one pass over its entries.
fn strs_of<'a, const N: usize>(object: &'a [u8], keys: &[&str; N]) -> [&'a str; N] {
    let mut found = [""; N];
    for entry in entries(object) {
        if let Some(i) = keys.iter().position(|k| k.as_bytes() == entry.key) {
            // The last of a repeated key wins, as when decoding.
            found[i] = match entry.value() {
                Some(Wire::Str(bytes)) => text(bytes).unwrap_or_default(),
                _ => "",
            };
        }
    }
    found
}

/// One map entry of a Struct's encoding.
struct Entry<'a> {
    /// The key's bytes: compared with keys looked for, never read as text, so walking a
    /// path checks no UTF-8 (decoding did).
    key: &'a [u8],
    /// The body of the value, decoded only by [`Entry::value`]: a path walk skips the
    /// values of the keys it passes.
    value: &'a [u8],
    /// The whole field: key, length and body.
    whole: &'a [u8],
}

impl<'a> Entry<'a> {
    /// The value; `None` if it is malformed (checked bytes have no such value).
    fn value(&self) -> Option<Wire<'a>> {
        wire_value(self.value).ok()
    }
}

/// The entries of an object's body, in the order they were written; stops at the first
/// malformed one (checked bytes have none).
fn entries(object: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    let mut reader = Reader(object);
    std::iter::from_fn(move || {
        loop {
            let before = reader.0;
            let (field, wire_type) = reader.key().ok()??;
            if field != 1 || wire_type != WireType::LengthDelimited {
                reader.skip(wire_type).ok()?;
                continue;
            }
            let body = reader.delimited().ok()?;
            let whole = &before[..before.len() - reader.0.len()];
            let (key, value) = raw_entry(body).ok()?;
            return Some(Entry { key, value, whole });
        }
    })
}

impl Message for Struct {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.raw);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag != 1 {
            return encoding::skip_field(wire_type, tag, buf, ctx);
        }
        check_wire_type(WireType::LengthDelimited, wire_type)?;
        let len = decode_varint(buf)?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= buf.remaining())
            .ok_or_else(|| Fault::Underflow.to_prost())?;
        let start = self.raw.len();
        if start == 0 {
            // prost hands over one entry at a time; the entries that follow this one are in
            // the same buffer, so room for all of them is made now rather than regrown (and
            // copied) entry by entry.
            self.raw.reserve(following_entries(len, buf.chunk()));
        } else {
            self.raw.reserve(delimited(len));
        }
        self.raw.put_u8(ENTRY);
        encode_varint(len as u64, &mut self.raw);
        let body = self.raw.len();
        self.raw.put(buf.take(len));
        // The entry's value is one level below the Struct itself.
        if let Err(fault) = check(&self.raw[body..], Json::Entry, 1) {
            self.raw.truncate(start);
            return Err(fault.to_prost());
        }
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.raw.len()
    }

    fn clear(&mut self) {
        self.raw.clear();
    }
}

/// The size, as this type stores them, of a Struct's entry whose body (`len` bytes) starts
/// `rest` and of the entries (`ENTRY` fields) that directly follow it in `rest`. Only an
/// estimate for reserving: a field 1 of the enclosing message right after the Struct counts
/// as one more entry, and the scan stops at anything that does not fit.
fn following_entries(len: usize, rest: &[u8]) -> usize {
    let mut total = delimited(len);
    let mut reader = Reader(rest.get(len..).unwrap_or_default());
    while let [ENTRY, after @ ..] = reader.0 {
        reader.0 = after;
        match reader.delimited() {
            Ok(body) => total += delimited(body.len()),
            Err(_) => break,
        }
    }
    total
}

fn deeper(depth: u32) -> Result<u32, Fault> {
    if depth >= MAX_DEPTH {
        return Err(Fault::Depth);
    }
    Ok(depth + 1)
}

/// The messages of google.protobuf's JSON types.
#[derive(Clone, Copy)]
enum Json {
    Struct,
    Entry,
    Value,
    List,
}

/// Checks the body of a `message` as decoding must (well formed, strings UTF-8, nesting at
/// most [`MAX_DEPTH`]) without building anything. Every byte of a request passes here: the
/// encoding canonical encoders write (Go's, prost's, ours) is checked by [`canonical`] in
/// one pass without a call per protobuf message; anything else (unknown or repeated fields,
/// long varints, every malformed body) is walked again by [`check_any`], which also names
/// what is wrong, so no body costs more than two passes.
fn check(body: &[u8], message: Json, depth: u32) -> Result<(), Fault> {
    let canonical = match message {
        Json::Entry => canonical::entry(body, depth),
        Json::Struct => canonical::object(body, depth),
        Json::Value => canonical::value(body, depth),
        Json::List => canonical::list(body, depth),
    };
    if canonical {
        Ok(())
    } else {
        check_any(body, message, depth)
    }
}

/// [`check`] for any encoding a protobuf decoder accepts.
fn check_any(mut body: &[u8], message: Json, depth: u32) -> Result<(), Fault> {
    while let [first, rest @ ..] = body {
        let (field, wire_type) = if *first < 0x80 {
            body = rest;
            (first >> 3, first & 7)
        } else {
            let key = decode_varint(&mut body).map_err(|_| Fault::Varint)?;
            // Numbers above 6 are unknown fields for every message here.
            (u8::try_from(key >> 3).unwrap_or(u8::MAX), (key & 7) as u8)
        };
        if field == 0 {
            return Err(Fault::Tag);
        }
        match (message, field, wire_type) {
            (Json::Struct | Json::List, 1, LEN) => {
                let inner = if matches!(message, Json::Struct) {
                    Json::Entry
                } else {
                    Json::Value
                };
                check_any(take(&mut body)?, inner, depth)?;
            }
            (Json::Entry, 1, LEN) | (Json::Value, 3, LEN) => {
                if !is_utf8(take(&mut body)?) {
                    return Err(Fault::Utf8);
                }
            }
            (Json::Entry, 2, LEN) => check_any(take(&mut body)?, Json::Value, depth)?,
            (Json::Value, 5, LEN) => check_any(take(&mut body)?, Json::Struct, deeper(depth)?)?,
            (Json::Value, 6, LEN) => check_any(take(&mut body)?, Json::List, deeper(depth)?)?,
            (Json::Value, 1 | 4, 0) | (Json::Value, 2, 1) => {
                let mut reader = Reader(body);
                reader.skip(self::wire_type(u64::from(wire_type))?)?;
                body = reader.0;
            }
            (Json::Value, 1..=6, _) | (Json::Entry, 1 | 2, _) => {
                return Err(Fault::WireType);
            }
            _ => {
                let mut reader = Reader(body);
                reader.skip(self::wire_type(u64::from(wire_type))?)?;
                body = reader.0;
            }
        }
    }
    Ok(())
}

/// Whether a string field's bytes are UTF-8 (most are ASCII, which is checked faster).
fn is_utf8(bytes: &[u8]) -> bool {
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

/// The canonical encoding of google.protobuf's JSON types, checked in one pass: each field
/// once, in field order, lengths in at most three bytes. `true` means the body is valid;
/// `false` only that it is not in this form ([`check_any`] then decides). Every body this
/// accepts, [`check_any`] accepts too (a test compares them on every one-byte change of an
/// encoding), so [`check`] means the same either way.
mod canonical {
    use super::{BOOL, ENTRY, ENTRY_VALUE, LIST, MAX_DEPTH, NULL, NUMBER, STRING, STRUCT, is_utf8};

    /// A map entry of a Struct: key, then value.
    pub(super) fn entry(mut body: &[u8], depth: u32) -> bool {
        // proto3 leaves an empty key out.
        let key = match body {
            [ENTRY_VALUE, ..] => Some(&[][..]),
            _ => field(&mut body, ENTRY),
        };
        let (Some(key), Some(value)) = (key, field(&mut body, ENTRY_VALUE)) else {
            return false;
        };
        body.is_empty() && is_utf8(key) && self::value(value, depth)
    }

    /// A Struct's body: its entries.
    pub(super) fn object(body: &[u8], depth: u32) -> bool {
        each(body, depth, entry)
    }

    /// A ListValue's body: its values.
    pub(super) fn list(body: &[u8], depth: u32) -> bool {
        each(body, depth, value)
    }

    /// A body of repeated field 1, each item valid as `item` says.
    #[inline(always)]
    fn each(mut body: &[u8], depth: u32, item: impl Fn(&[u8], u32) -> bool) -> bool {
        while !body.is_empty() {
            match field(&mut body, ENTRY) {
                Some(one) if item(one, depth) => {}
                _ => return false,
            }
        }
        true
    }

    /// A Value's body: one kind, or none (null).
    pub(super) fn value(body: &[u8], depth: u32) -> bool {
        let mut rest = body;
        match body {
            [] => true,
            [NUMBER, number @ ..] => number.len() == 8,
            [NULL | BOOL, 0..0x80] => true,
            [STRING, ..] => field(&mut rest, STRING).is_some_and(|s| rest.is_empty() && is_utf8(s)),
            // Nesting counts as check_any counts it; at the limit, check_any reports it.
            [STRUCT, ..] if depth < MAX_DEPTH => {
                field(&mut rest, STRUCT).is_some_and(|o| rest.is_empty() && object(o, depth + 1))
            }
            [LIST, ..] if depth < MAX_DEPTH => {
                field(&mut rest, LIST).is_some_and(|l| rest.is_empty() && list(l, depth + 1))
            }
            _ => false,
        }
    }

    /// The body of the length-delimited field with one-byte key `key` at the front of
    /// `body`, which moves past it; `None` if something else comes next. Lengths of up to
    /// three bytes are decoded here, inline: through `Reader::delimited` a call's check
    /// costs an eighth more instructions (callgrind, `virtualmachine/public`).
    #[inline(always)]
    fn field<'a>(body: &mut &'a [u8], key: u8) -> Option<&'a [u8]> {
        let (len, rest) = match *body {
            [k, len @ 0..0x80, rest @ ..] if *k == key => (usize::from(*len), rest),
            [k, low @ 0x80..=0xff, high @ 0..0x80, rest @ ..] if *k == key => {
                (usize::from(low & 0x7f) | usize::from(*high) << 7, rest)
            }
            [
                k,
                low @ 0x80..=0xff,
                mid @ 0x80..=0xff,
                high @ 0..0x80,
                rest @ ..,
            ] if *k == key => (
                usize::from(low & 0x7f) | usize::from(mid & 0x7f) << 7 | usize::from(*high) << 14,
                rest,
            ),
            _ => return None,
        };
        let (taken, rest) = rest.split_at_checked(len)?;
        *body = rest;
        Some(taken)
    }
}

/// The next length-delimited body.
#[inline]
fn take<'a>(body: &mut &'a [u8]) -> Result<&'a [u8], Fault> {
    let mut reader = Reader(body);
    let taken = reader.delimited()?;
    *body = reader.0;
    Ok(taken)
}

// Reading into typed values.

/// An error reading a typed value out of a Struct, or writing one into a Struct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SerdeError(pub(crate) String);

impl de::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

impl serde::ser::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

impl From<Fault> for SerdeError {
    fn from(e: Fault) -> Self {
        Self(e.to_string())
    }
}

impl Struct {
    /// A deserializer reading this object straight from its bytes: no JSON tree is built,
    /// fields the target type ignores are skipped, strings are borrowed until kept. Numbers
    /// and enums read as from `serde_json::Value` (integral numbers as integers, enums as
    /// strings).
    pub fn deserializer(&self) -> Wire<'_> {
        Wire::Object(&self.raw)
    }
}

/// One value of a Struct's encoding, borrowed: a serde `Deserializer`.
#[derive(Debug, Clone, Copy)]
pub enum Wire<'de> {
    /// `null`, or a value that is not set.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string, as its bytes: checked as UTF-8 when decoded, and again (safe Rust cannot
    /// skip it) only when read, so strings a reader skips cost nothing.
    Str(&'de [u8]),
    /// An object: the body of its Struct.
    Object(&'de [u8]),
    /// A list: the body of its ListValue.
    List(&'de [u8]),
}

/// The value a `google.protobuf.Value` body holds (the last kind set wins).
fn wire_value(body: &[u8]) -> Result<Wire<'_>, Fault> {
    let mut reader = Reader(body);
    let mut value = Wire::Null;
    while let Some((field, wire_type)) = reader.key()? {
        value = match (field, wire_type) {
            (1, WireType::Varint) => {
                reader.varint()?;
                Wire::Null
            }
            (2, WireType::SixtyFourBit) => Wire::Number(f64::from_bits(reader.fixed64()?)),
            (3, WireType::LengthDelimited) => Wire::Str(reader.delimited()?),
            (4, WireType::Varint) => Wire::Bool(reader.varint()? != 0),
            (5, WireType::LengthDelimited) => Wire::Object(reader.delimited()?),
            (6, WireType::LengthDelimited) => Wire::List(reader.delimited()?),
            (1..=6, _) => return Err(Fault::WireType),
            _ => {
                reader.skip(wire_type)?;
                continue;
            }
        };
    }
    Ok(value)
}

/// A map entry's key, as bytes, and the body of its value (empty, null, when it has none).
fn raw_entry(body: &[u8]) -> Result<(&[u8], &[u8]), Fault> {
    let mut reader = Reader(body);
    let (mut key, mut value): (&[u8], &[u8]) = (&[], &[]);
    while let Some((field, wire_type)) = reader.key()? {
        match (field, wire_type) {
            (1, WireType::LengthDelimited) => key = reader.delimited()?,
            (2, WireType::LengthDelimited) => value = reader.delimited()?,
            _ => reader.skip(wire_type)?,
        }
    }
    Ok((key, value))
}

/// The next length-delimited field 1 (a Struct's entry, a ListValue's value), skipping others.
fn next_item<'de>(reader: &mut Reader<'de>) -> Result<Option<&'de [u8]>, Fault> {
    while let Some((field, wire_type)) = reader.key()? {
        if field == 1 && wire_type == WireType::LengthDelimited {
            return reader.delimited().map(Some);
        }
        reader.skip(wire_type)?;
    }
    Ok(None)
}

impl<'de> de::Deserializer<'de> for Wire<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Wire::Null => visitor.visit_unit(),
            Wire::Bool(b) => visitor.visit_bool(b),
            // JSON has no NaN or infinities: those read as null. Integral values an f64
            // holds exactly (|n| <= 2^53) read as integers, so `cpu: 2` fills a `u32`.
            Wire::Number(n) if !n.is_finite() => visitor.visit_unit(),
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Wire::Number(n) if n.fract() == 0.0 && n.abs() <= MAX_EXACT_INTEGER => {
                if n >= 0.0 {
                    visitor.visit_u64(n as u64)
                } else {
                    visitor.visit_i64(n as i64)
                }
            }
            Wire::Number(n) => visitor.visit_f64(n),
            Wire::Str(bytes) => visitor.visit_borrowed_str(text(bytes)?),
            Wire::Object(body) => visitor.visit_map(ObjectAccess {
                reader: Reader(body),
                value: &[],
            }),
            Wire::List(body) => visitor.visit_seq(ListAccess(Reader(body))),
        }
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Wire::Null => visitor.visit_none(),
            // A non-finite number reads as null (see `deserialize_any`), here as none.
            Wire::Number(n) if !n.is_finite() => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self {
            Wire::Str(bytes) => {
                visitor.visit_enum(de::value::BorrowedStrDeserializer::new(text(bytes)?))
            }
            other => other.deserialize_any(visitor),
        }
    }

    /// A struct reads only from an object: serde's derived structs also take a list of
    /// their fields in order, which would let `cloudInit: [text]` read as `{userData: text}`.
    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self {
            Wire::List(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &visitor)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier
    }
}

struct ObjectAccess<'de> {
    reader: Reader<'de>,
    /// The body of the value of the key last read.
    value: &'de [u8],
}

impl<'de> de::MapAccess<'de> for ObjectAccess<'de> {
    type Error = SerdeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        let Some(entry) = next_item(&mut self.reader)? else {
            return Ok(None);
        };
        let (key, value) = raw_entry(entry)?;
        self.value = value;
        seed.deserialize(de::value::BorrowedStrDeserializer::new(text(key)?))
            .map(Some)
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, SerdeError> {
        seed.deserialize(wire_value(std::mem::take(&mut self.value))?)
    }
}

struct ListAccess<'de>(Reader<'de>);

impl<'de> de::SeqAccess<'de> for ListAccess<'de> {
    type Error = SerdeError;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, SerdeError> {
        match next_item(&mut self.0)? {
            Some(body) => seed.deserialize(wire_value(body)?).map(Some),
            None => Ok(None),
        }
    }
}

/// The size of a length-delimited field with a one-byte key and a body of `len` bytes.
fn delimited(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::key;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(o) => o,
            _ => panic!("an object"),
        }
    }

    fn tree() -> Map<String, Value> {
        object(json!({
            "metadata": {"name": "web", "": "empty key", "big": "x".repeat(300)},
            "items": [22, -0.5, true, false, null, {"name": "web"}, ["deep", {}]],
            "emptyList": [],
            "emptyObject": {},
            "text": "",
            "huge": 1.0e300,
            "cpu": 2,
        }))
    }

    /// Decodes `bytes` as a message holding a Struct in field 1, the way a request holds one.
    fn decode(bytes: &[u8]) -> Result<Struct, DecodeError> {
        #[derive(Clone, PartialEq, prost::Message)]
        struct Holder {
            #[prost(message, optional, tag = "1")]
            s: Option<Struct>,
        }
        let mut framed = vec![ENTRY];
        encode_varint(bytes.len() as u64, &mut framed);
        framed.extend_from_slice(bytes);
        Holder::decode(framed.as_slice()).map(|h| h.s.unwrap_or_default())
    }

    fn prost_types_struct(json: &Map<String, Value>) -> prost_types::Struct {
        fn value(v: &Value) -> prost_types::Value {
            use prost_types::value::Kind;
            let kind = match v {
                Value::Null => Kind::NullValue(0),
                Value::Bool(b) => Kind::BoolValue(*b),
                Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap()),
                Value::String(s) => Kind::StringValue(s.clone()),
                Value::Array(a) => Kind::ListValue(prost_types::ListValue {
                    values: a.iter().map(value).collect(),
                }),
                Value::Object(o) => Kind::StructValue(prost_types_struct(o)),
            };
            prost_types::Value { kind: Some(kind) }
        }
        prost_types::Struct {
            fields: json.iter().map(|(k, v)| (k.clone(), value(v))).collect(),
        }
    }

    #[test]
    fn encodes_to_the_bytes_prost_types_writes() {
        let json = tree();
        let ours = Struct::from_json(&json);
        assert_eq!(
            ours.encode_to_vec(),
            prost_types_struct(&json).encode_to_vec()
        );
        assert_eq!(ours.encoded_len(), ours.encode_to_vec().len());
    }

    #[test]
    fn lengths_on_each_side_of_a_varint_boundary_are_what_prost_types_writes() {
        // Containers nested five deep, the innermost string's length on each side of the
        // lengths that need two, three and four varint bytes, so that every container
        // around it crosses one too, with short siblings before and after.
        for n in (100..140)
            .chain(16_340..16_400)
            .chain([2_097_100, 2_097_200])
        {
            let json = object(json!({
                "a": "x",
                "b": {"c": [1, {"d": "y".repeat(n), "e": [true, null]}, "z"], "f": {}},
                "g": "y".repeat(n % 200),
            }));
            assert_eq!(
                Struct::from_json(&json).encode_to_vec(),
                prost_types_struct(&json).encode_to_vec(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn decodes_what_prost_types_writes() {
        let bytes = prost_types_struct(&tree()).encode_to_vec();
        let ours = decode(&bytes).unwrap();
        assert_eq!(ours.to_json(), tree());
        assert_eq!(ours.encode_to_vec(), bytes, "passed through unchanged");
    }

    #[test]
    fn a_decoded_struct_is_allocated_once_at_its_size() {
        let bytes = prost_types_struct(&tree()).encode_to_vec();
        let ours = decode(&bytes).unwrap();
        assert_eq!(ours.raw.len(), bytes.len());
        assert_eq!(
            ours.raw.capacity(),
            bytes.len(),
            "reserved for every entry at once"
        );
        // The estimate from the first entry's body on: every entry, and nothing of what
        // follows the Struct in its message unless it looks like one more entry.
        let mut reader = Reader(&bytes);
        reader.key().unwrap();
        let first = reader.delimited().unwrap().len();
        let body_at = bytes.len() - reader.0.len() - first;
        let with = |tail: &[u8]| [&bytes[body_at..], tail].concat();
        assert_eq!(following_entries(first, &with(&[])), bytes.len());
        assert_eq!(
            following_entries(first, &with(&[key(2, 0), 1])),
            bytes.len()
        );
        assert_eq!(following_entries(first, &with(&[ENTRY, 200])), bytes.len());
        assert_eq!(
            following_entries(first, &with(&[ENTRY, 1, 0])),
            bytes.len() + 3
        );
        assert_eq!(
            following_entries(first, &bytes[body_at..body_at + 1]),
            delimited(first)
        );
    }

    #[test]
    fn encoded_values_are_keyed_by_their_bytes() {
        let s = Struct::from_json(&tree());
        let metadata = s.encoded_at(&["metadata"]).unwrap();
        assert_eq!(metadata.to_json(), tree()["metadata"]);
        assert!(metadata.has_key(&metadata.key()));
        let other = Struct::from_json(&object(json!({"metadata": {"name": "db"}})));
        assert!(
            !other
                .encoded_at(&["metadata"])
                .unwrap()
                .has_key(&metadata.key())
        );
        // The same bytes as another kind of value are another value.
        let name = s.encoded_at(&["metadata", "name"]).unwrap();
        assert_eq!(name.to_json(), json!("web"));
        let mut as_object = name.key();
        as_object[0] = 4;
        assert!(!name.has_key(&as_object));
        assert!(!name.has_key(&[]));
        assert!(s.encoded_at(&["metadata", "missing"]).is_none());
    }

    #[test]
    fn integers_come_back_as_integers_and_non_finite_numbers_as_null() {
        let json = Struct::from_json(&tree()).to_json();
        assert!(json["cpu"].is_u64());
        assert!(json["items"][1].is_f64());
        assert!(json["huge"].is_f64());
        let nan = prost_types::Struct {
            fields: [(
                "n".to_owned(),
                prost_types::Value {
                    kind: Some(prost_types::value::Kind::NumberValue(f64::NAN)),
                },
            )]
            .into(),
        };
        let s = decode(&nan.encode_to_vec()).unwrap();
        assert_eq!(s.to_json()["n"], Value::Null);
        // Typed, too, as JSON's null reads: nothing for an option, an error for a number.
        #[derive(Deserialize, Debug)]
        struct Optional {
            n: Option<f64>,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Required {
            n: f64,
        }
        assert_eq!(Optional::deserialize(s.deserializer()).unwrap().n, None);
        assert!(Required::deserialize(s.deserializer()).is_err());
    }

    #[test]
    fn unset_values_and_unknown_fields_are_read_as_protobuf_reads_them() {
        // An entry without a value, a value without a kind, and unknown fields everywhere.
        let unset = prost_types::Struct {
            fields: [
                ("a".to_owned(), prost_types::Value { kind: None }),
                (
                    "b".to_owned(),
                    prost_types::Value {
                        kind: Some(prost_types::value::Kind::StringValue("x".into())),
                    },
                ),
            ]
            .into(),
        };
        let mut bytes = unset.encode_to_vec();
        bytes.extend([key(9, 0), 7]);
        let s = decode(&bytes).unwrap();
        assert_eq!(Value::Object(s.to_json()), json!({"a": null, "b": "x"}));
    }

    #[test]
    fn keys_in_long_varints_are_read_and_checked_as_any_decoder_does() {
        // The entry's key field (1, length-delimited) with its tag written in two bytes,
        // which protobuf decoders accept: read as the key, and its bytes checked as UTF-8.
        let long_tag = [0x80 | key(1, 2), 0x00];
        let entry = |key_bytes: &[u8]| {
            let mut body = long_tag.to_vec();
            body.push(key_bytes.len() as u8);
            body.extend_from_slice(key_bytes);
            body.extend([key(2, 2), 3, key(3, 2), 1, b'v']);
            let mut bytes = vec![ENTRY, body.len() as u8];
            bytes.extend(body);
            bytes
        };
        let good = entry(b"k");
        let theirs = prost_types::Struct::decode(good.as_slice()).expect("prost_types reads it");
        assert_eq!(theirs.fields.keys().collect::<Vec<_>>(), ["k"]);
        assert_eq!(
            Value::Object(decode(&good).unwrap().to_json()),
            json!({"k": "v"})
        );
        assert!(decode(&entry(&[0xff, 0xfe])).is_err(), "not UTF-8");
        // An unknown field 16 (its tag needs two bytes, the first 0x80) before the key.
        let mut body = vec![0x80, 0x01, 0x05, key(1, 2), 1, b'k'];
        body.extend([key(2, 2), 3, key(3, 2), 1, b'v']);
        let mut bytes = vec![ENTRY, body.len() as u8];
        bytes.extend(body);
        assert!(prost_types::Struct::decode(bytes.as_slice()).is_ok());
        assert_eq!(
            Value::Object(decode(&bytes).unwrap().to_json()),
            json!({"k": "v"})
        );
    }

    #[test]
    fn a_known_field_of_another_wire_type_is_an_error() {
        // A Value whose string (field 3) arrives as a varint, as prost_types refuses it.
        let bytes = [ENTRY, 7, key(1, 2), 1, b'k', key(2, 2), 2, key(3, 0), 1];
        assert!(prost_types::Struct::decode(&bytes[..]).is_err());
        assert!(decode(&bytes).is_err());
        // An entry whose key arrives as a varint.
        let bytes = [ENTRY, 2, key(1, 0), 1];
        assert!(prost_types::Struct::decode(&bytes[..]).is_err());
        assert!(decode(&bytes).is_err());
    }

    #[test]
    fn unknown_length_delimited_fields_are_skipped_by_every_reader() {
        // In a nested object (kept as its bytes), field 9 holds bytes shaped like an entry of
        // key "z": not an entry.
        let mut inner = vec![key(9, 2), 3, key(1, 2), 1, b'z'];
        inner.extend(Struct::from_json(&object(json!({"a": 1, "b": "x"}))).encode_to_vec());
        let mut value = vec![key(5, 2), inner.len() as u8];
        value.extend(inner);
        let mut entry = vec![key(1, 2), 1, b'o', key(2, 2), value.len() as u8];
        entry.extend(value);
        let mut bytes = vec![ENTRY, entry.len() as u8];
        bytes.extend(entry);
        let s = decode(&bytes).unwrap();
        assert_eq!(Value::Object(s.to_json()), json!({"o": {"a": 1, "b": "x"}}));
        assert_eq!(s.str_at(&["o", "b"]), Some("x"));
        assert_eq!(s.value_at(&["o", "z"]), None);
        assert_eq!(s.strs_at(&["o"], ["z", "b"]), ["", "x"]);
        let mut s = s;
        s.clear();
        assert!(s.is_empty());
    }

    #[test]
    fn malformed_bytes_are_a_decode_error() {
        let good = Struct::from_json(&tree()).encode_to_vec();
        for cut in [1, 5, good.len() / 2, good.len() - 1] {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let not_utf8 = [ENTRY, 4, ENTRY, 2, 0xff, 0xfe];
        assert!(decode(&not_utf8).is_err());
        let group = [ENTRY, 2, key(3, 3), 0];
        assert!(decode(&group).is_err());
        // Each fault reads as prost reports it.
        let err = |bytes: &[u8]| decode(bytes).unwrap_err().to_string();
        assert!(err(&not_utf8).ends_with("invalid string value: data is not UTF-8 encoded"));
        assert!(err(&group).contains("invalid wire type"), "{}", err(&group));
        assert!(err(&[ENTRY, 2, 0, 0]).ends_with("invalid tag value: 0"));
        assert!(err(&[ENTRY, 2, ENTRY, 9]).ends_with("buffer underflow"));
    }

    #[test]
    fn the_canonical_check_agrees_with_the_general_one_on_every_one_byte_change() {
        // One- two- and three-byte lengths, every kind, an empty key, a non-ASCII string.
        let mut json = tree();
        json.insert("long".into(), json!("é".repeat(9000)));
        let good = Struct::from_json(&json).encode_to_vec();
        let (body, depth) = (&good[..], 1);
        assert!(
            canonical::object(body, depth),
            "our own encoding is canonical"
        );
        let agree = |bytes: &[u8]| {
            let general = check_any(bytes, Json::Struct, depth).is_ok();
            assert!(
                !canonical::object(bytes, depth) || general,
                "canonical accepts what check_any refuses: {bytes:?}"
            );
            assert_eq!(check(bytes, Json::Struct, depth).is_ok(), general);
        };
        let mut changed = body.to_vec();
        // The long string's bytes change nothing but its UTF-8; skip most of them.
        let positions = (0..body.len()).filter(|&i| i < 400 || i % 97 == 0 || i + 40 > body.len());
        for i in positions {
            for byte in 0..=u8::MAX {
                changed[i] = byte;
                agree(&changed);
            }
            changed[i] = body[i];
            agree(&body[..i]);
        }
        // At the nesting limit, both report it.
        let mut deep = json!([1]);
        for _ in 0..MAX_DEPTH {
            deep = json!({ "a": deep });
        }
        let deep = Struct::from_json(&object(deep)).encode_to_vec();
        assert!(check(&deep, Json::Struct, depth).is_err());
        assert!(check_any(&deep, Json::Struct, depth).is_err());
    }

    #[test]
    fn nesting_is_limited() {
        let nested = |levels| {
            let mut deep = json!({"leaf": [1]});
            for _ in 1..levels {
                deep = json!({ "a": deep });
            }
            object(deep)
        };
        // Objects and lists both count: MAX_DEPTH objects hold a list one level deeper.
        let fits = nested(MAX_DEPTH - 1);
        let bytes = Struct::from_json(&fits).encode_to_vec();
        assert_eq!(decode(&bytes).unwrap().to_json(), fits);
        let bytes = Struct::from_json(&nested(MAX_DEPTH)).encode_to_vec();
        let err = decode(&bytes).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }

    #[test]
    fn nesting_of_objects_alone_or_lists_alone_is_limited_alike() {
        // `objects` objects, the innermost empty.
        let objects = |objects: u32| {
            let mut deep = json!({});
            for _ in 1..objects {
                deep = json!({ "a": deep });
            }
            object(deep)
        };
        // One object holding `lists` lists, the innermost empty.
        let lists = |lists: u32| {
            let mut deep = json!([]);
            for _ in 1..lists {
                deep = json!([deep]);
            }
            object(json!({ "l": deep }))
        };
        for (fits, too_deep) in [
            (objects(MAX_DEPTH), objects(MAX_DEPTH + 1)),
            (lists(MAX_DEPTH - 1), lists(MAX_DEPTH)),
        ] {
            let bytes = Struct::from_json(&fits).encode_to_vec();
            assert_eq!(decode(&bytes).unwrap().to_json(), fits);
            let bytes = Struct::from_json(&too_deep).encode_to_vec();
            let err = decode(&bytes).unwrap_err();
            assert!(err.to_string().contains("recursion limit"), "{err}");
        }
    }

    #[test]
    fn fields_are_read_by_key_and_path() {
        let s = Struct::from_json(&tree());
        assert_eq!(s.get("cpu"), Some(json!(2)));
        assert_eq!(s.get("missing"), None);
        assert_eq!(s.str_at(&["metadata", "name"]), Some("web"));
        assert_eq!(s.str_at(&["metadata", "missing"]), None);
        assert_eq!(s.str_at(&["items", "name"]), None);
        assert_eq!(s.str_at(&["cpu"]), None);
        assert_eq!(s.str_at(&["text"]), Some(""));
        assert_eq!(
            s.strs_at(&["metadata"], ["missing", "name", "big"])[..2],
            ["", "web"]
        );
        assert_eq!(s.strs_at(&[], ["cpu", "text", "metadata"]), ["", "", ""]);
        assert_eq!(s.strs_at(&["nowhere"], ["name"]), [""]);
    }

    #[test]
    fn strings_of_each_listed_object_are_read_in_order() {
        let s = Struct::from_json(&object(json!({
            "status": {"conditions": [
                {"type": "Synced", "status": "True", "reason": "ReconcileSuccess"},
                "not an object",
                {"type": "Ready", "status": 1, "type2": "x"},
                {"status": "False", "type": "Ready"},
            ]},
            "metadata": {"name": "web"},
        })));
        let read: Vec<[&str; 2]> = s
            .list_strs_at(&["status", "conditions"], ["type", "status"])
            .collect();
        assert_eq!(
            read,
            [
                ["Synced", "True"],
                ["", ""],
                ["Ready", ""],
                ["Ready", "False"]
            ]
        );
        assert_eq!(
            s.list_strs_at(&["metadata"], ["name"]).count(),
            0,
            "not a list"
        );
        assert_eq!(s.list_strs_at(&["nowhere"], ["name"]).count(), 0);
        assert_eq!(s.list_strs_at(&["metadata", "name"], ["name"]).count(), 0);
    }

    #[test]
    fn typed_values_read_straight_from_the_bytes_as_from_json() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Typed {
            cpu: u32,
            huge: f64,
            items: (i64, f64, bool, bool, Option<u8>, Named, (String, Empty)),
            empty_list: Vec<u8>,
            missing: Option<String>,
            mode: Mode,
        }
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Named {
            name: String,
        }
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Empty {}
        #[derive(Debug, PartialEq, serde::Deserialize)]
        enum Mode {
            Fast,
        }
        let mut json = tree();
        json.insert("mode".into(), json!("Fast"));
        let s = Struct::from_json(&json);
        let from_bytes: Typed = serde::Deserialize::deserialize(s.deserializer()).unwrap();
        let from_json: Typed = serde_json::from_value(Value::Object(json)).unwrap();
        assert_eq!(from_bytes, from_json);
        assert_eq!(from_bytes.items.0, 22);

        let err = <Named as serde::Deserialize>::deserialize(
            Struct::from_json(&object(json!({"name": 3}))).deserializer(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("invalid type: integer `3`"),
            "{err}"
        );
    }

    #[test]
    fn insert_replaces_the_key_and_keeps_keys_in_order() {
        let mut s = Struct::from_json(&tree());
        s.insert("cpu", &json!({"cores": 4}));
        s.insert("aaa", &json!(1));
        s.insert("zzz", &json!([]));
        let mut expected = tree();
        expected.insert("cpu".into(), json!({"cores": 4}));
        expected.insert("aaa".into(), json!(1));
        expected.insert("zzz".into(), json!([]));
        assert_eq!(s.to_json(), expected);
        assert_eq!(
            s,
            Struct::from_json(&expected),
            "same bytes as encoding anew"
        );
        let mut empty = Struct::default();
        assert!(empty.is_empty());
        empty.insert("k", &json!("v"));
        assert_eq!(Value::Object(empty.to_json()), json!({"k": "v"}));
    }
}
