//! Where async calls run, and how the shells cancel long operations.
//!
//! The library keeps one multi-threaded tokio runtime of its own. Exported async functions are
//! polled by the shells' executors (Kotlin coroutines, Swift tasks) and hand their work to
//! [`on_runtime`], which runs it on the runtime's worker threads, so neither a handshake's
//! big-number arithmetic nor a long poll runs on a shell's main thread; dropping the call (a
//! cancelled coroutine or task) aborts the work. The exports therefore need no tokio context
//! (no `async_runtime = "tokio"`, whose per-export wrapper cost the phones' library about 20 KB).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// Runs `work` on the runtime's worker threads and waits for it. Dropping the returned future
/// aborts `work`. A panic in `work` resumes here, so UniFFI reports it to the caller as an
/// internal error instead of losing it. Any executor may poll it.
///
/// Every call spawns the same type, a boxed future that sends its boxed result back on the same
/// type of channel, so tokio's task and channel machinery is compiled once for all exports
/// rather than once per exported future (about 3.7 KB of the phones' library each).
pub(crate) async fn on_runtime<T, F>(work: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (result, receive_result) = tokio::sync::oneshot::channel();
    let task = spawn_boxed(Box::pin(async move {
        // The receiver is gone only when the caller stopped waiting, which aborts this task.
        let _ = result.send(Box::new(work.await) as Box<dyn Any + Send>);
    }));
    match receive_result.await {
        Ok(value) => *value.downcast::<T>().expect("the task sends the value of its own work"),
        // The task ended without sending: it panicked or the runtime is shutting down.
        Err(_) => match task.finish().await {
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            _ => panic!("the Unbox runtime stopped while an operation was running"),
        },
    }
}

/// The one spawn every exported call goes through.
fn spawn_boxed(work: Pin<Box<dyn Future<Output = ()> + Send>>) -> AbortOnDrop {
    AbortOnDrop(runtime().spawn(work))
}

/// Runs `work` on the runtime without waiting for it (clean-up when an object is dropped); the
/// same boxed type as every other spawn.
pub(crate) fn spawn_detached(work: impl Future<Output = ()> + Send + 'static) {
    let work: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(work);
    drop(runtime().spawn(work));
}

#[cfg(any(feature = "btleplug", feature = "sim"))]
/// Polls `work` inside the runtime's context, on the caller's executor: for the Rust
/// implementations of the foreign BLE traits, whose methods a shell may call directly and whose
/// core code uses the runtime's timers and channels.
pub(crate) async fn in_runtime_context<F: Future>(work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|context| {
        let _entered = runtime().enter();
        work.as_mut().poll(context)
    })
    .await
}

/// The library's runtime, started on first use: one worker thread per CPU, timers and sockets.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("unbox")
            .enable_all()
            .build()
            // Only when the system refuses threads or an event queue: nothing works then.
            .expect("the system could not start the Unbox runtime's threads")
    })
}

/// Aborts the task when the caller stops waiting for it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    /// Waits for the task's end (after its result channel closed without a value).
    async fn finish(mut self) -> Result<(), tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Cancels a long operation (an onboarding run, a wait for the device) from another thread: the
/// shell creates one, passes it to the operation, and calls `cancel()` when the
/// person gives up. The operation then ends with its area's `Cancelled` error.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelHandle {
    token: CancellationToken,
}

#[uniffi::export]
impl CancelHandle {
    /// A handle that has not been cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Asks every operation given this handle to stop. Idempotent.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel()` has been called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

impl CancelHandle {
    /// The token the core operation watches.
    pub(crate) fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_runtime_and_returns_its_value() {
        assert_eq!(on_runtime(async { 6 * 7 }).await, 42);
    }

    #[tokio::test]
    async fn a_panic_in_the_work_resumes_in_the_caller() {
        let outcome = tokio::spawn(on_runtime(async { panic!("boom") })).await;
        assert!(outcome.is_err_and(|error| error.is_panic()));
    }

    #[tokio::test]
    async fn dropping_the_call_aborts_the_work() {
        let (started, wait_started) = tokio::sync::oneshot::channel();
        let (_never, hold) = tokio::sync::oneshot::channel::<()>();
        let (dropped, was_dropped) = tokio::sync::oneshot::channel::<()>();
        let call = tokio::spawn(on_runtime(async move {
            let _guard = DropSignal(Some(dropped));
            let _ = started.send(());
            let _ = hold.await;
        }));
        wait_started.await.unwrap();
        call.abort();
        // The work's future is dropped (signalling) rather than left running.
        assert!(was_dropped.await.is_err());
    }

    struct DropSignal(Option<tokio::sync::oneshot::Sender<()>>);

    impl Drop for DropSignal {
        fn drop(&mut self) {
            self.0.take();
        }
    }

    #[test]
    fn cancel_handle_cancels_its_token_once_and_for_all() {
        let handle = CancelHandle::new();
        let token = handle.token();
        assert!(!handle.is_cancelled());
        handle.cancel();
        handle.cancel();
        assert!(handle.is_cancelled() && token.is_cancelled());
    }
}
