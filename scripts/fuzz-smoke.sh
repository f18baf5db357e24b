#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/, cargo-fuzz and libFuzzer; debug assertions and overflow checks
# on) and runs each from its checked-in seed corpus for UNBOX_FUZZ_SECONDS seconds (default 5: CI's
# budget, see fuzz/README.md),
# printing each target's executions and coverage (libFuzzer's cov: edges, ft: features). A crash,
# a hang past 10 s or more than 2 GB of memory fails the run, with the input left under
# fuzz/artifacts/<target>/. Targets to run may be named as arguments (default: all); as many run
# at once as there are cores (UNBOX_FUZZ_JOBS).
# Longer runs: fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${UNBOX_FUZZ_SECONDS:-5}
# One fixed mutation seed, so that CI walks the same inputs on every run (a finding reproduces);
# the longer runs of fuzz/README.md draw their own.
seed=${UNBOX_FUZZ_SEED:-1}
# cargo-fuzz passes nightly-only flags; stable accepts them with RUSTC_BOOTSTRAP where no
# nightly toolchain is installed.
export RUSTC_BOOTSTRAP=1 CARGO_INCREMENTAL=0
build_flags=(--sanitizer none --debug-assertions --codegen-units 16)
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2; exit 1; }

cd fuzz
cargo fmt --check
started=$SECONDS
cargo fuzz build "${build_flags[@]}"
echo "fuzz: built in $((SECONDS - started)) s"
targets=("$@")
if ((${#targets[@]} == 0)); then mapfile -t targets < <(cargo fuzz list); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# `run_target TARGET`: one libFuzzer run (single-threaded), its log in $work/TARGET.log and its
# exit status in $work/TARGET.status.
run_target() {
    local target=$1 status=0
    # libFuzzer writes new inputs into the first corpus folder: a scratch copy, not the seeds.
    mkdir -p "$work/$target" "artifacts/$target"
    cargo fuzz run "${build_flags[@]}" "$target" "$work/$target" "corpus/$target" -- \
        -seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$work/$target.log" 2>&1 || status=$?
    echo "$status" >"$work/$target.status"
}
# One target per core at a time (UNBOX_FUZZ_JOBS), each for its full time on a core of its own.
parallel=${UNBOX_FUZZ_JOBS:-$(nproc)}
for target in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= parallel)); do wait -n; done
    run_target "$target" &
done
wait
summary=()
for target in "${targets[@]}"; do
    log=$work/$target.log
    status=$(cat "$work/$target.status")
    if ((status != 0)); then
        grep -m1 -A20 'panicked at' "$log" >&2 || tail -60 "$log" >&2
        echo "fuzz: $target failed (exit $status); the input is under fuzz/artifacts/$target/" >&2
        exit 1
    fi
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | awk '{print $2}')
    ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | awk '{print $2}')
    line=$(printf '%-16s %10s executions  cov %6s  ft %6s  (%s s)' "$target" "$runs" "$cov" "$ft" "$seconds")
    echo "fuzz: $line"
    summary+=("$line")
done
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
