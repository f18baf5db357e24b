//! The authorization server's memory: codes, grants and tokens, with the rules that make them
//! safe — single-use codes bound to client, redirect URI and PKCE challenge; code replay revokes
//! what the code produced; refresh tokens rotate, and reuse of a rotated one revokes the grant
//! (RFC 9700 §4.14.2).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use super::TestUser;
use crate::backend::TokenRejection;

/// An authorization request the person approved.
#[derive(Debug, Clone)]
pub(crate) struct ApprovedRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: String,
    pub nonce: Option<String>,
    /// The API the tokens are for (RFC 8707), when the request named one.
    pub resource: Option<String>,
    pub user: TestUser,
}

/// Tokens handed out by a successful token request.
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
    pub scopes: Vec<String>,
    pub user: TestUser,
    pub client_id: String,
    /// The nonce of the authorization request, for the ID token (code exchange only).
    pub nonce: Option<String>,
}

/// Why a token request failed, as an OAuth error code and description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub error: &'static str,
    pub description: &'static str,
}

const fn invalid_grant(description: &'static str) -> Refusal {
    Refusal { error: "invalid_grant", description }
}

struct CodeRecord {
    request: ApprovedRequest,
    expires_at: SystemTime,
    /// Set once someone tried to redeem the code.
    used: bool,
    /// The grant the code produced, revoked if the code is replayed.
    grant: Option<u64>,
}

/// One authorization of one client by the user; tokens belong to a grant.
pub(crate) struct Grant {
    pub user: TestUser,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// The access tokens' audience.
    pub audience: String,
    revoked: bool,
}

struct AccessRecord {
    grant: u64,
    expires_at: SystemTime,
}

struct RefreshRecord {
    grant: u64,
    /// False once rotated or revoked; presenting it again revokes the grant.
    current: bool,
    /// When pruning first saw it retired (it is kept for reuse detection, then forgotten).
    retired_seen: Option<SystemTime>,
}

/// How long a rotated or revoked refresh token is remembered, so that its reuse still revokes
/// the grant; after that it is forgotten like any unknown token.
const RETIRED_TOKEN_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// Forgetting runs at most this often.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Codes, grants and tokens of one identity provider.
pub(crate) struct Grants {
    code_lifetime: Duration,
    access_token_lifetime: Duration,
    codes: HashMap<String, CodeRecord>,
    grants: HashMap<u64, Grant>,
    next_grant: u64,
    access_tokens: HashMap<String, AccessRecord>,
    refresh_tokens: HashMap<String, RefreshRecord>,
    next_prune: SystemTime,
}

impl Grants {
    pub(crate) fn new(code_lifetime: Duration, access_token_lifetime: Duration) -> Self {
        Self {
            code_lifetime,
            access_token_lifetime,
            codes: HashMap::new(),
            grants: HashMap::new(),
            next_grant: 1,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            next_prune: SystemTime::UNIX_EPOCH,
        }
    }

    /// How many codes, grants, access and refresh tokens are remembered.
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> [usize; 4] {
        [self.codes.len(), self.grants.len(), self.access_tokens.len(), self.refresh_tokens.len()]
    }

    /// Forgets expired codes and access tokens, retired refresh tokens past their retention,
    /// and grants nothing refers to any more, so the provider's memory follows its live sessions.
    fn prune(&mut self, now: SystemTime) {
        if now < self.next_prune {
            return;
        }
        self.next_prune = now + PRUNE_INTERVAL;
        self.codes.retain(|_, code| now < code.expires_at);
        self.access_tokens.retain(|_, token| now < token.expires_at);
        self.refresh_tokens.retain(|_, token| {
            if token.current {
                return true;
            }
            let seen = *token.retired_seen.get_or_insert(now);
            now < seen + RETIRED_TOKEN_RETENTION
        });
        let mut used: std::collections::HashSet<u64> =
            self.codes.values().filter_map(|code| code.grant).collect();
        used.extend(self.access_tokens.values().map(|token| token.grant));
        used.extend(self.refresh_tokens.values().map(|token| token.grant));
        self.grants.retain(|id, _| used.contains(id));
    }

    /// Issues a single-use code for an approved request.
    pub(crate) fn issue_code(&mut self, request: ApprovedRequest, now: SystemTime) -> String {
        self.prune(now);
        let code = random_token("sim_code_");
        let record = CodeRecord { request, expires_at: now + self.code_lifetime, used: false, grant: None };
        self.codes.insert(code.clone(), record);
        code
    }

    /// Redeems `code` (RFC 6749 §4.1.3, RFC 7636 §4.6). Any redemption attempt uses the code up.
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        now: SystemTime,
    ) -> Result<Issued, Refusal> {
        let Some(record) = self.codes.get_mut(code) else {
            return Err(invalid_grant("unknown authorization code"));
        };
        if record.request.client_id != client_id {
            return Err(invalid_grant("the authorization code was issued to another client"));
        }
        if record.used {
            let produced = record.grant;
            if let Some(grant) = produced {
                self.revoke_grant(grant);
                tracing::warn!(client_id, "authorization code replayed; tokens issued from it are revoked");
            }
            return Err(invalid_grant("the authorization code was already used"));
        }
        record.used = true;
        if now >= record.expires_at {
            return Err(invalid_grant("the authorization code has expired"));
        }
        if redirect_uri != Some(record.request.redirect_uri.as_str()) {
            return Err(invalid_grant("redirect_uri does not match the authorization request"));
        }
        let verified = code_verifier.is_some_and(|verifier| {
            is_valid_verifier(verifier) && s256(verifier) == record.request.code_challenge
        });
        if !verified {
            return Err(invalid_grant("PKCE verification failed"));
        }
        let request = record.request.clone();
        let grant = self.new_grant(&request);
        if let Some(record) = self.codes.get_mut(code) {
            record.grant = Some(grant);
        }
        let mut issued = self.issue_tokens(grant, now)?;
        issued.nonce = request.nonce;
        Ok(issued)
    }

    /// Exchanges a current refresh token for new tokens, retiring it (rotation).
    pub(crate) fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        now: SystemTime,
    ) -> Result<Issued, Refusal> {
        let Some(record) = self.refresh_tokens.get_mut(refresh_token) else {
            return Err(invalid_grant("unknown refresh token"));
        };
        let grant_id = record.grant;
        let Some(grant) = self.grants.get(&grant_id) else {
            return Err(invalid_grant("unknown refresh token"));
        };
        if grant.client_id != client_id {
            return Err(invalid_grant("the refresh token was issued to another client"));
        }
        if grant.revoked {
            return Err(invalid_grant("the refresh token has been revoked"));
        }
        if !record.current {
            self.revoke_grant(grant_id);
            tracing::warn!(client_id, "rotated refresh token reused; the grant is revoked");
            return Err(invalid_grant("the refresh token was already used"));
        }
        record.current = false;
        self.issue_tokens(grant_id, now)
    }

    /// Revokes the grant of `token` (access or refresh) when it belongs to `client_id`
    /// (RFC 7009: unknown tokens are no error).
    pub(crate) fn revoke(&mut self, token: &str, client_id: &str) {
        let grant = self
            .access_tokens
            .get(token)
            .map(|record| record.grant)
            .or_else(|| self.refresh_tokens.get(token).map(|record| record.grant));
        if let Some(grant) = grant
            && self.grants.get(&grant).is_some_and(|grant| grant.client_id == client_id)
        {
            self.revoke_grant(grant);
        }
    }

    /// The grant behind a valid, unexpired access token, and when the token expires.
    pub(crate) fn introspect(
        &self,
        access_token: &str,
        now: SystemTime,
    ) -> Result<(&Grant, SystemTime), TokenRejection> {
        let record = self.access_tokens.get(access_token).ok_or(TokenRejection::Invalid)?;
        let grant =
            self.grants.get(&record.grant).filter(|grant| !grant.revoked).ok_or(TokenRejection::Invalid)?;
        if now >= record.expires_at {
            return Err(TokenRejection::Expired);
        }
        Ok((grant, record.expires_at))
    }

    fn new_grant(&mut self, request: &ApprovedRequest) -> u64 {
        let id = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(
            id,
            Grant {
                user: request.user.clone(),
                client_id: request.client_id.clone(),
                scopes: request.scopes.clone(),
                audience: request
                    .resource
                    .clone()
                    .unwrap_or_else(|| crate::backend::BINDING_API_AUDIENCE.to_owned()),
                revoked: false,
            },
        );
        id
    }

    fn issue_tokens(&mut self, grant_id: u64, now: SystemTime) -> Result<Issued, Refusal> {
        self.prune(now);
        let grant = self.grants.get(&grant_id).ok_or(invalid_grant("unknown grant"))?;
        let (user, client_id, scopes) = (grant.user.clone(), grant.client_id.clone(), grant.scopes.clone());
        let access_token = random_token("sim_at_");
        let refresh_token = random_token("sim_rt_");
        self.access_tokens.insert(
            access_token.clone(),
            AccessRecord { grant: grant_id, expires_at: now + self.access_token_lifetime },
        );
        self.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshRecord { grant: grant_id, current: true, retired_seen: None },
        );
        Ok(Issued {
            access_token,
            refresh_token,
            expires_in: self.access_token_lifetime,
            scopes,
            user,
            client_id,
            nonce: None,
        })
    }

    fn revoke_grant(&mut self, grant_id: u64) {
        if let Some(grant) = self.grants.get_mut(&grant_id) {
            grant.revoked = true;
        }
        self.access_tokens.retain(|_, record| record.grant != grant_id);
        for record in self.refresh_tokens.values_mut().filter(|record| record.grant == grant_id) {
            record.current = false;
        }
    }
}

/// RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte))
}

/// RFC 7636 §4.2: `BASE64URL(SHA256(ASCII(code_verifier)))`.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// 256 random bits, base64url, after a readable prefix.
fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const REDIRECT: &str = "http://127.0.0.1:4000/callback";

    fn start() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn grants() -> Grants {
        Grants::new(Duration::from_secs(60), Duration::from_secs(600))
    }

    fn approved() -> ApprovedRequest {
        ApprovedRequest {
            client_id: "app".into(),
            redirect_uri: REDIRECT.into(),
            scopes: vec!["openid".into()],
            code_challenge: s256(VERIFIER),
            nonce: Some("n".into()),
            resource: None,
            user: TestUser::default(),
        }
    }

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(s256(VERIFIER), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn code_redeems_once_and_replay_revokes_its_tokens() {
        let mut grants = grants();
        let code = grants.issue_code(approved(), start());
        let issued = grants.redeem_code(&code, "app", Some(REDIRECT), Some(VERIFIER), start()).unwrap();
        assert_eq!(issued.nonce.as_deref(), Some("n"));
        assert!(grants.introspect(&issued.access_token, start()).is_ok());
        let replay = grants.redeem_code(&code, "app", Some(REDIRECT), Some(VERIFIER), start());
        assert_eq!(
            replay.err().map(|refusal| refusal.description),
            Some("the authorization code was already used")
        );
        assert!(grants.introspect(&issued.access_token, start()).is_err());
        assert!(grants.refresh(&issued.refresh_token, "app", start()).is_err());
    }

    #[test]
    fn code_is_bound_to_verifier_redirect_client_and_lifetime() {
        let mut grants = grants();
        let other_verifier = "x".repeat(43);
        let cases = [
            (
                "app",
                Some(REDIRECT),
                Some(other_verifier.as_str()),
                Duration::ZERO,
                "PKCE verification failed",
            ),
            ("app", Some(REDIRECT), None, Duration::ZERO, "PKCE verification failed"),
            (
                "app",
                Some("http://127.0.0.1:4001/callback"),
                Some(VERIFIER),
                Duration::ZERO,
                "redirect_uri does not match the authorization request",
            ),
            (
                "other",
                Some(REDIRECT),
                Some(VERIFIER),
                Duration::ZERO,
                "the authorization code was issued to another client",
            ),
            (
                "app",
                Some(REDIRECT),
                Some(VERIFIER),
                Duration::from_secs(60),
                "the authorization code has expired",
            ),
        ];
        for (client, redirect, verifier, age, expected) in cases {
            let code = grants.issue_code(approved(), start());
            let refusal = grants.redeem_code(&code, client, redirect, verifier, start() + age).err();
            assert_eq!(refusal, Some(invalid_grant(expected)));
        }
    }

    #[test]
    fn expired_and_retired_entries_are_forgotten() {
        let mut grants = grants();
        for _ in 0..50 {
            let code = grants.issue_code(approved(), start());
            let first = grants.redeem_code(&code, "app", Some(REDIRECT), Some(VERIFIER), start()).unwrap();
            grants.refresh(&first.refresh_token, "app", start()).unwrap();
            grants.issue_code(approved(), start()); // a sign-in abandoned before the exchange
        }
        assert_eq!(grants.sizes(), [100, 50, 100, 100]);
        // Two days on, two more sign-ins: expired codes and access tokens are gone; the rotated
        // refresh tokens are kept a day longer for reuse detection.
        let later = start() + Duration::from_secs(2 * 24 * 60 * 60);
        let code = grants.issue_code(approved(), later);
        grants.issue_code(approved(), later);
        assert_eq!(grants.sizes(), [2, 50, 0, 100]);
        let after = later + Duration::from_secs(61 + 25 * 60 * 60);
        grants.issue_code(approved(), after);
        // Each live session keeps its grant and current refresh token; the rest is forgotten.
        assert_eq!(grants.sizes(), [1, 50, 0, 50]);
        assert!(grants.redeem_code(&code, "app", Some(REDIRECT), Some(VERIFIER), after).is_err());
    }

    #[test]
    fn refresh_rotates_and_reuse_revokes_the_grant() {
        let mut grants = grants();
        let code = grants.issue_code(approved(), start());
        let first = grants.redeem_code(&code, "app", Some(REDIRECT), Some(VERIFIER), start()).unwrap();
        let second = grants.refresh(&first.refresh_token, "app", start()).unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        assert!(grants.introspect(&second.access_token, start()).is_ok());
        assert_eq!(
            grants.refresh(&first.refresh_token, "app", start()).err(),
            Some(invalid_grant("the refresh token was already used"))
        );
        assert!(grants.introspect(&second.access_token, start()).is_err());
        assert!(grants.refresh(&second.refresh_token, "app", start()).is_err());
    }

    #[test]
    fn access_tokens_expire_and_can_be_revoked() {
        let mut grants = grants();
        let code = grants.issue_code(approved(), start());
        let issued = grants.redeem_code(&code, "app", Some(REDIRECT), Some(VERIFIER), start()).unwrap();
        assert!(grants.introspect(&issued.access_token, start() + Duration::from_secs(599)).is_ok());
        let expired = grants.introspect(&issued.access_token, start() + Duration::from_secs(600));
        assert_eq!(expired.err(), Some(TokenRejection::Expired));
        grants.revoke(&issued.refresh_token, "someone-else");
        assert!(grants.introspect(&issued.access_token, start()).is_ok());
        grants.revoke(&issued.refresh_token, "app");
        assert_eq!(grants.introspect(&issued.access_token, start()).err(), Some(TokenRejection::Invalid));
    }
}
