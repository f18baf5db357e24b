//! The UUID's mapping, which the domain types need to cross UniFFI as they are (feature
//! `uniffi`, for the phones' library in `bindings/`; the crate's scaffolding is in `lib.rs`).
//!
//! A UUID crosses as its text and arrives as `java.util.UUID` in Kotlin and `Foundation.UUID` in
//! Swift (`uniffi.toml`), so neither side can hand over a malformed one.

use uuid::Uuid;

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |uuid| uuid.to_string(),
    try_lift: |text| Ok(Uuid::parse_str(&text)?),
});
