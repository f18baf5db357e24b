//! The mappings the domain types need to cross UniFFI as they are (feature `uniffi`, for the
//! phones' library in `bindings/`; the crate's scaffolding is in `lib.rs`).
//!
//! A UUID crosses as its text and arrives as `java.util.UUID` in Kotlin and `Foundation.UUID` in
//! Swift (`uniffi.toml`), so neither side can hand over a malformed one. The ordered maps of an
//! advertisement cross as maps (UniFFI carries `HashMap` only; the foreign maps have no order).

use std::collections::HashMap;

use uuid::Uuid;

use crate::platform::ble::{ManufacturerData, ServiceData};

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |uuid| uuid.to_string(),
    try_lift: |text| Ok(Uuid::parse_str(&text)?),
});

uniffi::custom_type!(ManufacturerData, HashMap<u16, Vec<u8>>, {
    remote,
    lower: |data| data.into_iter().collect(),
    try_lift: |data| Ok(data.into_iter().collect()),
});

uniffi::custom_type!(ServiceData, HashMap<Uuid, Vec<u8>>, {
    remote,
    lower: |data| data.into_iter().collect(),
    try_lift: |data| Ok(data.into_iter().collect()),
});
