//! Types that cross as a builtin but arrive typed on both sides.
//!
//! A UUID crosses as its text and arrives as the platforms' own UUID type, and an
//! advertisement's ordered maps cross as maps; the mappings are the core's (`unbox_core`,
//! feature `uniffi`), used here as they are. URLs and secrets stay `String` at
//! the boundary on purpose: a URL an app types can be malformed, and must become a typed
//! `InvalidRequest` the app can act on, which a failed lift cannot be; a secret has no secret
//! type on the foreign side to arrive as, and is wrapped into a zeroized
//! [`SecretString`](unbox_core::secret::SecretString) on arrival.

uniffi::use_remote_type!(unbox_core::uuid::Uuid);
uniffi::use_remote_type!(unbox_core::unbox_core::platform::ble::ManufacturerData);
uniffi::use_remote_type!(unbox_core::unbox_core::platform::ble::ServiceData);
