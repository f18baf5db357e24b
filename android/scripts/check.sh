#!/usr/bin/env bash
# The Android shell's check on the JVM (here and in CI): compiles all of the shell's Kotlin (the
# platform-independent logic without any Android jar; the Android code and the integration sample
# against Robolectric's android-all API 34 jar; the generated bindings with both), checks the
# Android code against the minSdk API (animal-sniffer), runs the JUnit 5 tests of the
# platform-independent logic against the real library and its in-process simulator, runs the
# Android code under Robolectric at API 24, 28, 29, 33 and 35 (JUnit 4; the instrumented
# android-all jars, about 670 MB, download into ~/.m2 on first use), shrinks an app built with the
# shell through ProGuard with the library's consumer rules and runs the shrunk app's onboarding
# against the simulator, and checks that the integration guide quotes the sample as it compiles.
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

echo "== android: Kotlin shell on the JVM (compile, animal-sniffer at API 24, JUnit 5, Robolectric at API 24-35)"
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

library_dir=$(cd "$library_dir" && pwd)
# `clean` first: the bindings are generated afresh, and classes of types that moved or went
# (another package, another crate) would otherwise linger in target/ and clash with the new ones.
mvn -B -ntp -f android/jvm-check/pom.xml clean verify \
    -Dunbox.bindings.dir="$(cd "$bindings" && pwd)" -Dunbox.library.dir="$library_dir"

echo "== android: Robolectric tests per API level"
reports=android/jvm-check/robolectric/target/surefire-reports
for level in 24 28 29 33 35; do
    count=$(cat "$reports"/TEST-*.xml | grep -o '<testcase name="[^"]*\['"$level"'\]"' | wc -l)
    ((count > 0)) || fail "no Robolectric test ran at API $level"
    echo "API $level: $count tests"
done

echo "== android: ProGuard shrinks an app with the shell and the consumer rules; the shrunk app onboards"
shrink=$PWD/android/jvm-check/shrink/target
config=$shrink/proguard-jars.pro
{
    # Other platforms' JNA dispatch libraries, and the multi-release and module descriptors, stay out.
    for jar in "$shrink/unbox-android-shrink-0.1.0.jar" $(tr ':' ' ' <"$shrink/app.classpath"); do
        echo "-injars $jar(com/sun/jna/linux-x86-64/**,!com/sun/jna/*-*/**,!META-INF/versions/**,!**module-info.class)"
    done
    echo "-outjars $shrink/shrunk.jar"
    echo "-libraryjars $(cat "$shrink/android.classpath")"
    for module in java.base java.logging java.net.http; do
        echo "-libraryjars $(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/jmods/$module.jmod(!**.jar;!module-info.class)"
    done
} >"$config"
rm -f "$shrink/shrunk.jar"
java -cp "$(cat "$shrink/proguard.classpath")" proguard.ProGuard \
    -include "$config" -include android/jvm-check/shrink/proguard.pro -printusage "$shrink/removed.txt" >"$shrink/proguard.log" 2>&1 ||
    { cat "$shrink/proguard.log" >&2; fail "ProGuard failed (log above)"; }
input=0
for jar in $(grep -o '^-injars [^(]*' "$config" | cut -d' ' -f2); do input=$((input + $(stat -c %s "$jar"))); done
kept=$(stat -c %s "$shrink/shrunk.jar")
classes=$(jar tf "$shrink/shrunk.jar" | grep -c '\.class$')
echo "ProGuard kept $kept bytes ($classes classes) of $input bytes of input jars"
jar tf "$shrink/shrunk.jar" | grep '\.class$' | awk -F/ 'NF > 1 { NF--; print }' OFS=/ | sort | uniq -c | sort -rn | head -8
java -Djna.library.path="$library_dir" -cp "$shrink/shrunk.jar" dev.unbox.android.shrink.ShrunkOnboardingKt ||
    fail "the shrunk app's onboarding failed: ProGuard removed or renamed what the library needs (consumer-rules.pro)"
