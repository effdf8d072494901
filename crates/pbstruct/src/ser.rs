//! A serde `Serializer` that writes typed values straight to `google.protobuf.Struct` bytes,
//! so a composed manifest goes from its typed builder to the response without a
//! `serde_json::Value` in between. It is the crate's one encoder: [`Struct::from_json`] and
//! [`Struct::insert`] write through it too. An object's keys come in the order the type
//! serialises them (protobuf maps have no order; the output is as deterministic as the
//! type); a `serde_json::Map` serialises its keys sorted, which gives the bytes prost_types
//! writes for the same object.
//!
//! Each container's length is known after its content: one byte is reserved for it, and the
//! lengths that need more (containers of 128 bytes or more) are written when the object is
//! done, in one pass (see [`Out`]).

use prost::encoding::encode_varint;
use serde::ser::{self, Serialize};

use crate::object::{SerdeError, Struct};
use crate::wire::{BOOL, ENTRY, ENTRY_VALUE, LIST, NULL, NUMBER, STRING, STRUCT};

/// Serialises `value`, which must serialise as an object, into a Struct.
pub fn to_struct<T: Serialize + ?Sized>(value: &T) -> Result<Struct, SerdeError> {
    let mut out = Out::with_capacity(256);
    value.serialize(ValueWriter { out: &mut out })?;
    // A Value holding an object is [STRUCT, length, the Struct's body]: the body is kept.
    match out.bytes.first() {
        Some(&STRUCT) => Ok(Struct::from_raw(out.finish(2))),
        _ => Err(SerdeError("expected an object".into())),
    }
}

/// Writes one map entry field of a Struct's body (`key`, then `value`) to `out`.
pub(crate) fn entry<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    key: &str,
    value: &T,
) -> Result<(), SerdeError> {
    let mut written = Out::with_capacity(64);
    let mut object = ObjectWriter {
        out: &mut written,
        start: Slot::default(),
        entry: None,
    };
    object.key(key);
    object.value(value)?;
    out.extend_from_slice(&written.finish(0));
    Ok(())
}

/// The bytes being written. Each container (a Struct, an entry, a Value, a list) gets one
/// byte for its length when it opens; a container that closes with 128 bytes or more needs
/// a longer varint, which is written by [`Out::finish`] in one pass over the bytes rather
/// than by moving the content up at each close (that moved a large value once for every
/// container around it: a 64 KiB cloud-init Secret six times).
struct Out {
    bytes: Vec<u8>,
    /// `(position of the reserved byte, length)` of each container of 128 bytes or more.
    long: Vec<(usize, usize)>,
    /// The bytes the lengths in `long` add beyond their reserved byte.
    extra: usize,
}

/// An open container: where its content starts, and [`Out::extra`] when it opened.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    start: usize,
    extra: usize,
}

impl Out {
    fn with_capacity(capacity: usize) -> Self {
        Out {
            bytes: Vec::with_capacity(capacity),
            long: Vec::new(),
            extra: 0,
        }
    }

    /// The bytes from `from` on, every length filled in (`from` falls before the body of
    /// every container whose length is kept: a length before it is left out).
    fn finish(mut self, from: usize) -> Vec<u8> {
        self.long.retain(|(at, _)| *at >= from);
        if self.long.is_empty() {
            self.bytes.drain(..from);
            return self.bytes;
        }
        // Closed inner first; written in the order of their positions.
        self.long.sort_unstable_by_key(|(at, _)| *at);
        let mut done = Vec::with_capacity(self.bytes.len() - from + self.extra);
        let mut copied = from;
        for (at, len) in self.long {
            done.extend_from_slice(&self.bytes[copied..at]);
            encode_varint(len as u64, &mut done);
            copied = at + 1;
        }
        done.extend_from_slice(&self.bytes[copied..]);
        done
    }
}

impl std::ops::Deref for Out {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.bytes
    }
}

impl std::ops::DerefMut for Out {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

/// Opens a container: writes `key` and a one-byte length slot.
fn open(out: &mut Out, key: u8) -> Slot {
    out.bytes.extend_from_slice(&[key, 0]);
    Slot {
        start: out.bytes.len(),
        extra: out.extra,
    }
}

/// Closes the container `slot`: its length is what was written since it opened, plus what
/// the long lengths inside it add.
fn close(out: &mut Out, slot: Slot) {
    let Slot { start, extra } = slot;
    let len = out.bytes.len() - start + (out.extra - extra);
    if len < 0x80 {
        out.bytes[start - 1] = len as u8;
    } else {
        out.long.push((start - 1, len));
        out.extra += varint_len(len) - 1;
    }
}

/// The bytes of `len` as a varint.
fn varint_len(len: usize) -> usize {
    prost::encoding::encoded_len_varint(len as u64)
}

/// A float map key as serde_json writes it (its own number text), refused when not finite.
fn float_key(
    out: &mut Vec<u8>,
    finite: bool,
    text: impl FnOnce() -> serde_json::Result<String>,
) -> Result<(), SerdeError> {
    let text = text()
        .ok()
        .filter(|_| finite)
        .ok_or_else(|| SerdeError("a float map key must be finite".to_owned()))?;
    key_text(out, &text);
    Ok(())
}

/// A map entry's key; prost leaves an empty key out, as protobuf does with default values.
fn key_text(out: &mut Vec<u8>, key: &str) {
    if !key.is_empty() {
        string(out, ENTRY, key);
    }
}

fn string(out: &mut Vec<u8>, key: u8, s: &str) {
    out.push(key);
    encode_varint(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn number(out: &mut Vec<u8>, n: f64) {
    out.push(NUMBER);
    out.extend_from_slice(&n.to_le_bytes());
}

/// Writes the body of a `google.protobuf.Value`.
struct ValueWriter<'a> {
    out: &'a mut Out,
}

impl<'a> ValueWriter<'a> {
    /// `{variant: ...}`, as serde_json writes an enum variant with content, open where the
    /// variant's content goes.
    fn open_variant(self, variant: &str) -> Variant<'a> {
        let object = open(self.out, STRUCT);
        let entry = open(self.out, ENTRY);
        string(self.out, ENTRY, variant);
        let value = open(self.out, ENTRY_VALUE);
        Variant {
            out: self.out,
            starts: [object, entry, value],
        }
    }
}

/// An enum variant's wrapping object, open.
struct Variant<'a> {
    out: &'a mut Out,
    starts: [Slot; 3],
}

impl Variant<'_> {
    fn close(self) {
        for start in self.starts.into_iter().rev() {
            close(self.out, start);
        }
    }
}

/// `Serializer` methods that write a number as the f64 a Struct holds.
macro_rules! numbers_as_f64 {
    ($($method:ident: $type:ty),+ $(,)?) => {$(
        #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
        fn $method(self, v: $type) -> Result<(), SerdeError> {
            self.serialize_f64(v as f64)
        }
    )+};
}

/// `Serializer` methods that turn a map key into its text.
macro_rules! keys_as_text {
    ($($method:ident: $type:ty),+ $(,)?) => {$(
        fn $method(self, v: $type) -> Result<(), SerdeError> {
            key_text(self.out, &v.to_string());
            Ok(())
        }
    )+};
}

impl<'a> ser::Serializer for ValueWriter<'a> {
    type Ok = ();
    type Error = SerdeError;
    type SerializeSeq = ListWriter<'a>;
    type SerializeTuple = ListWriter<'a>;
    type SerializeTupleStruct = ListWriter<'a>;
    type SerializeTupleVariant = VariantList<'a>;
    type SerializeMap = ObjectWriter<'a>;
    type SerializeStruct = ObjectWriter<'a>;
    type SerializeStructVariant = VariantObject<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), SerdeError> {
        self.out.extend_from_slice(&[BOOL, u8::from(v)]);
        Ok(())
    }
    // Struct numbers are f64 (wide integers lose precision, as in serde_json's Value).
    numbers_as_f64! {
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
    }
    /// serde_json has no NaN or infinities: it writes `null` for them.
    fn serialize_f64(self, v: f64) -> Result<(), SerdeError> {
        if v.is_finite() {
            number(self.out, v);
            Ok(())
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Result<(), SerdeError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), SerdeError> {
        string(self.out, STRING, v);
        Ok(())
    }
    /// As serde_json: a list of numbers.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), SerdeError> {
        use ser::SerializeSeq;
        let mut list = self.serialize_seq(Some(v.len()))?;
        for b in v {
            list.serialize_element(b)?;
        }
        list.end()
    }
    fn serialize_none(self) -> Result<(), SerdeError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), SerdeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), SerdeError> {
        self.out.extend_from_slice(&[NULL, 0]);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), SerdeError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), SerdeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        let wrapper = self.open_variant(variant);
        value.serialize(ValueWriter {
            out: &mut *wrapper.out,
        })?;
        wrapper.close();
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<ListWriter<'a>, SerdeError> {
        let start = open(self.out, LIST);
        Ok(ListWriter {
            out: self.out,
            start,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<ListWriter<'a>, SerdeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<ListWriter<'a>, SerdeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantList<'a>, SerdeError> {
        let wrapper = self.open_variant(variant);
        let start = open(wrapper.out, LIST);
        Ok(VariantList { wrapper, start })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<ObjectWriter<'a>, SerdeError> {
        let start = open(self.out, STRUCT);
        Ok(ObjectWriter {
            out: self.out,
            start,
            entry: None,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<ObjectWriter<'a>, SerdeError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantObject<'a>, SerdeError> {
        let wrapper = self.open_variant(variant);
        let start = open(wrapper.out, STRUCT);
        Ok(VariantObject { wrapper, start })
    }
}

/// A list being written.
pub struct ListWriter<'a> {
    out: &'a mut Out,
    start: Slot,
}

impl ListWriter<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        let start = open(self.out, ENTRY);
        value.serialize(ValueWriter {
            out: &mut *self.out,
        })?;
        close(self.out, start);
        Ok(())
    }
}

impl ser::SerializeSeq for ListWriter<'_> {
    type Ok = ();
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), SerdeError> {
        close(self.out, self.start);
        Ok(())
    }
}

impl ser::SerializeTuple for ListWriter<'_> {
    type Ok = ();
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), SerdeError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for ListWriter<'_> {
    type Ok = ();
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), SerdeError> {
        ser::SerializeSeq::end(self)
    }
}

/// A tuple variant's list, inside its wrapping object.
pub struct VariantList<'a> {
    wrapper: Variant<'a>,
    start: Slot,
}

impl ser::SerializeTupleVariant for VariantList<'_> {
    type Ok = ();
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        ListWriter {
            out: &mut *self.wrapper.out,
            start: self.start,
        }
        .element(value)
    }
    fn end(self) -> Result<(), SerdeError> {
        close(self.wrapper.out, self.start);
        self.wrapper.close();
        Ok(())
    }
}

/// An object being written; `entry` is the open entry between a key and its value.
pub struct ObjectWriter<'a> {
    out: &'a mut Out,
    start: Slot,
    entry: Option<Slot>,
}

impl ObjectWriter<'_> {
    fn key(&mut self, key: &str) {
        self.entry = Some(open(self.out, ENTRY));
        key_text(self.out, key);
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        let entry = self
            .entry
            .take()
            .ok_or_else(|| SerdeError("a map value without a key".into()))?;
        let start = open(self.out, ENTRY_VALUE);
        value.serialize(ValueWriter {
            out: &mut *self.out,
        })?;
        close(self.out, start);
        close(self.out, entry);
        Ok(())
    }
}

impl ser::SerializeMap for ObjectWriter<'_> {
    type Ok = ();
    type Error = SerdeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerdeError> {
        let entry = open(self.out, ENTRY);
        key.serialize(KeyWriter { out: self.out })?;
        self.entry = Some(entry);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.value(value)
    }
    fn end(self) -> Result<(), SerdeError> {
        close(self.out, self.start);
        Ok(())
    }
}

impl ser::SerializeStruct for ObjectWriter<'_> {
    type Ok = ();
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.key(key);
        self.value(value)
    }
    fn end(self) -> Result<(), SerdeError> {
        ser::SerializeMap::end(self)
    }
}

/// A struct variant's object, inside its wrapping object.
pub struct VariantObject<'a> {
    wrapper: Variant<'a>,
    start: Slot,
}

impl ser::SerializeStructVariant for VariantObject<'_> {
    type Ok = ();
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        let mut object = ObjectWriter {
            out: &mut *self.wrapper.out,
            start: self.start,
            entry: None,
        };
        object.key(key);
        object.value(value)
    }
    fn end(self) -> Result<(), SerdeError> {
        close(self.wrapper.out, self.start);
        self.wrapper.close();
        Ok(())
    }
}

/// Map keys: strings, and what serde_json turns into strings (numbers, chars, bools).
struct KeyWriter<'a> {
    out: &'a mut Out,
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = SerdeError;
    type SerializeSeq = ser::Impossible<(), SerdeError>;
    type SerializeTuple = ser::Impossible<(), SerdeError>;
    type SerializeTupleStruct = ser::Impossible<(), SerdeError>;
    type SerializeTupleVariant = ser::Impossible<(), SerdeError>;
    type SerializeMap = ser::Impossible<(), SerdeError>;
    type SerializeStruct = ser::Impossible<(), SerdeError>;
    type SerializeStructVariant = ser::Impossible<(), SerdeError>;

    fn serialize_str(self, v: &str) -> Result<(), SerdeError> {
        key_text(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), SerdeError> {
        key_text(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    // As serde_json: booleans and integers become their text.
    keys_as_text! {
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64,
    }
    // As serde_json: a finite float becomes the text serde_json writes for it.
    fn serialize_f32(self, v: f32) -> Result<(), SerdeError> {
        float_key(self.out, v.is_finite(), || serde_json::to_string(&v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), SerdeError> {
        float_key(self.out, v.is_finite(), || serde_json::to_string(&v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), SerdeError> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<(), SerdeError> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), SerdeError> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<(), SerdeError> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), SerdeError> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), SerdeError> {
        key_text(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), SerdeError> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerdeError> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerdeError> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerdeError> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerdeError> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerdeError> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, SerdeError> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerdeError> {
        Err(key_error())
    }
}

fn key_error() -> SerdeError {
    SerdeError("a map key must be a string".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Typed {
        name: String,
        cores: u32,
        ratio: f64,
        nan: f64,
        on: bool,
        missing: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        tags: Vec<String>,
        empty: Vec<u8>,
        labels: BTreeMap<String, String>,
        numbered: BTreeMap<u16, bool>,
        lettered: BTreeMap<char, u8>,
        by_mode: BTreeMap<Mode, u8>,
        mode: Mode,
        shape: Shape,
        pair: (i64, char),
        long: String,
        nested: Vec<BTreeMap<String, Vec<Shape>>>,
    }

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Mode {
        Fast,
    }

    #[derive(Serialize)]
    enum Shape {
        Circle(f64),
        Rect { w: u8, h: u8 },
        Line(u8, u8),
    }

    fn typed() -> Typed {
        Typed {
            name: "web".into(),
            cores: 4,
            ratio: -0.5,
            nan: f64::NAN,
            on: true,
            missing: None,
            skipped: None,
            tags: vec!["a".into(), String::new()],
            empty: vec![],
            labels: [
                ("app".to_owned(), "web".to_owned()),
                (String::new(), "x".to_owned()),
            ]
            .into(),
            numbered: [(7, true)].into(),
            lettered: [('é', 1)].into(),
            by_mode: [(Mode::Fast, 2)].into(),
            mode: Mode::Fast,
            shape: Shape::Rect { w: 2, h: 3 },
            pair: (-9, 'z'),
            long: "y".repeat(70_000),
            nested: vec![
                [(
                    "shapes".to_owned(),
                    vec![Shape::Circle(1.5), Shape::Line(1, 2)],
                )]
                .into(),
            ],
        }
    }

    #[test]
    fn writes_what_serde_json_and_from_json_write() {
        let ours = to_struct(&typed()).unwrap();
        let Value::Object(json) = serde_json::to_value(typed()).unwrap() else {
            panic!("an object")
        };
        assert_eq!(ours.to_json(), json);
        // Same entries as from_json writes, in the type's order rather than sorted.
        let mut ours_sorted = Struct::default();
        for (k, v) in ours.to_json() {
            ours_sorted.insert(&k, &v);
        }
        assert_eq!(ours_sorted, Struct::from_json(&json));
    }

    #[test]
    fn the_output_is_a_well_formed_struct() {
        use prost::Message;
        let ours = to_struct(&typed()).unwrap();
        let bytes = ours.encode_to_vec();
        let theirs = prost_types::Struct::decode(bytes.as_slice()).unwrap();
        assert_eq!(theirs.encoded_len(), bytes.len());
    }

    #[derive(Serialize)]
    struct Newtype(u8);

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Tuple(u8, String);

    /// Bytes as serde's data model has them (serde_json writes a list of numbers).
    struct Bytes(&'static [u8]);

    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    #[derive(Serialize)]
    enum Wrapped {
        One(u8),
    }

    /// A map with keys of any type, as pairs.
    struct Pairs<K>(Vec<(K, u8)>);

    impl<K: Serialize> Serialize for Pairs<K> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }

    /// Ours as serde_json: the same object, or an error where serde_json has one.
    fn as_serde_json(value: &impl Serialize) -> Result<(), String> {
        match (to_struct(value), serde_json::to_value(value)) {
            (Ok(ours), Ok(Value::Object(json))) if ours.to_json() == json => Ok(()),
            (Err(_), Err(_)) => Ok(()),
            (ours, json) => Err(format!("ours {ours:?}, serde_json {json:?}")),
        }
    }

    #[test]
    fn every_shape_of_serdes_data_model_is_written_as_serde_json_writes_it() {
        #[derive(Serialize)]
        struct Shapes {
            present: Option<u8>,
            some_newtype: Option<Newtype>,
            newtype: Newtype,
            unit: Unit,
            nothing: (),
            tuple: Tuple,
            bytes: Bytes,
            wrapped: Wrapped,
        }
        as_serde_json(&Shapes {
            present: Some(3),
            some_newtype: Some(Newtype(4)),
            newtype: Newtype(5),
            unit: Unit,
            nothing: (),
            tuple: Tuple(6, "t".into()),
            bytes: Bytes(&[1, 255]),
            wrapped: Wrapped::One(7),
        })
        .unwrap();
    }

    #[test]
    fn map_keys_are_what_serde_json_accepts() {
        let cases = [
            as_serde_json(&Pairs(vec![(1.5_f32, 1)])),
            as_serde_json(&Pairs(vec![(-2.25_f64, 1)])),
            as_serde_json(&Pairs(vec![(1e20_f64, 1)])),
            as_serde_json(&Pairs(vec![(f64::NAN, 1)])),
            as_serde_json(&Pairs(vec![(f32::INFINITY, 1)])),
            as_serde_json(&Pairs(vec![(true, 1)])),
            as_serde_json(&Pairs(vec![((), 1)])),
            as_serde_json(&Pairs(vec![(None::<u8>, 1)])),
            as_serde_json(&Pairs(vec![(Some(9_u8), 1)])),
            as_serde_json(&Pairs(vec![(Unit, 1)])),
            as_serde_json(&Pairs(vec![(Newtype(8), 1)])),
            as_serde_json(&Pairs(vec![(Wrapped::One(1), 1)])),
            as_serde_json(&Pairs(vec![(Bytes(b"k"), 1)])),
            as_serde_json(&Pairs(vec![(Tuple(1, "x".into()), 1)])),
        ];
        let failed: Vec<String> = cases
            .iter()
            .enumerate()
            .filter_map(|(i, case)| case.as_ref().err().map(|e| format!("case {i}: {e}")))
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }

    #[test]
    fn only_objects_become_structs() {
        assert!(to_struct(&3).is_err());
        assert!(to_struct(&json!([1])).is_err());
        assert_eq!(to_struct(&json!({})).unwrap(), Struct::default());
        let bad_key: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(to_struct(&bad_key).is_err());
    }
}
