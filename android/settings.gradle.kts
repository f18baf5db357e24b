// The Unbox Android library. Build the native library and bindings first:
//     android/scripts/build-rust.sh
// then build with Gradle 8.9+ (Android Studio, or `gradle assembleRelease` in this folder).

pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "unbox-android"
