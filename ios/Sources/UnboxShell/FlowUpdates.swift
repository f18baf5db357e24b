// An onboarding as an async sequence: the run's events as they happen, then its result, or its
// typed error. Platform-independent (compiled and tested on Linux by ios/scripts/check.sh).

import Unbox

/// One element of an onboarding's update sequence.
public enum FlowUpdate<Outcome: Sendable>: Sendable {
    /// A step started, progressed, finished or was skipped.
    case event(FlowEvent)
    /// The run succeeded with this outcome; it is the sequence's last element.
    case finished(Outcome)
}

extension OnboardingClientProtocol {
    /// Onboards one device, delivering the run's events as they happen and then its result.
    ///
    /// Iterating throws the run's `OnboardingError`, whose variant is what to offer the person.
    /// Cancelling the iterating task, or leaving the loop early, cancels the onboarding through
    /// its `CancelHandle`; the sequence then ends without a `.finished` element.
    public func updates(for request: OnboardingRequest, prompt: WifiPasswordPrompt? = nil)
        -> AsyncThrowingStream<FlowUpdate<Onboarded>, Error>
    {
        flowUpdates { observer, cancel in
            try await self.run(request: request, observer: observer, prompt: prompt, cancel: cancel)
        }
    }

    /// Resumes the onboardings interrupted after their push (it waits on their claims),
    /// delivering events and then the devices bound; cancelled like `updates(for:prompt:)`.
    public func resumeUpdates() -> AsyncThrowingStream<FlowUpdate<[Onboarded]>, Error> {
        flowUpdates { observer, cancel in try await self.resume(observer: observer, cancel: cancel) }
    }
}

/// Starts `operation` with an observer feeding the returned sequence and a cancel handle that
/// fires when the sequence's consumer goes away before the end.
func flowUpdates<Outcome: Sendable>(
    _ operation: @escaping @Sendable (FlowObserver, CancelHandle) async throws -> Outcome
) -> AsyncThrowingStream<FlowUpdate<Outcome>, Error> {
    AsyncThrowingStream { continuation in
        let cancel = CancelHandle()
        continuation.onTermination = { termination in
            if case .cancelled = termination { cancel.cancel() }
        }
        let observer = StreamingObserver(continuation)
        Task {
            do {
                let outcome = try await operation(observer, cancel)
                continuation.yield(.finished(outcome))
                continuation.finish()
            } catch {
                // After the consumer went away the run ends as cancelled; the sequence just ends
                // (whether this or the consumer's own termination reaches it first).
                if cancel.isCancelled() {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: error)
                }
            }
        }
    }
}

/// Forwards the events Rust reports (on its own threads, one at a time) into a stream.
final class StreamingObserver<Outcome: Sendable>: FlowObserver {
    private let continuation: AsyncThrowingStream<FlowUpdate<Outcome>, Error>.Continuation

    init(_ continuation: AsyncThrowingStream<FlowUpdate<Outcome>, Error>.Continuation) {
        self.continuation = continuation
    }

    func onEvent(event: FlowEvent) {
        continuation.yield(.event(event))
    }
}
