package dev.unbox.android.auth

/** The Custom Tabs protocol as far as opening a sign-in page needs it (androidx.browser's names). */
object CustomTabsProtocol {
    /** The service a browser exports when it supports Custom Tabs. */
    const val ACTION_CUSTOM_TABS_CONNECTION = "android.support.customtabs.action.CustomTabsService"

    /** Present (even holding a null binder) on an ACTION_VIEW intent: "open this in a Custom Tab". */
    const val EXTRA_SESSION = "android.support.customtabs.extra.SESSION"

    /** Whether the tab shows the page title (1) or not (0). */
    const val EXTRA_TITLE_VISIBILITY = "android.support.customtabs.extra.TITLE_VISIBILITY"

    /** [EXTRA_TITLE_VISIBILITY] value: show the title. */
    const val SHOW_PAGE_TITLE = 1

    /** Whether the tab offers a share action. */
    const val EXTRA_SHARE_STATE = "androidx.browser.customtabs.extra.SHARE_STATE"

    /** [EXTRA_SHARE_STATE] value: no share action (a sign-in page is not for sharing). */
    const val SHARE_STATE_OFF = 2
}

/** A browser installed on the phone. */
data class BrowserCandidate(
    /** Its package. */
    val packageName: String,
    /** Whether it exports the Custom Tabs service. */
    val supportsCustomTabs: Boolean,
)

/** One extra of the intent that opens the browser. */
sealed interface LaunchExtra {
    /** The extra's key. */
    val name: String

    /** A binder extra holding null (the Custom Tabs session when the app has no service connection). */
    data class NullBinder(override val name: String) : LaunchExtra

    /** An integer extra. */
    data class IntValue(override val name: String, val value: Int) : LaunchExtra
}

/** How to open the sign-in page: which browser package, whether as a Custom Tab, with which extras. */
data class BrowserLaunch(
    /** The browser's package (the intent is addressed to it). */
    val packageName: String,
    /** Whether the page opens in a Custom Tab (false: the browser's own window). */
    val customTab: Boolean,
    /** The extras to put on the ACTION_VIEW intent. */
    val extras: List<LaunchExtra>,
) {
    /** Chooses the browser and the extras. */
    companion object {
        /**
         * Picks how to open the page among [browsers] (those handling https VIEW intents), given
         * the person's [defaultBrowser] package: their default when it supports Custom Tabs, else
         * another browser that does, else their default as a plain browser, else any browser.
         * Null when no browser is installed.
         */
        fun choose(browsers: List<BrowserCandidate>, defaultBrowser: String?): BrowserLaunch? {
            val default = browsers.firstOrNull { it.packageName == defaultBrowser }
            val chosen = default?.takeIf { it.supportsCustomTabs }
                ?: browsers.firstOrNull { it.supportsCustomTabs }
                ?: default
                ?: browsers.firstOrNull()
                ?: return null
            val extras = if (chosen.supportsCustomTabs) {
                listOf(
                    LaunchExtra.NullBinder(CustomTabsProtocol.EXTRA_SESSION),
                    LaunchExtra.IntValue(CustomTabsProtocol.EXTRA_TITLE_VISIBILITY, CustomTabsProtocol.SHOW_PAGE_TITLE),
                    LaunchExtra.IntValue(CustomTabsProtocol.EXTRA_SHARE_STATE, CustomTabsProtocol.SHARE_STATE_OFF),
                )
            } else {
                emptyList()
            }
            return BrowserLaunch(chosen.packageName, chosen.supportsCustomTabs, extras)
        }
    }
}
