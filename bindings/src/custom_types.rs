//! Types that cross as a builtin but arrive typed on both sides.
//!
//! A UUID crosses as its text and arrives as `java.util.UUID` in Kotlin and `Foundation.UUID` in
//! Swift (`uniffi.toml`), so neither side can hand over a malformed one. URLs and secrets stay
//! `String` at the boundary on purpose: a URL an app types can be malformed, and must become a
//! typed `InvalidRequest` the app can act on, which a failed lift cannot be; a secret has no
//! secret type on the foreign side to arrive as, and is wrapped into a zeroized
//! [`SecretString`](unbox_core::secret::SecretString) on arrival.

use uuid::Uuid;

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |uuid| uuid.to_string(),
    try_lift: |text| Ok(Uuid::parse_str(&text)?),
});
