//! `google.protobuf.Struct`, `Value` and `ListValue`: the same types as `prost_types` has
//! (the generated protocol code uses these through `extern_path`), encoded to the same bytes,
//! but in time linear in the size of the tree.
//!
//! prost writes a nested message as its length, then its fields, and gets the length by
//! walking the whole subtree; every level of a JSON document is two nested messages (a
//! `Value` holding a `Struct`), so a Kubernetes manifest was walked once per level it is deep,
//! and length computations were a third of a call. Here encoding a tree first computes the
//! length of every nested `Struct` and `ListValue` in one pass (in the order the writer meets
//! them), then writes it in a second.

use std::collections::BTreeMap;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType, encode_varint, encoded_len_varint};
use prost::{DecodeError, Message};

/// A JSON object: `google.protobuf.Struct`.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct Struct {
    /// Its fields.
    pub fields: BTreeMap<String, Value>,
}

/// A JSON value: `google.protobuf.Value`.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct Value {
    /// Which value; `None` encodes as nothing (an unset value).
    pub kind: Option<value::Kind>,
}

/// A JSON array: `google.protobuf.ListValue`.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct ListValue {
    /// Its values.
    pub values: Vec<Value>,
}

/// The kinds of [`Value`].
pub mod value {
    /// The `kind` oneof of `google.protobuf.Value`.
    #[derive(Clone, PartialEq, Debug)]
    pub enum Kind {
        /// `null` (the `NullValue` enum, always 0).
        NullValue(i32),
        /// A number.
        NumberValue(f64),
        /// A string.
        StringValue(String),
        /// A boolean.
        BoolValue(bool),
        /// An object.
        StructValue(super::Struct),
        /// An array.
        ListValue(super::ListValue),
    }
}

use value::Kind;

// Field keys: all fields here are numbered below 16, so each key is one byte.
const fn key(field: u8, wire_type: u8) -> u8 {
    (field << 3) | wire_type
}
const LEN: u8 = 2;
const ENTRY: u8 = key(1, LEN); // Struct.fields entries, ListValue.values, an entry's key
const ENTRY_VALUE: u8 = key(2, LEN);
const NULL: u8 = key(1, 0);
const NUMBER: u8 = key(2, 1);
const STRING: u8 = key(3, LEN);
const BOOL: u8 = key(4, 0);
const STRUCT: u8 = key(5, LEN);
const LIST: u8 = key(6, LEN);

fn delimited(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

/// Lengths of the `Struct` and `ListValue` bodies of a tree, in the order the writer meets
/// them (each container's slot comes before its children's); without a `Vec`, only the
/// length of the whole is computed (`encoded_len`).
struct Lengths(Option<Vec<usize>>);

impl Lengths {
    fn reserve(&mut self) -> usize {
        self.0.as_mut().map_or(0, |slots| {
            slots.push(0);
            slots.len() - 1
        })
    }

    fn fill(&mut self, slot: usize, len: usize) -> usize {
        if let Some(slots) = &mut self.0 {
            slots[slot] = len;
        }
        len
    }

    fn of_struct(&mut self, s: &Struct) -> usize {
        let slot = self.reserve();
        let len = s
            .fields
            .iter()
            .map(|(k, v)| delimited(self.entry(k, v)))
            .sum();
        self.fill(slot, len)
    }

    fn of_list(&mut self, l: &ListValue) -> usize {
        let slot = self.reserve();
        let len = l.values.iter().map(|v| delimited(self.of_value(v))).sum();
        self.fill(slot, len)
    }

    fn entry(&mut self, k: &str, v: &Value) -> usize {
        let key_len = if k.is_empty() { 0 } else { delimited(k.len()) };
        let value_len = if v.kind.is_none() {
            0
        } else {
            delimited(self.of_value(v))
        };
        key_len + value_len
    }

    fn of_value(&mut self, v: &Value) -> usize {
        match &v.kind {
            Some(Kind::StructValue(s)) => delimited(self.of_struct(s)),
            Some(Kind::ListValue(l)) => delimited(self.of_list(l)),
            other => scalar_len(other.as_ref()),
        }
    }
}

/// The encoded length of a value that holds no container (0 for none).
fn scalar_len(kind: Option<&Kind>) -> usize {
    match kind {
        None | Some(Kind::StructValue(_) | Kind::ListValue(_)) => 0,
        Some(Kind::NullValue(n)) => 1 + encoded_len_varint(i64::from(*n) as u64),
        Some(Kind::NumberValue(_)) => 9,
        Some(Kind::StringValue(s)) => delimited(s.len()),
        Some(Kind::BoolValue(_)) => 2,
    }
}

/// Writes a tree with the lengths `Lengths` computed for it.
struct Writer<'a, B> {
    lengths: &'a [usize],
    next: usize,
    buf: &'a mut B,
}

impl<B: BufMut> Writer<'_, B> {
    /// The length of `v`'s encoding; its containers' lengths are the next slots.
    fn value_len(&self, v: &Value) -> usize {
        match &v.kind {
            Some(Kind::StructValue(_) | Kind::ListValue(_)) => delimited(self.lengths[self.next]),
            other => scalar_len(other.as_ref()),
        }
    }

    fn delimiter(&mut self, key: u8, len: usize) {
        self.buf.put_u8(key);
        encode_varint(len as u64, self.buf);
    }

    fn struct_body(&mut self, s: &Struct) {
        self.next += 1;
        for (k, v) in &s.fields {
            let key_len = if k.is_empty() { 0 } else { delimited(k.len()) };
            let value_len = if v.kind.is_none() {
                0
            } else {
                delimited(self.value_len(v))
            };
            self.delimiter(ENTRY, key_len + value_len);
            if !k.is_empty() {
                self.delimiter(ENTRY, k.len());
                self.buf.put_slice(k.as_bytes());
            }
            if v.kind.is_some() {
                let len = self.value_len(v);
                self.delimiter(ENTRY_VALUE, len);
                self.value_body(v);
            }
        }
    }

    fn list_body(&mut self, l: &ListValue) {
        self.next += 1;
        for v in &l.values {
            let len = self.value_len(v);
            self.delimiter(ENTRY, len);
            self.value_body(v);
        }
    }

    fn value_body(&mut self, v: &Value) {
        match &v.kind {
            None => {}
            Some(Kind::NullValue(n)) => {
                self.buf.put_u8(NULL);
                encode_varint(i64::from(*n) as u64, self.buf);
            }
            Some(Kind::NumberValue(n)) => {
                self.buf.put_u8(NUMBER);
                self.buf.put_f64_le(*n);
            }
            Some(Kind::StringValue(s)) => {
                self.delimiter(STRING, s.len());
                self.buf.put_slice(s.as_bytes());
            }
            Some(Kind::BoolValue(b)) => {
                self.buf.put_u8(BOOL);
                self.buf.put_u8(u8::from(*b));
            }
            Some(Kind::StructValue(s)) => {
                self.delimiter(STRUCT, self.lengths[self.next]);
                self.struct_body(s);
            }
            Some(Kind::ListValue(l)) => {
                self.delimiter(LIST, self.lengths[self.next]);
                self.list_body(l);
            }
        }
    }
}

impl Message for Struct {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let mut lengths = Lengths(Some(Vec::new()));
        lengths.of_struct(self);
        Writer {
            lengths: lengths.0.as_deref().unwrap_or_default(),
            next: 0,
            buf,
        }
        .struct_body(self);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::btree_map::merge(
                encoding::string::merge,
                encoding::message::merge,
                &mut self.fields,
                buf,
                ctx,
            ),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        Lengths(None).of_struct(self)
    }

    fn clear(&mut self) {
        self.fields.clear();
    }
}

impl Message for ListValue {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let mut lengths = Lengths(Some(Vec::new()));
        lengths.of_list(self);
        Writer {
            lengths: lengths.0.as_deref().unwrap_or_default(),
            next: 0,
            buf,
        }
        .list_body(self);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::message::merge_repeated(wire_type, &mut self.values, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        Lengths(None).of_list(self)
    }

    fn clear(&mut self) {
        self.values.clear();
    }
}

impl Message for Value {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let mut lengths = Lengths(Some(Vec::new()));
        lengths.of_value(self);
        Writer {
            lengths: lengths.0.as_deref().unwrap_or_default(),
            next: 0,
            buf,
        }
        .value_body(self);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => {
                let mut n = 0;
                encoding::int32::merge(wire_type, &mut n, buf, ctx)?;
                self.kind = Some(Kind::NullValue(n));
            }
            2 => {
                let mut n = 0.0;
                encoding::double::merge(wire_type, &mut n, buf, ctx)?;
                self.kind = Some(Kind::NumberValue(n));
            }
            3 => {
                let mut s = String::new();
                encoding::string::merge(wire_type, &mut s, buf, ctx)?;
                self.kind = Some(Kind::StringValue(s));
            }
            4 => {
                let mut b = false;
                encoding::bool::merge(wire_type, &mut b, buf, ctx)?;
                self.kind = Some(Kind::BoolValue(b));
            }
            5 => {
                if !matches!(self.kind, Some(Kind::StructValue(_))) {
                    self.kind = Some(Kind::StructValue(Struct::default()));
                }
                if let Some(Kind::StructValue(s)) = &mut self.kind {
                    encoding::message::merge(wire_type, s, buf, ctx)?;
                }
            }
            6 => {
                if !matches!(self.kind, Some(Kind::ListValue(_))) {
                    self.kind = Some(Kind::ListValue(ListValue::default()));
                }
                if let Some(Kind::ListValue(l)) = &mut self.kind {
                    encoding::message::merge(wire_type, l, buf, ctx)?;
                }
            }
            _ => encoding::skip_field(wire_type, tag, buf, ctx)?,
        }
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        Lengths(None).of_value(self)
    }

    fn clear(&mut self) {
        self.kind = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same tree as prost_types builds it.
    fn theirs(s: &Struct) -> prost_types::Struct {
        prost_types::Struct::decode(s.encode_to_vec().as_slice())
            .expect("prost_types decodes our encoding")
    }

    fn tree() -> Struct {
        let v = |kind| Value { kind: Some(kind) };
        let text = |s: &str| v(Kind::StringValue(s.to_owned()));
        let inner = Struct {
            fields: BTreeMap::from([
                ("name".to_owned(), text("web")),
                ("".to_owned(), text("empty key")),
                ("unset".to_owned(), Value::default()),
                ("big".to_owned(), text(&"x".repeat(300))),
            ]),
        };
        let list = ListValue {
            values: vec![
                v(Kind::NumberValue(22.0)),
                v(Kind::NumberValue(-0.5)),
                v(Kind::BoolValue(true)),
                v(Kind::BoolValue(false)),
                v(Kind::NullValue(0)),
                Value::default(),
                v(Kind::StructValue(inner.clone())),
                v(Kind::ListValue(ListValue {
                    values: vec![text("deep"), v(Kind::StructValue(Struct::default()))],
                })),
            ],
        };
        Struct {
            fields: BTreeMap::from([
                ("metadata".to_owned(), v(Kind::StructValue(inner))),
                ("items".to_owned(), v(Kind::ListValue(list))),
                (
                    "emptyList".to_owned(),
                    v(Kind::ListValue(ListValue::default())),
                ),
                (
                    "emptyObject".to_owned(),
                    v(Kind::StructValue(Struct::default())),
                ),
                ("text".to_owned(), text("")),
            ]),
        }
    }

    #[test]
    fn encodes_to_the_bytes_prost_types_writes() {
        let ours = tree();
        let bytes = ours.encode_to_vec();
        assert_eq!(bytes, theirs(&ours).encode_to_vec());
        assert_eq!(ours.encoded_len(), bytes.len());
        assert_eq!(Struct::decode(bytes.as_slice()).unwrap(), ours);
    }

    #[test]
    fn values_and_lists_encode_alone_too() {
        let ours = tree();
        let items = ours.fields["items"].clone();
        let bytes = items.encode_to_vec();
        assert_eq!(
            bytes,
            prost_types::Value::decode(bytes.as_slice())
                .unwrap()
                .encode_to_vec()
        );
        assert_eq!(Value::decode(bytes.as_slice()).unwrap(), items);
        let Some(Kind::ListValue(list)) = items.kind else {
            panic!("a list")
        };
        let bytes = list.encode_to_vec();
        assert_eq!(
            bytes,
            prost_types::ListValue::decode(bytes.as_slice())
                .unwrap()
                .encode_to_vec()
        );
        assert_eq!(list.encoded_len(), bytes.len());
    }

    #[test]
    fn decodes_what_prost_types_writes_and_skips_unknown_fields() {
        let bytes = theirs(&tree()).encode_to_vec();
        assert_eq!(Struct::decode(bytes.as_slice()).unwrap(), tree());
        let mut with_unknown = bytes.clone();
        with_unknown.extend([key(9, 0), 7]);
        assert_eq!(Struct::decode(with_unknown.as_slice()).unwrap(), tree());
    }
}
