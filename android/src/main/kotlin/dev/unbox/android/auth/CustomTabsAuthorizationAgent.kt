package dev.unbox.android.auth

import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.os.Bundle
import dev.unbox.AgentException
import dev.unbox.AuthorizationAgent

/**
 * The library's [AuthorizationAgent] on Android: opens the provider's page in a Custom Tab of the
 * person's browser (any browser when none supports Custom Tabs) and returns the redirect the
 * browser hands back to [RedirectActivity]. If the person comes back to the app without finishing,
 * the sign-in ends with [AgentException.Cancelled].
 *
 * The redirect URI's scheme must be the one set in the app's manifest placeholder
 * `unboxRedirectScheme` (e.g. `com.example.app` for `com.example.app:/oauth2redirect`).
 */
class CustomTabsAuthorizationAgent(context: Context) : AuthorizationAgent {
    private val appContext = context.applicationContext

    override suspend fun authorize(url: String, redirectUri: String): String {
        checkRedirectRegistered(redirectUri)
        val launch = BrowserLaunch.choose(installedBrowsers(), defaultBrowser())
            ?: throw AgentException.BrowserUnavailable("no web browser is installed")
        val pending = Authorizations.broker.begin(redirectUri, url)
        try {
            val host = Intent(appContext, AuthorizationActivity::class.java)
                .putExtra(AuthorizationActivity.EXTRA_BROWSER_INTENT, browserIntent(url, launch))
                .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
            try {
                appContext.startActivity(host)
            } catch (missing: ActivityNotFoundException) {
                throw AgentException.Failed("the library's AuthorizationActivity is missing from the merged manifest")
            }
            return pending.await()
        } finally {
            Authorizations.broker.abandon(pending)
        }
    }

    private fun browserIntent(url: String, launch: BrowserLaunch): Intent {
        val extras = Bundle()
        for (extra in launch.extras) {
            when (extra) {
                is LaunchExtra.NullBinder -> extras.putBinder(extra.name, null)
                is LaunchExtra.IntValue -> extras.putInt(extra.name, extra.value)
            }
        }
        return Intent(Intent.ACTION_VIEW, Uri.parse(url))
            .addCategory(Intent.CATEGORY_BROWSABLE)
            .setPackage(launch.packageName)
            .putExtras(extras)
    }

    @Suppress("DEPRECATION")
    private fun installedBrowsers(): List<BrowserCandidate> {
        val packages = appContext.packageManager
        val view = Intent(Intent.ACTION_VIEW, Uri.parse("https://example.com")).addCategory(Intent.CATEGORY_BROWSABLE)
        return packages.queryIntentActivities(view, PackageManager.MATCH_ALL)
            .map { it.activityInfo.packageName }
            .distinct()
            .map { name ->
                val service = Intent(CustomTabsProtocol.ACTION_CUSTOM_TABS_CONNECTION).setPackage(name)
                BrowserCandidate(name, packages.resolveService(service, 0) != null)
            }
    }

    @Suppress("DEPRECATION")
    private fun defaultBrowser(): String? {
        val view = Intent(Intent.ACTION_VIEW, Uri.parse("https://example.com")).addCategory(Intent.CATEGORY_BROWSABLE)
        return appContext.packageManager.resolveActivity(view, PackageManager.MATCH_DEFAULT_ONLY)?.activityInfo?.packageName
    }

    /** Fails early, with the fix, when no [RedirectActivity] of this app handles the redirect's scheme. */
    @Suppress("DEPRECATION")
    private fun checkRedirectRegistered(redirectUri: String) {
        val scheme = RedirectMatch.scheme(redirectUri)
            ?: throw AgentException.Failed("the redirect URI `$redirectUri` has no scheme")
        val probe = Intent(Intent.ACTION_VIEW, Uri.parse(redirectUri))
            .addCategory(Intent.CATEGORY_BROWSABLE)
            .setPackage(appContext.packageName)
        val handled = appContext.packageManager.queryIntentActivities(probe, 0)
            .any { it.activityInfo.name == RedirectActivity::class.java.name }
        if (!handled) {
            throw AgentException.Failed(
                "no activity receives `$scheme:` redirects; set manifestPlaceholders[\"unboxRedirectScheme\"] = \"$scheme\" in the app's build.gradle.kts",
            )
        }
    }
}

/** The process-wide sign-in hand-over between the agent and the activities the system creates. */
internal object Authorizations {
    val broker = AuthorizationBroker()
}
