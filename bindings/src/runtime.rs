//! Where async calls run, and how the shells cancel long operations.
//!
//! Every exported async function is marked `async_runtime = "tokio"`, so the foreign executor
//! polls it inside the tokio runtime of `async-compat` (multi-threaded here). [`on_runtime`]
//! moves the work itself onto that runtime's worker threads, so neither a handshake's big-number
//! arithmetic nor a long poll runs on a shell's main thread; dropping the call (a cancelled
//! Kotlin coroutine or Swift task) aborts the work.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

/// Runs `work` on the runtime's worker threads and waits for it. Dropping the returned future
/// aborts `work`. A panic in `work` resumes here, so UniFFI reports it to the caller as an
/// internal error instead of losing it. Must be polled within the tokio runtime.
///
/// Every call spawns the same type, a boxed future that sends its result back, so tokio's task
/// machinery is compiled once for all exports rather than once per exported future (about 2.6 KB
/// of the phones' library each).
pub(crate) async fn on_runtime<T, F>(work: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (result, receive_result) = tokio::sync::oneshot::channel();
    let task = spawn_boxed(Box::pin(async move {
        // The receiver is gone only when the caller stopped waiting, which aborts this task.
        let _ = result.send(work.await);
    }));
    match receive_result.await {
        Ok(value) => value,
        // The task ended without sending: it panicked or the runtime is shutting down.
        Err(_) => match task.finish().await {
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            _ => panic!("the Unbox runtime stopped while an operation was running"),
        },
    }
}

/// The one spawn every exported call goes through.
fn spawn_boxed(work: Pin<Box<dyn Future<Output = ()> + Send>>) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(work))
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
