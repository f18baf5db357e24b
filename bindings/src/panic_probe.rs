//! Test support (feature `panic-probe`, never in an app's library): exports that panic on
//! request, so the shells' tests can show what a panic in the shipped `release-ffi` library does
//! (it reaches the caller as an error and the library keeps working) — see
//! bindings/scripts/test-ffi-panics.sh.

/// What the probe returns when asked not to panic.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ProbeError {
    /// The probe was asked to fail without panicking; carries the caller's message.
    #[error("the probe failed as asked: {0}")]
    Failed(String),
}

/// Panics with `message` when `panic` is true; otherwise fails with it as a typed error.
#[uniffi::export]
pub fn panic_probe(panic: bool, message: String) -> Result<String, ProbeError> {
    if panic {
        panic!("panic probe: {message}");
    }
    Err(ProbeError::Failed(message))
}

/// The async form of `panic_probe`, on the library's runtime: panics while polled when `panic`
/// is true; otherwise returns `message`.
#[uniffi::export]
pub async fn panic_probe_async(panic: bool, message: String) -> Result<String, ProbeError> {
    tokio::task::yield_now().await;
    if panic {
        panic!("panic probe (async): {message}");
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_typed_when_not_asked_to_panic() {
        let error = panic_probe(false, "no".into()).unwrap_err();
        assert_eq!(error.to_string(), "the probe failed as asked: no");
    }

    #[test]
    #[should_panic(expected = "panic probe: yes")]
    fn panics_when_asked() {
        let _ = panic_probe(true, "yes".into());
    }
}
