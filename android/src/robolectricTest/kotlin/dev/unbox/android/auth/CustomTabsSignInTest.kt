package dev.unbox.android.auth

import android.app.Activity
import android.content.Intent
import android.net.Uri
import android.os.Build
import dev.unbox.AgentException
import dev.unbox.android.robolectric.InstalledBrowsers
import dev.unbox.android.robolectric.LibraryManifest
import dev.unbox.android.robolectric.ShellTestRunner
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController

/**
 * (The sign-ins run as supervised children so that a failing one fails only its own await.)
 *
 * The real sign-in path on Android: [CustomTabsAuthorizationAgent] starts the library's
 * [AuthorizationActivity], which opens the Custom Tab; the browser comes back through the exported
 * [RedirectActivity]. Robolectric plays the system (started activities are recorded, the test
 * creates them as the system would), the test plays the person and the browser.
 */
@RunWith(ShellTestRunner::class)
class CustomTabsSignInTest {
    private val app = RuntimeEnvironment.getApplication()
    private val agent = CustomTabsAuthorizationAgent(app)

    @Before
    fun installApps() {
        LibraryManifest.install()
        InstalledBrowsers.install(CHROME, customTabs = true)
        InstalledBrowsers.install("org.example.plainbrowser", customTabs = false)
    }

    @Test
    fun `the agent opens the page in a Custom Tab and the redirect activity hands the callback back`(): Unit = runBlocking {
        val signIn = async(SupervisorJob()) { agent.authorize(url("s1"), REDIRECT) }
        val host = hostStarted()
        assertEquals(AuthorizationActivity::class.java.name, host.component?.className)
        assertTrue("started from the application context, so in a new task", host.flags and Intent.FLAG_ACTIVITY_NEW_TASK != 0)

        val activity = Robolectric.buildActivity(AuthorizationActivity::class.java, host).setup()
        val browser = requireNotNull(shadowOf(activity.get()).nextStartedActivity) { "no browser was opened" }
        assertEquals(Intent.ACTION_VIEW, browser.action)
        assertEquals(url("s1"), browser.dataString)
        assertEquals(CHROME, browser.`package`)
        assertTrue(browser.hasCategory(Intent.CATEGORY_BROWSABLE))
        assertTrue("a Custom Tab: the session extra is present", browser.extras!!.containsKey(CustomTabsProtocol.EXTRA_SESSION))
        assertNull(browser.extras!!.getBinder(CustomTabsProtocol.EXTRA_SESSION))
        assertEquals(CustomTabsProtocol.SHOW_PAGE_TITLE, browser.getIntExtra(CustomTabsProtocol.EXTRA_TITLE_VISIBILITY, -1))
        activity.pause().stop()

        val callback = "$REDIRECT?code=abc&state=s1"
        val back = openRedirect(callback)
        assertEquals(AuthorizationActivity::class.java.name, back!!.component?.className)
        assertTrue(back.flags and Intent.FLAG_ACTIVITY_CLEAR_TOP != 0)
        bringBack(activity, back)

        assertTrue(activity.get().isFinishing)
        assertEquals(callback, signIn.await())
    }

    @Test
    fun `coming back without the redirect cancels the sign-in`(): Unit = runBlocking {
        val signIn = async(SupervisorJob()) { agent.authorize(url("s1"), REDIRECT) }
        val activity = Robolectric.buildActivity(AuthorizationActivity::class.java, hostStarted()).setup()
        activity.pause().stop()

        restarted(activity).resume() // the person closed the tab

        assertTrue(activity.get().isFinishing)
        assertFailsWith<AgentException.Cancelled>(signIn)
    }

    @Test
    fun `a second sign-in after an abandoned one opens its own page and takes only its own callback`(): Unit = runBlocking {
        val first = async(SupervisorJob()) { agent.authorize(url("s1"), REDIRECT) }
        val activity = Robolectric.buildActivity(AuthorizationActivity::class.java, hostStarted()).setup()
        shadowOf(activity.get()).nextStartedActivity
        activity.pause().stop() // the person leaves the tab open and starts over in the app

        val second = async(SupervisorJob()) { agent.authorize(url("s2"), REDIRECT) }
        val secondHost = hostStarted()
        assertFailsWith<AgentException.Cancelled>(first)
        // singleTask: the same activity instance gets the new sign-in as a new intent.
        restarted(activity).newIntent(secondHost)
        activity.resume()
        val browser = shadowOf(activity.get()).nextStartedActivity
        assertEquals("the second sign-in opens its own page", url("s2"), browser.dataString)
        assertFalse(activity.get().isFinishing)
        activity.pause().stop()

        assertNull("the abandoned page's late callback is dropped", openRedirect("$REDIRECT?code=old&state=s1"))
        val back = openRedirect("$REDIRECT?code=new&state=s2")
        bringBack(activity, back!!)
        assertEquals("$REDIRECT?code=new&state=s2", second.await())
    }

    @Test
    fun `a forged callback is dropped and the sign-in page stays open`(): Unit = runBlocking {
        val signIn = async(SupervisorJob()) { agent.authorize(url("s1"), REDIRECT) }
        val activity = Robolectric.buildActivity(AuthorizationActivity::class.java, hostStarted()).setup()
        assertEquals(url("s1"), shadowOf(activity.get()).nextStartedActivity.dataString)
        activity.pause().stop()

        assertNull("another app's forged callback brings nothing to the front", openRedirect("$REDIRECT?code=evil&state=forged"))
        assertNull("nor does an empty one", openRedirect(null))
        assertFalse(signIn.isCompleted)

        bringBack(activity, openRedirect("$REDIRECT?code=abc&state=s1")!!)
        assertEquals("$REDIRECT?code=abc&state=s1", signIn.await())
    }

    @Test
    fun `a redirect scheme the manifest does not receive fails with the fix`(): Unit = runBlocking {
        try {
            agent.authorize(url("s1"), "com.other.app:/oauth2redirect")
            fail("authorize succeeded without a redirect activity")
        } catch (missing: AgentException.Failed) {
            assertTrue(missing.message!!, missing.message!!.contains("manifestPlaceholders[\"unboxRedirectScheme\"] = \"com.other.app\""))
        }
        assertNull(shadowOf(app).nextStartedActivity)
    }

    /** Lets the agent run up to its wait, and returns the activity it started. */
    private suspend fun hostStarted(): Intent {
        yield()
        return requireNotNull(shadowOf(app).nextStartedActivity) { "the agent started no activity" }
    }

    /** The browser opens the app with [uri]: the redirect activity runs; returns what it started, if anything. */
    private fun openRedirect(uri: String?): Intent? {
        val intent = Intent(Intent.ACTION_VIEW).addCategory(Intent.CATEGORY_BROWSABLE)
        if (uri != null) intent.data = Uri.parse(uri)
        val redirect = Robolectric.buildActivity(RedirectActivity::class.java, intent).create()
        assertTrue("the redirect activity always closes itself", redirect.get().isFinishing)
        return shadowOf(redirect.get()).nextStartedActivity
    }

    /** The system brings the stopped sign-in activity back with [intent] (singleTask, CLEAR_TOP). */
    private fun <A : Activity> bringBack(activity: ActivityController<A>, intent: Intent) {
        restarted(activity).newIntent(intent).resume()
    }

    /** A stopped activity restarted (performRestart also starts it from API 28). */
    private fun <A : Activity> restarted(activity: ActivityController<A>): ActivityController<A> =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) activity.restart() else activity.restart().start()

    private suspend inline fun <reified E : Throwable> assertFailsWith(call: Deferred<*>) {
        try {
            call.await()
            fail("expected ${E::class.simpleName}")
        } catch (expected: Throwable) {
            if (expected !is E) throw expected
        }
    }

    private fun url(state: String) = "https://login.example.com/authorize?client_id=app&state=$state"

    private companion object {
        const val CHROME = "com.android.chrome"
        const val REDIRECT = "${LibraryManifest.REDIRECT_SCHEME}:/oauth2redirect"
    }
}
