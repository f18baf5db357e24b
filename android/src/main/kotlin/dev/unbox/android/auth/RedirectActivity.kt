package dev.unbox.android.auth

import android.app.Activity
import android.content.Intent
import android.os.Bundle

/**
 * Receives the provider's redirect (`<unboxRedirectScheme>:/...`, declared in the library's
 * manifest with the app's placeholder) and hands it to [AuthorizationActivity], bringing that back
 * to the front so the Custom Tab above it closes. The activity is exported, so any app can open
 * it: a redirect that does not answer the sign-in in progress is dropped here, and the person's
 * sign-in page stays open.
 */
class RedirectActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val redirect = intent.data?.toString()
        if (redirect != null && Authorizations.broker.wouldDeliver(redirect)) {
            startActivity(
                Intent(this, AuthorizationActivity::class.java)
                    .putExtra(AuthorizationActivity.EXTRA_REDIRECT, redirect)
                    .addFlags(Intent.FLAG_ACTIVITY_CLEAR_TOP or Intent.FLAG_ACTIVITY_SINGLE_TOP),
            )
        }
        finish()
    }
}
