package dev.unbox.android.flow

import dev.unbox.CancelHandle
import dev.unbox.core.FlowEvent
import dev.unbox.FlowObserver
import dev.unbox.Onboarded
import dev.unbox.OnboardingClientInterface
import dev.unbox.OnboardingRequest
import dev.unbox.WifiPasswordPrompt
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** What an onboarding [Flow] emits: the run's progress events, then exactly one result. */
sealed interface OnboardingUpdate<out T> {
    /** One event of the run: its step, what happened, overall progress and a sentence to show. */
    data class Progress(val event: FlowEvent) : OnboardingUpdate<Nothing>

    /** The run succeeded; always the last element. */
    data class Finished<out T>(val result: T) : OnboardingUpdate<T>
}

/**
 * Runs one library operation that reports [FlowEvent]s to an observer and stops on a
 * [CancelHandle], as a cold [Flow]: every collection starts the operation once, emits each event
 * as [OnboardingUpdate.Progress], then [OnboardingUpdate.Finished] with the result, and completes.
 * A failure ends the flow with the operation's typed exception (e.g. `OnboardingException`).
 *
 * Cancelling the collector cancels the operation through its [CancelHandle] rather than by
 * dropping the native call, so the library winds down in order (closes the device session,
 * leaves the device's network); the collector's cancellation completes once it has.
 */
fun <T> observedOperation(operation: suspend (FlowObserver, CancelHandle) -> T): Flow<OnboardingUpdate<T>> =
    callbackFlow {
        val cancel = CancelHandle()
        val settled = AtomicBoolean(false)
        val observer = object : FlowObserver {
            override fun onEvent(event: FlowEvent) {
                trySend(OnboardingUpdate.Progress(event))
            }
        }
        launch {
            val outcome = withContext(NonCancellable) { runCatching { operation(observer, cancel) } }
            settled.set(true)
            outcome.fold(
                onSuccess = { result ->
                    trySend(OnboardingUpdate.Finished(result))
                    close()
                },
                onFailure = { error -> close(error) },
            )
        }
        awaitClose {
            if (!settled.get()) cancel.cancel()
        }
    }.buffer(Channel.UNLIMITED)

/**
 * Runs the onboarding of one device as a [Flow] of its events ending with the confirmed
 * [Onboarded] binding (see [observedOperation] for completion, errors and cancellation).
 * `prompt` is asked for a new Wi-Fi password when the device reports it wrong.
 */
fun OnboardingClientInterface.onboardingFlow(
    request: OnboardingRequest,
    prompt: WifiPasswordPrompt? = null,
): Flow<OnboardingUpdate<Onboarded>> =
    observedOperation { observer, cancel -> this@onboardingFlow.run(request, observer, prompt, cancel) }

/**
 * Finishes the onboardings interrupted after their claim reached the device, as a [Flow] of
 * events ending with the bindings confirmed (see [observedOperation]).
 */
fun OnboardingClientInterface.resumeFlow(): Flow<OnboardingUpdate<List<Onboarded>>> =
    observedOperation { observer, cancel -> this@resumeFlow.resume(observer, cancel) }
