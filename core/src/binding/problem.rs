//! The stable problem types (RFC 9457) of the binding API: one list shared by the client, which
//! maps them to [`super::BindingError`], and the simulated backend, which emits them.

use super::wire::ProblemBody;

/// Prefix of every problem type URI; the rest is the problem's [`ProblemType::code`].
pub const PROBLEM_TYPE_PREFIX: &str = "urn:unbox:problem:";

/// Every problem the binding API reports. Codes and statuses are part of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemType {
    /// 400: the request is malformed (body, query or headers).
    InvalidRequest,
    /// 400: a POST that needs an `Idempotency-Key` came without one.
    IdempotencyKeyMissing,
    /// 401: the user's access token is missing, invalid or expired.
    Unauthorized,
    /// 401: the device credential on a redeem is missing, unknown or wrong.
    DeviceUnauthorized,
    /// 404: no such claim for this user (or no claim with this token).
    ClaimNotFound,
    /// 409: the token was already redeemed by another device.
    ClaimAlreadyUsed,
    /// 409: confirm before any device redeemed the claim.
    ClaimNotRedeemed,
    /// 409: confirm with another device id than the redeeming device; the claim is now refused.
    DeviceMismatch,
    /// 409: the claim was refused earlier (device mismatch) and is void.
    ClaimRefused,
    /// 410: the claim expired.
    ClaimExpired,
    /// 404: no such binding for this user.
    BindingNotFound,
    /// 404: no open transfer offer has this code (unknown, used, cancelled or expired).
    TransferNotFound,
    /// 403: the token is valid but may not do this (e.g. a linked skill's read-only token).
    InsufficientScope,
    /// 422: the idempotency key was used before with a different request body.
    IdempotencyKeyReused,
    /// 429: too many requests; honour `Retry-After`.
    RateLimited,
    /// 500: the backend failed.
    Internal,
    /// 503: the backend is temporarily unavailable; honour `Retry-After`.
    Unavailable,
}

impl ProblemType {
    /// Every problem type, for documentation checks.
    pub const ALL: [ProblemType; 17] = [
        Self::InvalidRequest,
        Self::IdempotencyKeyMissing,
        Self::Unauthorized,
        Self::DeviceUnauthorized,
        Self::ClaimNotFound,
        Self::ClaimAlreadyUsed,
        Self::ClaimNotRedeemed,
        Self::DeviceMismatch,
        Self::ClaimRefused,
        Self::ClaimExpired,
        Self::BindingNotFound,
        Self::TransferNotFound,
        Self::InsufficientScope,
        Self::IdempotencyKeyReused,
        Self::RateLimited,
        Self::Internal,
        Self::Unavailable,
    ];

    /// The stable short code, e.g. `claim-expired`.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid-request",
            Self::IdempotencyKeyMissing => "idempotency-key-missing",
            Self::Unauthorized => "unauthorized",
            Self::DeviceUnauthorized => "device-unauthorized",
            Self::ClaimNotFound => "claim-not-found",
            Self::ClaimAlreadyUsed => "claim-already-used",
            Self::ClaimNotRedeemed => "claim-not-redeemed",
            Self::DeviceMismatch => "device-mismatch",
            Self::ClaimRefused => "claim-refused",
            Self::ClaimExpired => "claim-expired",
            Self::BindingNotFound => "binding-not-found",
            Self::TransferNotFound => "transfer-not-found",
            Self::InsufficientScope => "insufficient-scope",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::RateLimited => "rate-limited",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
        }
    }

    /// The HTTP status this problem is sent with.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest | Self::IdempotencyKeyMissing => 400,
            Self::Unauthorized | Self::DeviceUnauthorized => 401,
            Self::InsufficientScope => 403,
            Self::ClaimNotFound | Self::BindingNotFound | Self::TransferNotFound => 404,
            Self::ClaimAlreadyUsed | Self::ClaimNotRedeemed | Self::DeviceMismatch | Self::ClaimRefused => {
                409
            }
            Self::ClaimExpired => 410,
            Self::IdempotencyKeyReused => 422,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The problem's title (constant per type, as RFC 9457 asks).
    pub fn title(self) -> &'static str {
        match self {
            Self::InvalidRequest => "Invalid request",
            Self::IdempotencyKeyMissing => "Idempotency-Key header required",
            Self::Unauthorized => "Access token missing, invalid or expired",
            Self::DeviceUnauthorized => "Device credential rejected",
            Self::ClaimNotFound => "Claim not found",
            Self::ClaimAlreadyUsed => "Claim token already redeemed by another device",
            Self::ClaimNotRedeemed => "Claim not redeemed yet",
            Self::DeviceMismatch => "Device does not match the redeeming device",
            Self::ClaimRefused => "Claim refused after a device mismatch",
            Self::ClaimExpired => "Claim expired",
            Self::BindingNotFound => "Binding not found",
            Self::TransferNotFound => "Transfer offer not found",
            Self::InsufficientScope => "Token lacks the scope for this request",
            Self::IdempotencyKeyReused => "Idempotency key reused with a different request",
            Self::RateLimited => "Too many requests",
            Self::Internal => "Internal error",
            Self::Unavailable => "Service unavailable",
        }
    }

    /// The type URI, `urn:unbox:problem:<code>`.
    pub fn uri(self) -> String {
        format!("{PROBLEM_TYPE_PREFIX}{}", self.code())
    }

    /// Finds the problem type named by a type URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let code = uri.strip_prefix(PROBLEM_TYPE_PREFIX)?;
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// A complete problem body for this type.
    pub fn body(self, detail: impl Into<String>) -> ProblemBody {
        ProblemBody {
            problem_type: self.uri(),
            title: self.title().to_owned(),
            status: self.status(),
            detail: detail.into(),
            code: self.code().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_and_codes_are_unique() {
        for problem in ProblemType::ALL {
            assert_eq!(ProblemType::from_uri(&problem.uri()), Some(problem));
            assert_eq!(ProblemType::ALL.iter().filter(|p| p.code() == problem.code()).count(), 1);
        }
        assert_eq!(ProblemType::from_uri("about:blank"), None);
        assert_eq!(ProblemType::from_uri("urn:unbox:problem:nope"), None);
    }

    #[test]
    fn body_carries_type_status_and_code() {
        let body = ProblemType::DeviceMismatch.body("another device redeemed");
        assert_eq!(body.problem_type, "urn:unbox:problem:device-mismatch");
        assert_eq!(body.status, 409);
        assert_eq!(body.code, "device-mismatch");
    }
}
