//! `google.protobuf.Struct` for prost, kept as its wire bytes and read and written through
//! serde, without a tree of prost messages.
//!
//! A service that passes most of the objects it receives through, and reads or writes a few,
//! pays for a `prost_types::Struct` on every one: a tree of messages built on decode, cloned,
//! converted to JSON, freed node by node. [`Struct`] implements `prost::Message` over the
//! bytes instead: decoding checks them (well formed, strings UTF-8, nesting at most
//! [`MAX_DEPTH`]) and keeps them, encoding copies them. Use it for `.google.protobuf.Struct`
//! in generated code with `extern_path(".google.protobuf.Struct", "::pbstruct::Struct")`.
//!
//! The public API:
//!
//! - [`Struct`]: the message; `from_json`/`to_json`, `get`, `value_at`, `str_at`, `strs_at`,
//!   `encoded_at`, `insert`, `deserializer`.
//! - [`Encoded`]: a value still encoded, compared by its bytes.
//! - [`Wire`]: a serde `Deserializer` over a value's bytes.
//! - [`to_struct`]: a typed value (or JSON) into a Struct; the crate's one encoder.
//! - [`from_struct`], [`from_value`], [`from_ref`]: typed values out of a Struct or JSON,
//!   failures named by field path ([`PathError`]; [`from_value_collecting`] and
//!   [`from_ref_every`] name every failing field); [`to_json_value`], [`from_json_object`],
//!   [`from_json_value`] convert JSON; [`kind_name`] names a JSON value's type for messages.
//! - [`MAX_DEPTH`], and [`SerdeError`] for reading and writing typed values.
//!
//! The field keys and field reader both directions share are in `wire`, which also says how
//! the decoder's faults become prost's `DecodeError`s without prost's deprecated constructor.

mod convert;
mod object;
mod ser;
mod wire;

pub use convert::{
    Collected, PathError, from_json_object, from_json_value, from_ref, from_ref_every, from_struct,
    from_value, from_value_collecting, kind_name, to_json_value,
};
pub use object::{Encoded, SerdeError, Struct, Wire};
pub use ser::to_struct;
pub use wire::MAX_DEPTH;
