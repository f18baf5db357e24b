#!/usr/bin/env bash
# Generates the bindings (library built with the `sim` test-support feature) and runs the Kotlin
# tests on the JVM and the Swift tests (natively, or in a Debian 13 root on Debian 12).
#
# A missing toolchain (mvn/java; swiftc or root+debootstrap+network for the Swift root) is
# skipped with a loud message and exit 0 — except under CI=true, where it fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

source scripts/lib.sh

echo "== bindings: generate (unbox-ffi with feature sim)"
library=$(bindings/scripts/generate.sh --features sim | tail -1)

echo "== bindings: Kotlin on the JVM"
if command -v mvn >/dev/null && command -v java >/dev/null; then
    # `clean` first: classes of generated types that moved or went would linger in target/.
    mvn -B -ntp -f bindings/kotlin-tests/pom.xml clean test \
        -Dunbox.library.dir="$(dirname "$library")" -Dunbox.bindings.dir="$PWD/build/bindings/kotlin"
else
    skip_loudly "Kotlin binding tests: mvn or java is missing (apt-get install maven openjdk-17-jdk-headless)"
fi

echo "== bindings: Swift"
status=0
bindings/scripts/swift-root.sh build/bindings/swift "$library" bindings/swift-tests || status=$?
case $status in
    0) ;;
    3) skip_loudly "Swift binding tests: no swiftc and no Debian 13 root could be made (needs root, debootstrap, the Debian mirror)" ;;
    *) exit "$status" ;;
esac

if ((skipped_toolchains)); then
    echo "bindings: $skipped_toolchains toolchain(s) missing, see the SKIPPED messages above" >&2
fi
