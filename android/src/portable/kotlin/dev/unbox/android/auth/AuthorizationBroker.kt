package dev.unbox.android.auth

import dev.unbox.AgentException
import dev.unbox.callbackAnswersSignIn
import kotlinx.coroutines.CompletableDeferred

/** What became of a redirect handed to [AuthorizationBroker.deliver]. */
enum class Delivery {
    /** It was the awaited redirect; the sign-in continues. */
    COMPLETED,

    /** A sign-in was waiting for another redirect; it failed with [AgentException.Failed]. */
    MISMATCHED,

    /**
     * The redirect came to the right address but does not answer the waiting sign-in (another
     * app forged it, or an abandoned sign-in's page finished late): ignored, the sign-in waits on.
     */
    IGNORED,

    /** No sign-in was waiting (the app was restarted, or it was cancelled). */
    NOBODY_WAITING,
}

/**
 * Connects the agent's suspended `authorize` call with the activities the browser returns to.
 * At most one sign-in is pending; starting another cancels the earlier one.
 */
class AuthorizationBroker {
    /** One sign-in waiting for its redirect. */
    class Pending internal constructor(internal val redirectUri: String, internal val authorizationUrl: String) {
        internal val result = CompletableDeferred<String>()

        /** Suspends until the redirect arrives; throws [AgentException] when it will not. */
        suspend fun await(): String = result.await()
    }

    private var pending: Pending? = null

    /**
     * Registers the sign-in that opened [authorizationUrl], waiting for [redirectUri]; an earlier
     * pending one is cancelled.
     */
    @Synchronized
    fun begin(redirectUri: String, authorizationUrl: String): Pending {
        pending?.result?.completeExceptionally(AgentException.Cancelled())
        return Pending(redirectUri, authorizationUrl).also { pending = it }
    }

    /**
     * Whether [deliver] would hand [uri] to a waiting sign-in: the redirect activity asks before it
     * brings the sign-in back to the front (which closes the browser tab), so a forged redirect
     * leaves the person's sign-in page open.
     */
    @Synchronized
    fun wouldDeliver(uri: String): Boolean {
        val waiting = pending ?: return false
        return !forged(waiting, uri)
    }

    private fun forged(waiting: Pending, uri: String): Boolean =
        RedirectMatch.matches(waiting.redirectUri, uri) && !callbackAnswersSignIn(waiting.authorizationUrl, uri)

    /** Hands the pending sign-in the URI the browser opened the app with. */
    @Synchronized
    fun deliver(uri: String): Delivery {
        val waiting = pending ?: return Delivery.NOBODY_WAITING
        if (forged(waiting, uri)) return Delivery.IGNORED
        val rightAddress = RedirectMatch.matches(waiting.redirectUri, uri)
        pending = null
        return if (rightAddress) {
            waiting.result.complete(uri)
            Delivery.COMPLETED
        } else {
            waiting.result.completeExceptionally(
                AgentException.Failed(
                    "the browser returned to ${RedirectMatch.withoutQuery(uri)}, not to ${waiting.redirectUri}",
                ),
            )
            Delivery.MISMATCHED
        }
    }

    /** Ends the pending sign-in with [error] (the person came back without finishing, or no browser). */
    @Synchronized
    fun fail(error: AgentException) {
        pending?.result?.completeExceptionally(error)
        pending = null
    }

    /** Forgets [waiting] if it is still the pending sign-in (its caller stopped waiting). */
    @Synchronized
    fun abandon(waiting: Pending) {
        if (pending === waiting) pending = null
    }

    /** Whether a sign-in is waiting for its redirect. */
    @Synchronized
    fun isWaiting(): Boolean = pending != null
}

/** What the activity hosting the browser does when it comes to the foreground. */
sealed interface ResumeAction {
    /** First time in front: open the browser. */
    data object LaunchBrowser : ResumeAction

    /** The browser came back through the redirect: hand it over and close. */
    data class Deliver(val uri: String) : ResumeAction

    /** In front again without a redirect: the person closed the browser; cancel and close. */
    data object Cancel : ResumeAction

    /** Decides the action. */
    companion object {
        /** The action for a resume, given whether the browser was opened and the redirect if any. */
        fun decide(browserLaunched: Boolean, redirect: String?): ResumeAction = when {
            redirect != null -> Deliver(redirect)
            !browserLaunched -> LaunchBrowser
            else -> Cancel
        }
    }
}
