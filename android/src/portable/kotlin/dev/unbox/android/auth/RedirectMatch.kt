package dev.unbox.android.auth

import java.net.URI
import java.net.URISyntaxException

/** Whether a URI the browser handed back is the redirect the sign-in is waiting for. */
object RedirectMatch {
    /**
     * True when [received] has the scheme, authority and path of [expected] (scheme and host
     * compared ignoring case, as RFC 3986 says); its query and fragment carry the response.
     * Anything that does not parse is no match.
     */
    fun matches(expected: String, received: String): Boolean {
        val want = parse(expected) ?: return false
        val got = parse(received) ?: return false
        return want.scheme.equals(got.scheme, ignoreCase = true) &&
            (want.rawAuthority ?: "").equals(got.rawAuthority ?: "", ignoreCase = true) &&
            normalisedPath(want) == normalisedPath(got)
    }

    /** The scheme of [redirectUri] in lower case (what the manifest placeholder must name), or null. */
    fun scheme(redirectUri: String): String? = parse(redirectUri)?.scheme?.lowercase()

    /** The part of [uri] before its query, safe to show in an error (the query carries the code). */
    fun withoutQuery(uri: String): String = uri.substringBefore('?').substringBefore('#')

    private fun parse(text: String): URI? =
        try {
            URI(text).takeIf { it.scheme != null && !it.isOpaque }
        } catch (invalid: URISyntaxException) {
            null
        }

    private fun normalisedPath(uri: URI): String = uri.rawPath?.ifEmpty { "/" } ?: "/"
}
