package dev.unbox.android.support

import dev.unbox.AgentException
import dev.unbox.AuthorizationAgent
import dev.unbox.android.auth.AuthorizationBroker
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.coroutineScope

/**
 * The Custom Tabs agent's hand-over without Android: [authorize] registers with the
 * [broker] exactly as the agent does, and a "browser" (real HTTP to the auto-consenting simulated
 * provider, redirects not followed) hands the redirect back through [AuthorizationBroker.deliver]
 * as the redirect activity does. [personClosesBrowser] makes the person come back without it.
 */
class BrokeredBrowser(
    private val broker: AuthorizationBroker,
    private val personClosesBrowser: Boolean = false,
) : AuthorizationAgent {
    private val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()

    override suspend fun authorize(url: String, redirectUri: String): String = coroutineScope {
        val pending = broker.begin(redirectUri, url)
        launch(Dispatchers.IO) {
            if (personClosesBrowser) {
                broker.fail(AgentException.Cancelled())
            } else {
                val response = http.send(HttpRequest.newBuilder(URI(url)).GET().build(), HttpResponse.BodyHandlers.discarding())
                broker.deliver(response.headers().firstValue("location").orElse("missing:/location"))
            }
        }
        try {
            pending.await()
        } finally {
            broker.abandon(pending)
        }
    }
}
