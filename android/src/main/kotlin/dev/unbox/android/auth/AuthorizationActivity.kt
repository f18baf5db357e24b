package dev.unbox.android.auth

import android.annotation.TargetApi
import android.app.Activity
import android.content.ActivityNotFoundException
import android.content.Intent
import android.os.Build
import android.os.Bundle
import dev.unbox.AgentException

/**
 * An invisible activity that opens the browser and notices how the person comes back: through
 * the redirect ([RedirectActivity] brings it back to the front with the URI, closing the Custom
 * Tab above it) or without it (the person closed the tab or pressed back: the sign-in is
 * cancelled). Declared in the library's manifest; apps do not start it themselves.
 */
class AuthorizationActivity : Activity() {
    private var browserLaunched = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        browserLaunched = savedInstanceState?.getBoolean(STATE_BROWSER_LAUNCHED) ?: false
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        setIntent(intent)
        // A new sign-in (an earlier one was abandoned) starts by opening its own browser page.
        if (intent.hasExtra(EXTRA_BROWSER_INTENT)) browserLaunched = false
    }

    override fun onResume() {
        super.onResume()
        when (val action = ResumeAction.decide(browserLaunched, intent.getStringExtra(EXTRA_REDIRECT))) {
            ResumeAction.LaunchBrowser -> launchBrowser()
            is ResumeAction.Deliver -> {
                Authorizations.broker.deliver(action.uri)
                finish()
            }
            ResumeAction.Cancel -> {
                Authorizations.broker.fail(AgentException.Cancelled())
                finish()
            }
        }
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putBoolean(STATE_BROWSER_LAUNCHED, browserLaunched)
    }

    private fun launchBrowser() {
        val browser = browserIntent()
        if (browser == null || !Authorizations.broker.isWaiting()) {
            // Recreated after the sign-in ended (e.g. the process restarted): nothing to show.
            finish()
            return
        }
        try {
            startActivity(browser)
            browserLaunched = true
        } catch (missing: ActivityNotFoundException) {
            Authorizations.broker.fail(AgentException.BrowserUnavailable("the browser could not be opened"))
            finish()
        }
    }

    // Newer calls only behind the SDK_INT check below (animal-sniffer exempts this method).
    @TargetApi(Build.VERSION_CODES.TIRAMISU)
    @Suppress("DEPRECATION")
    private fun browserIntent(): Intent? =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            intent.getParcelableExtra(EXTRA_BROWSER_INTENT, Intent::class.java)
        } else {
            intent.getParcelableExtra(EXTRA_BROWSER_INTENT)
        }

    internal companion object {
        /** The browser intent to start (set by the agent). */
        const val EXTRA_BROWSER_INTENT = "dev.unbox.android.auth.BROWSER_INTENT"

        /** The redirect URI the browser opened the app with (set by [RedirectActivity]). */
        const val EXTRA_REDIRECT = "dev.unbox.android.auth.REDIRECT"

        private const val STATE_BROWSER_LAUNCHED = "browserLaunched"
    }
}
