#!/usr/bin/env bash
# The Android shell's check on the JVM (here and in CI): compiles all of the shell's Kotlin (the
# platform-independent logic without any Android jar; the Android code and the integration sample
# against Robolectric's android-all API 34 jar; the generated bindings with both), runs the JUnit 5
# tests of the platform-independent logic against the real library and its in-process simulator,
# and checks that the integration guide quotes the sample as it compiles.
#
# Usage: android/scripts/check.sh [BINDINGS_KOTLIN_DIR] [LIBRARY_DIR]
#   BINDINGS_KOTLIN_DIR  generated Kotlin bindings (default: build/bindings/kotlin)
#   LIBRARY_DIR          folder of the sim-featured libunbox_ffi the bindings came from
#                        (default: the debug library of bindings/scripts/generate.sh --features sim)
# Both come from `bindings/scripts/generate.sh --features sim` (run by test-bindings.sh).
#
# A missing toolchain (mvn/java) is skipped with a loud message and exit 0, except under CI=true,
# where it fails the run (the rule of scripts/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

source scripts/lib.sh
fail() {
    echo "android check: $1" >&2
    exit 1
}

bindings=${1:-build/bindings/kotlin}
library_dir=${2:-$(target_dir "$PWD")/debug}
library_name=$(library_file_name)

echo "== android: integration guide quotes android/sample"
sample=android/sample/kotlin/dev/unbox/android/sample/OnboardingExample.kt
guide=docs/integration/android.md
# The guide's code block right after the line `<!-- sample: PATH -->` must equal PATH without its
# package and import lines.
quoted=$(awk -v marker="<!-- sample: $sample -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
' "$guide")
expected=$(grep -v -e '^package ' -e '^import ' "$sample" | sed '/./,$!d')
[[ -n $quoted ]] || fail "$guide has no code block after <!-- sample: $sample -->"
if [[ $quoted != "$expected" ]]; then
    diff <(echo "$expected") <(echo "$quoted") >&2 || true
    fail "$guide does not quote $sample as it is (diff above: < sample, > guide)"
fi

echo "== android: Kotlin shell on the JVM (compile against android-all, JUnit 5 against the simulator)"
if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    skip_loudly "Android shell check: mvn or java is missing (apt-get install maven openjdk-17-jdk-headless)"
    exit 0
fi
[[ -f $bindings/dev/unbox/unbox.kt ]] ||
    fail "no generated bindings in $bindings: run bindings/scripts/generate.sh --features sim"
[[ -f $library_dir/$library_name ]] ||
    fail "no $library_name in $library_dir: run bindings/scripts/generate.sh --features sim"
grep -q 'fun `startSimulator`' "$bindings/dev/unbox/unbox.kt" ||
    fail "the bindings in $bindings lack startSimulator: generate them with --features sim"

mvn -B -ntp -f android/jvm-check/pom.xml test \
    -Dunbox.bindings.dir="$(cd "$bindings" && pwd)" -Dunbox.library.dir="$(cd "$library_dir" && pwd)"
