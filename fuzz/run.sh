#!/usr/bin/env bash
# Builds every fuzz target and runs each one briefly from the seeded corpora;
# exits non-zero if a target fails to build, crashes, hangs or runs out of
# memory. CI calls it from the repository root as `fuzz/run.sh`.
#
#   FUZZ_SECONDS=10   how long each target runs
#   FUZZ_JOBS=nproc   how many targets run at once (each is one process)
#   FUZZ_TARGET_DIR   where cargo builds (default fuzz/target)
#
# The build is a --dev build (opt-level 1, debug assertions and overflow
# checks on; see [profile.dev] in Cargo.toml) without AddressSanitizer: the
# parsers forbid unsafe code, so what a short run finds is a panic, and it
# finds about four times as many inputs per second without ASan. For a long
# run by hand, `cargo +nightly fuzz run <target>` (release, with ASan).
set -euo pipefail

fuzz=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$fuzz"
seconds=${FUZZ_SECONDS:-10}
parallel=${FUZZ_JOBS:-$(nproc)}
target_dir=${FUZZ_TARGET_DIR:-$fuzz/target}
cargo_fuzz_version=0.13.2
build=(--dev --sanitizer none --target-dir "$target_dir")
started=$SECONDS

fail() {
    echo "fuzz/run.sh: FAILED: $*" >&2
    exit 1
}
phase() { printf '\n== %s (%ds so far)\n' "$*" $((SECONDS - started)); }

phase "tools"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "no nightly toolchain (libFuzzer's instrumentation needs it): installing"
    rustup toolchain install nightly --profile minimal
fi
rustup run nightly rustc --version
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: installing $cargo_fuzz_version"
    cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi
cargo fuzz --version

phase "seed corpora"
./seed.sh

phase "build"
# `cargo fuzz build` takes no --locked: fetching with it first fails on a
# Cargo.lock that would have to change, and the build then uses it as is.
cargo +nightly fetch --locked
cargo +nightly fuzz build "${build[@]}"
mapfile -t targets < <(cargo +nightly fuzz list)
sources=(fuzz_targets/*.rs)
((${#targets[@]} == ${#sources[@]})) ||
    fail "cargo fuzz list names ${#targets[@]} targets but fuzz_targets/ holds ${#sources[@]} files"
bin_dir="$target_dir/x86_64-unknown-linux-gnu/debug"
for target in "${targets[@]}"; do
    [[ -x $bin_dir/$target ]] || fail "no binary for $target at $bin_dir/$target"
done

phase "run ${#targets[@]} targets, ${seconds}s each, $parallel at a time"
rm -rf logs
mkdir -p logs
run() {
    local target=$1 status=0
    mkdir -p "artifacts/$target"
    RUST_BACKTRACE=1 "$bin_dir/$target" "corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 \
        >"logs/$target.log" 2>&1 || status=$?
    echo "$status" >"logs/$target.status"
}
for target in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
    run "$target" &
done
wait

failed=()
printf '\n%-20s %10s %8s  %s\n' target executions coverage result
for target in "${targets[@]}"; do
    log="logs/$target.log"
    status=$(cat "logs/$target.status" 2>/dev/null || echo "no status")
    # A crashed run has no final stats, and may have no coverage line.
    execs=$(awk '/stat::number_of_executed_units:/ { n = $2 } END { print n }' "$log" 2>/dev/null || true)
    cov=$(awk 'match($0, / cov: [0-9]+/) { c = substr($0, RSTART + 6, RLENGTH - 6) } END { print c }' "$log" 2>/dev/null || true)
    if [[ $status == 0 && -n $execs ]]; then
        result=ok
    else
        result="FAILED (exit $status)"
        failed+=("$target")
    fi
    printf '%-20s %10s %8s  %s\n' "$target" "${execs:-?}" "${cov:-?}" "$result"
done

for target in "${failed[@]}"; do
    printf '\n== %s: last lines of fuzz/logs/%s.log\n' "$target" "$target"
    tail -n 60 "logs/$target.log"
    for input in "artifacts/$target"/*; do
        [[ -e $input ]] || continue
        echo "reproduce: $bin_dir/$target $fuzz/$input"
        echo "       or: cargo +nightly fuzz run --fuzz-dir fuzz --dev --sanitizer none $target fuzz/$input"
    done
done
phase "done"
((${#failed[@]} == 0)) || fail "${#failed[@]} of ${#targets[@]} targets: ${failed[*]}"
echo "all ${#targets[@]} targets ran ${seconds}s each without a crash"
