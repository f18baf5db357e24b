//! A device whose `unbox-claim` endpoint and claim redemption are the firmware component's C code
//! (`firmware/unbox-claim`, compiled by `build.rs` with the `c-firmware` feature). The simulator
//! is its platform layer: HTTP/1.1 to the simulated backend on loopback, a key-value store in
//! memory that survives [`CClaimEndpoint::reboot`], a monotonic clock, the OS's randomness and
//! the `hmac` crate's HMAC-SHA256. The C core is not thread-safe, so every call goes through one
//! mutex; redemption attempts (blocking HTTP) run on tokio's blocking pool.

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::sync::watch;
use unbox_core::binding::ClaimStatus;
use unbox_core::binding::device_claim::CLAIM_ENDPOINT;
use unbox_core::device::AppInfo;
use url::Url;
use zeroize::Zeroizing;

use super::claim::{ClaimFirmware, Redemption, claim_app_info};
use super::protocomm::CustomEndpoint;

/// The C declarations of `firmware/unbox-claim/src/unbox_claim.h` and `unbox_claim_platform.h`.
mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    pub const ANSWER_BODY_MAX: usize = 512;
    pub const REPLY_MAX: usize = 80;
    pub const KV_NOT_FOUND: c_int = 1;
    pub const OUTCOME_BOUND: c_int = 0;
    pub const OUTCOME_EXPIRED: c_int = 2;

    #[repr(C)]
    pub struct Answer {
        pub status: c_int,
        pub retry_after_s: u32,
        pub body: [u8; ANSWER_BODY_MAX],
        pub body_len: usize,
    }

    #[repr(C)]
    pub struct ClaimResult {
        pub outcome: c_int,
        pub http_status: c_int,
        pub detail: [c_char; 32],
        pub attempts: u32,
    }

    pub type Ctx = *mut c_void;

    #[repr(C)]
    pub struct Platform {
        pub ctx: Ctx,
        pub http_post:
            unsafe extern "C" fn(Ctx, *const c_char, *const c_char, *const u8, usize, *mut Answer) -> c_int,
        pub kv_get: unsafe extern "C" fn(Ctx, *const c_char, *mut u8, *mut usize) -> c_int,
        pub kv_set: unsafe extern "C" fn(Ctx, *const c_char, *const u8, usize) -> c_int,
        pub kv_erase: unsafe extern "C" fn(Ctx, *const c_char) -> c_int,
        pub now_ms: unsafe extern "C" fn(Ctx) -> u64,
        pub random: unsafe extern "C" fn(Ctx, *mut u8, usize),
        pub hmac_sha256: unsafe extern "C" fn(Ctx, *const u8, usize, *const u8, usize, *mut u8) -> c_int,
        pub log: unsafe extern "C" fn(Ctx, c_int, *const c_char),
    }

    #[repr(C)]
    pub struct Config {
        pub device_id: *const c_char,
        pub device_secret: *const u8,
        pub device_secret_len: usize,
        pub default_backend_url: *const c_char,
        pub allowed_backends: *const *const c_char,
        pub allowed_backend_count: usize,
        pub allow_http: bool,
        pub refuse_when_bound: bool,
        pub initial_delay_ms: u32,
        pub max_delay_ms: u32,
        pub give_up_ms: u32,
        pub on_result: unsafe extern "C" fn(*const ClaimResult, *mut c_void),
        pub user: *mut c_void,
    }

    unsafe extern "C" {
        pub fn unbox_claim_init(
            claim: *mut c_void,
            config: *const Config,
            platform: *const Platform,
        ) -> c_int;
        pub fn unbox_claim_deinit(claim: *mut c_void);
        pub fn unbox_claim_handle(
            claim: *mut c_void,
            input: *const u8,
            input_len: usize,
            out: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> c_int;
        pub fn unbox_claim_network_up(claim: *mut c_void);
        pub fn unbox_claim_poll(claim: *mut c_void) -> u32;
        pub fn unbox_claim_is_bound(claim: *const c_void) -> bool;
        pub fn unbox_sim_layout(sizes: *mut usize, count: usize) -> usize;
    }
}

/// Retry timing of the simulated C devices: quick, so tests and the demo do not wait seconds.
#[derive(Debug, Clone, Copy)]
pub struct CFirmwareTiming {
    /// First retry delay.
    pub initial_delay: Duration,
    /// Longest retry delay.
    pub max_delay: Duration,
    /// When to give up after the first attempt.
    pub give_up: Duration,
}

impl Default for CFirmwareTiming {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(400),
            give_up: Duration::from_secs(20),
        }
    }
}

/// What the simulator lends the C code (`ctx` of every platform call). Survives reboots.
struct Services {
    started: Instant,
    /// The key-value store (flash): kept across reboots.
    kv: Mutex<HashMap<String, Vec<u8>>>,
    /// The next this many POSTs fail without an answer (uplink cut, backend unreachable).
    cut_posts: AtomicU32,
    posts: AtomicU32,
    redemption: watch::Sender<Redemption>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// # Safety
/// `ctx` is the `Services` the platform was made with; it outlives the C state.
unsafe fn services<'a>(ctx: ffi::Ctx) -> &'a Services {
    // SAFETY: the caller's contract.
    unsafe { &*(ctx as *const Services) }
}

/// # Safety
/// `text` is a NUL-terminated string.
unsafe fn text<'a>(text: *const c_char) -> &'a str {
    // SAFETY: the caller's contract; the C code passes NUL-terminated ASCII.
    unsafe { CStr::from_ptr(text) }.to_str().unwrap_or("")
}

unsafe extern "C" fn http_post(
    ctx: ffi::Ctx,
    url: *const c_char,
    authorization: *const c_char,
    body: *const u8,
    body_len: usize,
    answer: *mut ffi::Answer,
) -> c_int {
    // SAFETY: the C core passes its own NUL-terminated buffers, a body of `body_len` bytes and a
    // writable answer; `ctx` is our `Services`.
    let (services, url, authorization, body, answer) = unsafe {
        (
            services(ctx),
            text(url),
            text(authorization),
            std::slice::from_raw_parts(body, body_len),
            &mut *answer,
        )
    };
    services.posts.fetch_add(1, Ordering::SeqCst);
    let cut =
        services.cut_posts.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if cut {
        tracing::debug!("C device: uplink cut, the redemption gets no answer");
        return -1;
    }
    match post(url, authorization, body) {
        Ok(reply) => {
            answer.status = c_int::from(reply.status);
            answer.retry_after_s = reply.retry_after;
            let n = reply.body.len().min(answer.body.len());
            answer.body[..n].copy_from_slice(&reply.body[..n]);
            answer.body_len = n;
            0
        }
        Err(error) => {
            tracing::debug!(%error, "C device: redemption got no answer");
            -1
        }
    }
}

struct Reply {
    status: u16,
    retry_after: u32,
    body: Vec<u8>,
}

/// One HTTP/1.1 POST over a fresh loopback connection (`Connection: close`), as a device's
/// HTTP client makes it; plain HTTP only (the simulated cloud has no TLS).
fn post(url: &str, authorization: &str, body: &[u8]) -> std::io::Result<Reply> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned());
    let url = Url::parse(url).map_err(|_| invalid("bad URL"))?;
    if url.scheme() != "http" {
        return Err(invalid("the simulator's device speaks plain HTTP to the simulated cloud only"));
    }
    let host = url.host_str().ok_or_else(|| invalid("no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let mut stream = TcpStream::connect((host.trim_matches(['[', ']']), port))?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    stream.set_write_timeout(Some(Duration::from_secs(15)))?;
    let head = Zeroizing::new(format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json, \
         application/problem+json\r\nAuthorization: {authorization}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.path(),
        url.host_str().unwrap_or_default(),
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| invalid("no HTTP head"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status line"))?;
    let retry_after = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    Ok(Reply { status, retry_after, body: raw[split + 4..].to_vec() })
}

unsafe extern "C" fn kv_get(ctx: ffi::Ctx, key: *const c_char, buf: *mut u8, len: *mut usize) -> c_int {
    // SAFETY: `buf` holds `*len` writable bytes; `key` is NUL-terminated; `ctx` is our `Services`.
    unsafe {
        let kv = lock(&services(ctx).kv);
        let Some(value) = kv.get(text(key)) else { return ffi::KV_NOT_FOUND };
        if value.len() > *len {
            return -1;
        }
        std::ptr::copy_nonoverlapping(value.as_ptr(), buf, value.len());
        *len = value.len();
    }
    0
}

unsafe extern "C" fn kv_set(ctx: ffi::Ctx, key: *const c_char, buf: *const u8, len: usize) -> c_int {
    // SAFETY: `buf` holds `len` bytes; `key` is NUL-terminated; `ctx` is our `Services`.
    unsafe {
        let value = std::slice::from_raw_parts(buf, len).to_vec();
        lock(&services(ctx).kv).insert(text(key).to_owned(), value);
    }
    0
}

unsafe extern "C" fn kv_erase(ctx: ffi::Ctx, key: *const c_char) -> c_int {
    // SAFETY: `key` is NUL-terminated; `ctx` is our `Services`.
    unsafe {
        if let Some(mut value) = lock(&services(ctx).kv).remove(text(key)) {
            zeroize::Zeroize::zeroize(&mut value);
        }
    }
    0
}

unsafe extern "C" fn now_ms(ctx: ffi::Ctx) -> u64 {
    // SAFETY: `ctx` is our `Services`.
    let started = unsafe { services(ctx) }.started;
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

unsafe extern "C" fn random(_ctx: ffi::Ctx, buf: *mut u8, len: usize) {
    // SAFETY: `buf` holds `len` writable bytes.
    rand::rng().fill_bytes(unsafe { std::slice::from_raw_parts_mut(buf, len) });
}

unsafe extern "C" fn hmac_sha256(
    _ctx: ffi::Ctx,
    key: *const u8,
    key_len: usize,
    msg: *const u8,
    msg_len: usize,
    out: *mut u8,
) -> c_int {
    // SAFETY: the C core passes `key_len` and `msg_len` readable bytes and 32 writable ones.
    let (key, msg, out) = unsafe {
        (
            std::slice::from_raw_parts(key, key_len),
            std::slice::from_raw_parts(msg, msg_len),
            std::slice::from_raw_parts_mut(out, 32),
        )
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else { return -1 };
    mac.update(msg);
    out.copy_from_slice(&mac.finalize().into_bytes());
    0
}

unsafe extern "C" fn log(_ctx: ffi::Ctx, level: c_int, message: *const c_char) {
    // SAFETY: `message` is NUL-terminated.
    let message = unsafe { text(message) };
    match level {
        0 => tracing::error!("C device: {message}"),
        1 => tracing::warn!("C device: {message}"),
        2 => tracing::info!("C device: {message}"),
        _ => tracing::debug!("C device: {message}"),
    }
}

unsafe extern "C" fn on_result(result: *const ffi::ClaimResult, user: *mut c_void) {
    // SAFETY: `user` is the `Services` given in the config; `result` is valid for the call.
    let (services, result) = unsafe { (services(user), &*result) };
    // SAFETY: `detail` is NUL-terminated (the C core writes at most 31 characters).
    let detail = unsafe { text(result.detail.as_ptr()) }.to_owned();
    let outcome = match result.outcome {
        ffi::OUTCOME_BOUND => Redemption::Redeemed(match detail.as_str() {
            "confirmed" => ClaimStatus::Confirmed,
            _ => ClaimStatus::Redeemed,
        }),
        ffi::OUTCOME_EXPIRED => {
            Redemption::Failed(format!("claim expired (HTTP {}, {detail})", result.http_status))
        }
        _ => Redemption::Failed(format!("claim refused (HTTP {}, {detail})", result.http_status)),
    };
    services.redemption.send_replace(outcome);
}

/// The C state (`unbox_claim_t`) in 8-byte-aligned memory of the size the C compiler gave it.
struct CState {
    memory: Box<[u64]>,
}

impl CState {
    fn as_mut_ptr(&mut self) -> *mut c_void {
        self.memory.as_mut_ptr().cast()
    }
}

/// The sizes of the C structs this module mirrors, from the C compiler.
fn check_layout() -> Result<usize, String> {
    let mut sizes = [0usize; 5];
    // SAFETY: the function writes at most `sizes.len()` values.
    let count = unsafe { ffi::unbox_sim_layout(sizes.as_mut_ptr(), sizes.len()) };
    let expected = [
        std::mem::size_of::<ffi::Platform>(),
        std::mem::size_of::<ffi::Config>(),
        std::mem::size_of::<ffi::Answer>(),
        std::mem::size_of::<ffi::ClaimResult>(),
    ];
    if count != sizes.len() || sizes[1..] != expected {
        return Err(format!("the C structs do not match their Rust mirrors: {sizes:?} vs {expected:?}"));
    }
    Ok(sizes[0])
}

/// The `unbox-claim` endpoint of a simulated device running the C component.
pub struct CClaimEndpoint {
    services: Box<Services>,
    device_id: CString,
    secret: Zeroizing<Vec<u8>>,
    default_backend: CString,
    timing: CFirmwareTiming,
    state: Mutex<CState>,
    online: AtomicBool,
    /// Bumped by each reboot; a redemption driver of an older boot stops.
    boot: AtomicU64,
}

// SAFETY: the C state is only touched under `state`'s mutex; `Services` is Sync (mutex, atomics,
// watch sender) and the raw pointers handed to C point into this endpoint, which outlives them.
unsafe impl Send for CClaimEndpoint {}
// SAFETY: as above.
unsafe impl Sync for CClaimEndpoint {}

impl CClaimEndpoint {
    /// A device `device_id` with the factory `secret` (16–64 bytes; register the same credential
    /// at the backend) whose built-in backend is `default_backend` (plain HTTP allowed: the
    /// simulated cloud). Fails when the C code refuses the credential.
    pub fn new(
        device_id: &str,
        secret: Zeroizing<Vec<u8>>,
        default_backend: &Url,
        timing: CFirmwareTiming,
    ) -> Result<Arc<Self>, String> {
        let size = check_layout()?;
        let endpoint = Arc::new(Self {
            services: Box::new(Services {
                started: Instant::now(),
                kv: Mutex::new(HashMap::new()),
                cut_posts: AtomicU32::new(0),
                posts: AtomicU32::new(0),
                redemption: watch::channel(Redemption::Waiting).0,
            }),
            device_id: CString::new(device_id).map_err(|_| "the device id has a NUL byte".to_owned())?,
            secret,
            default_backend: CString::new(default_backend.as_str()).map_err(|_| "bad URL".to_owned())?,
            timing,
            state: Mutex::new(CState { memory: vec![0u64; size.div_ceil(8)].into_boxed_slice() }),
            online: AtomicBool::new(false),
            boot: AtomicU64::new(0),
        });
        endpoint.boot_c()?;
        Ok(endpoint)
    }

    /// Runs `unbox_claim_init` (a boot): it loads what the key-value store kept.
    fn boot_c(&self) -> Result<(), String> {
        let ctx = std::ptr::from_ref::<Services>(&self.services).cast_mut().cast::<c_void>();
        let platform =
            ffi::Platform { ctx, http_post, kv_get, kv_set, kv_erase, now_ms, random, hmac_sha256, log };
        let millis = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(1);
        let config = ffi::Config {
            device_id: self.device_id.as_ptr(),
            device_secret: self.secret.as_ptr(),
            device_secret_len: self.secret.len(),
            default_backend_url: self.default_backend.as_ptr(),
            allowed_backends: std::ptr::null(),
            allowed_backend_count: 0,
            allow_http: true,
            refuse_when_bound: false,
            initial_delay_ms: millis(self.timing.initial_delay),
            max_delay_ms: millis(self.timing.max_delay),
            give_up_ms: millis(self.timing.give_up),
            on_result,
            user: ctx,
        };
        let mut state = lock(&self.state);
        // SAFETY: the state has the C struct's size and alignment; config and platform are valid
        // for the call (the C code copies them; the strings they point to live in `self`).
        let err = unsafe { ffi::unbox_claim_init(state.as_mut_ptr(), &config, &platform) };
        if err == 0 { Ok(()) } else { Err(format!("unbox_claim_init failed with {err:#x}")) }
    }

    /// A power cycle: the C state in RAM is wiped and booted again from the key-value store; a
    /// device that was online reconnects with its stored Wi-Fi at once.
    pub fn reboot(self: &Arc<Self>) -> Result<(), String> {
        self.boot.fetch_add(1, Ordering::SeqCst);
        {
            let mut state = lock(&self.state);
            // SAFETY: the state was initialised by `boot_c`.
            unsafe { ffi::unbox_claim_deinit(state.as_mut_ptr()) };
        }
        self.boot_c()?;
        if self.online.load(Ordering::SeqCst) {
            self.network_up();
        }
        Ok(())
    }

    /// Makes the next `count` redemption attempts fail without an answer (backend unreachable).
    pub fn cut_uplink(&self, count: u32) {
        self.services.cut_posts.store(count, Ordering::SeqCst);
    }

    /// Redemption requests the C code has sent (answered or not).
    pub fn redeem_attempts(&self) -> u32 {
        self.services.posts.load(Ordering::SeqCst)
    }

    /// Whether the C code holds the bound flag (it survives reboots).
    pub fn is_bound(&self) -> bool {
        let state = lock(&self.state);
        // SAFETY: the state was initialised by `boot_c`.
        unsafe { ffi::unbox_claim_is_bound(state.memory.as_ptr().cast()) }
    }

    /// Hands one decrypted `unbox-claim` request to the C endpoint handler; returns its reply.
    pub fn handle(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        let mut reply = [0u8; ffi::REPLY_MAX];
        let mut len = 0usize;
        let mut state = lock(&self.state);
        // SAFETY: the state was initialised by `boot_c`; the buffers are valid for their lengths.
        let err = unsafe {
            ffi::unbox_claim_handle(
                state.as_mut_ptr(),
                request.as_ptr(),
                request.len(),
                reply.as_mut_ptr(),
                reply.len(),
                &mut len,
            )
        };
        if err != 0 {
            return Err(format!("unbox_claim_handle failed with {err:#x}"));
        }
        Ok(reply[..len].to_vec())
    }

    /// Tells the C code the station got an IP, and drives its attempts until it is done.
    pub fn network_up(self: &Arc<Self>) {
        self.online.store(true, Ordering::SeqCst);
        {
            let mut state = lock(&self.state);
            // SAFETY: the state was initialised by `boot_c`.
            unsafe { ffi::unbox_claim_network_up(state.as_mut_ptr()) };
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let endpoint = self.clone();
        let boot = self.boot.load(Ordering::SeqCst);
        runtime.spawn(async move {
            loop {
                let polled = endpoint.clone();
                let wait = tokio::task::spawn_blocking(move || {
                    if polled.boot.load(Ordering::SeqCst) != boot {
                        return u32::MAX;
                    }
                    let mut state = lock(&polled.state);
                    // SAFETY: the state was initialised by `boot_c`.
                    unsafe { ffi::unbox_claim_poll(state.as_mut_ptr()) }
                })
                .await
                .unwrap_or(u32::MAX);
                if wait == u32::MAX {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(u64::from(wait))).await;
            }
        });
    }
}

impl Drop for CClaimEndpoint {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        // SAFETY: the state was initialised by `boot_c`; nothing uses it after this.
        unsafe { ffi::unbox_claim_deinit(state.as_mut_ptr()) };
    }
}

impl ClaimFirmware for CClaimEndpoint {
    fn redemption(&self) -> watch::Receiver<Redemption> {
        self.services.redemption.subscribe()
    }

    fn endpoint(self: Arc<Self>) -> Arc<dyn CustomEndpoint> {
        Arc::new(Joined(self))
    }
}

/// The endpoint as the simulated device sees it: joining the network drives the redemption.
struct Joined(Arc<CClaimEndpoint>);

impl CustomEndpoint for Joined {
    fn name(&self) -> &str {
        CLAIM_ENDPOINT
    }

    fn app_info(&self) -> Option<(String, AppInfo)> {
        claim_app_info()
    }

    fn handle(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        self.0.handle(request)
    }

    fn on_network_joined(&self) {
        self.0.network_up();
    }
}
