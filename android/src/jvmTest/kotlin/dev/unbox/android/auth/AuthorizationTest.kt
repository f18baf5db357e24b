package dev.unbox.android.auth

import dev.unbox.AgentException
import dev.unbox.AuthException
import dev.unbox.android.support.BrokeredBrowser
import dev.unbox.android.support.SimulatorWorld
import dev.unbox.discoverAuthSession
import dev.unbox.memorySecretStore
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Redirect matching, browser choice, the agent/activity hand-over, and sign-ins through it. */
class AuthorizationTest {
    @Test
    fun `a redirect matches on scheme, authority and path, whatever its query`() {
        val expected = "com.example.app:/oauth2redirect"
        assertTrue(RedirectMatch.matches(expected, "com.example.app:/oauth2redirect?code=abc&state=x"))
        assertTrue(RedirectMatch.matches(expected, "COM.Example.App:/oauth2redirect#frag"))
        assertFalse(RedirectMatch.matches(expected, "com.example.app:/oauth2redirect/extra?code=abc"))
        assertFalse(RedirectMatch.matches(expected, "com.example.other:/oauth2redirect?code=abc"))
        assertFalse(RedirectMatch.matches(expected, "com.example.app:oauth2redirect"))
        assertFalse(RedirectMatch.matches(expected, "not a uri at all"))
        assertTrue(RedirectMatch.matches("myapp://callback", "myapp://CALLBACK/?code=1"))
        assertFalse(RedirectMatch.matches("http://127.0.0.1:49152/callback", "http://127.0.0.1:49153/callback?code=1"))
        assertEquals("com.example.app", RedirectMatch.scheme("Com.Example.App:/oauth2redirect"))
        assertNull(RedirectMatch.scheme("/relative"))
        assertEquals("com.example.app:/cb", RedirectMatch.withoutQuery("com.example.app:/cb?code=secret#x"))
    }

    @Test
    fun `the person's browser is used as a Custom Tab when it can be`() {
        val chrome = BrowserCandidate("com.android.chrome", supportsCustomTabs = true)
        val firefox = BrowserCandidate("org.mozilla.firefox", supportsCustomTabs = true)
        val plain = BrowserCandidate("com.example.plainbrowser", supportsCustomTabs = false)

        assertEquals("org.mozilla.firefox", BrowserLaunch.choose(listOf(chrome, firefox, plain), "org.mozilla.firefox")?.packageName)
        val fallback = BrowserLaunch.choose(listOf(plain, chrome), "com.example.plainbrowser")!!
        assertEquals("com.android.chrome", fallback.packageName)
        assertTrue(fallback.customTab)
        assertEquals(
            listOf(
                LaunchExtra.NullBinder(CustomTabsProtocol.EXTRA_SESSION),
                LaunchExtra.IntValue(CustomTabsProtocol.EXTRA_TITLE_VISIBILITY, CustomTabsProtocol.SHOW_PAGE_TITLE),
                LaunchExtra.IntValue(CustomTabsProtocol.EXTRA_SHARE_STATE, CustomTabsProtocol.SHARE_STATE_OFF),
            ),
            fallback.extras,
        )
        // No default (Android's chooser resolves) and no Custom Tabs anywhere: any browser, plainly.
        val plainOnly = BrowserLaunch.choose(listOf(plain), "android")!!
        assertEquals(BrowserLaunch("com.example.plainbrowser", customTab = false, extras = emptyList()), plainOnly)
        assertNull(BrowserLaunch.choose(emptyList(), null))
    }

    @Test
    fun `the activity opens the browser once, then delivers the redirect or cancels`() {
        assertEquals(ResumeAction.LaunchBrowser, ResumeAction.decide(browserLaunched = false, redirect = null))
        assertEquals(ResumeAction.Cancel, ResumeAction.decide(browserLaunched = true, redirect = null))
        assertEquals(ResumeAction.Deliver("a:/b?code=1"), ResumeAction.decide(browserLaunched = true, redirect = "a:/b?code=1"))
        // Recreated by the redirect after the system destroyed it in the background.
        assertEquals(ResumeAction.Deliver("a:/b?code=1"), ResumeAction.decide(browserLaunched = false, redirect = "a:/b?code=1"))
    }

    @Test
    fun `the broker completes the waiting sign-in with its redirect only`(): Unit = runBlocking {
        val broker = AuthorizationBroker()
        assertEquals(Delivery.NOBODY_WAITING, broker.deliver("com.example.app:/oauth2redirect?code=1"))

        val first = broker.begin("com.example.app:/oauth2redirect", "https://idp/authorize?state=r")
        val second = broker.begin("com.example.app:/oauth2redirect", "https://idp/authorize?state=s")
        assertInstanceOf(AgentException.Cancelled::class.java, runCatching { first.await() }.exceptionOrNull())
        assertTrue(broker.isWaiting())
        // The abandoned sign-in's late redirect, and one forged by another app, are ignored.
        assertFalse(broker.wouldDeliver("com.example.app:/oauth2redirect?code=1&state=r"))
        assertTrue(broker.wouldDeliver("com.example.app:/oauth2redirect?code=2&state=s"))
        assertEquals(Delivery.IGNORED, broker.deliver("com.example.app:/oauth2redirect?code=1&state=r"))
        assertEquals(Delivery.IGNORED, broker.deliver("com.example.app:/oauth2redirect?error=access_denied&state=guess"))
        assertTrue(broker.isWaiting())
        assertEquals(Delivery.COMPLETED, broker.deliver("com.example.app:/oauth2redirect?code=2&state=s"))
        assertEquals("com.example.app:/oauth2redirect?code=2&state=s", second.await())
        assertFalse(broker.isWaiting())

        val mismatched = broker.begin("com.example.app:/oauth2redirect", "https://idp/authorize?state=t")
        assertEquals(Delivery.MISMATCHED, broker.deliver("com.example.app:/elsewhere?code=secret"))
        val failure = assertInstanceOf(AgentException.Failed::class.java, runCatching { mismatched.await() }.exceptionOrNull())
        assertFalse(failure.reason.contains("secret"), failure.reason)

        val abandoned = broker.begin("com.example.app:/oauth2redirect", "https://idp/authorize?state=u")
        broker.abandon(abandoned)
        assertFalse(broker.isWaiting())
        broker.fail(AgentException.Cancelled())
    }

    @Test
    fun `the person closing the browser fails the waiting sign-in`(): Unit = runBlocking(Dispatchers.Default) {
        val broker = AuthorizationBroker()
        val pending = broker.begin("com.example.app:/oauth2redirect", "https://idp/authorize?state=v")
        val waiting = async { runCatching { pending.await() } }
        yield()
        broker.fail(AgentException.Cancelled())
        assertInstanceOf(AgentException.Cancelled::class.java, waiting.await().exceptionOrNull())
    }

    @Test
    fun `the library signs in through the broker's hand-over`(): Unit = runBlocking {
        val broker = AuthorizationBroker()
        val session = discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(broker), memorySecretStore())
        assertEquals("user-alice", session.signIn()?.subject)
        assertFalse(broker.isWaiting())
    }

    @Test
    fun `coming back without the redirect cancels the library's sign-in`(): Unit = runBlocking {
        val broker = AuthorizationBroker()
        val session = discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(broker, personClosesBrowser = true), memorySecretStore())
        assertThrows(AuthException.Cancelled::class.java) { runBlocking { session.signIn() } }
        assertFalse(session.isSignedIn())
    }
}
