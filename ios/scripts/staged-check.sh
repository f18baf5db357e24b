#!/usr/bin/env bash
# The Swift half of ios/scripts/check.sh, run inside the folder it stages (natively, or in the
# Debian 13 root of bindings/scripts/swift-root.sh). Builds the modules as the package does:
#   unboxFFI    the C module, laid out as in the XCFramework (Headers/unboxFFI/module.modulemap)
#   Unbox       the generated bindings (`import unboxFFI`)
#   UnboxShell  the shell (`import Unbox`), with strict concurrency checking, warnings as errors;
#               then typechecked again with the Apple-only files in, against AppleStubs/ (the
#               declarations of the Apple APIs it uses, transcribed from Apple's documentation)
# then links the checks (with the integration guide's example) against them and runs them, and
# has SwiftPM load Package.swift (targets, sources, the XCFramework stand-in) when it is there.
set -euo pipefail

ext=so
library_path=LD_LIBRARY_PATH
if [[ $(uname) == Darwin ]]; then ext=dylib; library_path=DYLD_LIBRARY_PATH; fi
lib_name=$(basename lib/*."$ext" ."$ext")
lib_name=${lib_name#lib}
mkdir -p out
common=(-module-cache-path "$PWD/mcache" -I "$PWD/ffi" -I "$PWD/out" -L "$PWD/out" -L "$PWD/lib")

started=$SECONDS
swiftc "${common[@]}" -parse-as-library -emit-library -emit-module -module-name Unbox \
    -emit-module-path out/Unbox.swiftmodule -l"$lib_name" Unbox/*.swift -o "out/libUnbox.$ext"
echo "swift: module Unbox (generated bindings) compiled in $((SECONDS - started)) s"

started=$SECONDS
swiftc "${common[@]}" -parse-as-library -emit-library -emit-module -module-name UnboxShell -enable-testing \
    -strict-concurrency=complete -warnings-as-errors \
    -emit-module-path out/UnboxShell.swiftmodule -lUnbox -l"$lib_name" UnboxShell/*.swift -o "out/libUnboxShell.$ext"
sources=(UnboxShell/*.swift)
echo "swift: module UnboxShell (${#sources[@]} files; without Apple SDKs their Apple-only parts drop out) compiled in $((SECONDS - started)) s"

# On Apple platforms the module above was built with the real frameworks already.
if [[ $(uname) != Darwin ]]; then
    started=$SECONDS
    mkdir -p out/apple
    for stub in AppleStubs/*.swift; do
        module=$(basename "$stub" .swift)
        swiftc "${common[@]}" -parse-as-library -emit-module -module-name "$module" \
            -emit-module-path "out/apple/$module.swiftmodule" "$stub"
    done
    swiftc "${common[@]}" -I "$PWD/out/apple" -parse-as-library -typecheck -module-name UnboxShell \
        -strict-concurrency=complete -warnings-as-errors UnboxShell/*.swift
    echo "swift: UnboxShell with its Apple-only parts typechecked against stand-ins of the Apple APIs in $((SECONDS - started)) s"
fi

started=$SECONDS
swiftc "${common[@]}" -parse-as-library -lUnbox -lUnboxShell -l"$lib_name" ShellChecks/*.swift -o out/shell-checks
echo "swift: checks and the guide's example compiled in $((SECONDS - started)) s"

if swift package --version >/dev/null 2>&1; then
    started=$SECONDS
    targets=$(cd package && swift package describe --type json | grep -c '"module_type"')
    echo "swift: SwiftPM loaded Package.swift ($targets targets) in $((SECONDS - started)) s"
else
    echo "swift: SwiftPM is not in this toolchain; Package.swift not loaded"
fi

started=$SECONDS
status=0
env "$library_path=$PWD/out:$PWD/lib" out/shell-checks || status=$?
echo "swift: checks ran in $((SECONDS - started)) s"
exit "$status"
