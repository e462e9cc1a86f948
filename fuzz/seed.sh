#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the parser test fixtures, so each run
# starts from real reports instead of empty input. Safe to re-run: it adds
# (and refreshes) the seeds and keeps whatever the fuzzer found before.
set -euo pipefail

fuzz=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scans="$fuzz/../crates/vulntrack-scanners/tests/fixtures/scans"
corpus="$fuzz/corpus"
[[ -d $scans ]] || { echo "seed.sh: no fixtures at $scans" >&2; exit 1; }

# copy TARGET FILE...: each seed is named <format dir>-<file> (two formats
# have a no_vuln.json). The fixtures are read-only in the tree; the copies
# must not be, or a second run could not refresh them.
copy() {
    local target=$1 file
    shift
    mkdir -p "$corpus/$target"
    for file in "$@"; do
        install -m 0644 "$file" "$corpus/$target/$(seed_name "$file")"
    done
}
seed_name() { echo "$(basename "$(dirname "$1")")-$(basename "$1")"; }

# One target per format: fuzz_targets/npm_audit.rs reads scans/npm-audit/.
for source in "$fuzz"/fuzz_targets/*.rs; do
    target=$(basename "$source" .rs)
    case $target in detect | unpack | xml_check | cve_*) continue ;; esac
    dir="$scans/${target//_/-}"
    [[ -d $dir ]] || { echo "seed.sh: target $target has no fixtures at $dir" >&2; exit 1; }
    copy "$target" "$dir"/*
done

# And the other way round: a format with fixtures but no target is a gap.
for dir in "$scans"/*/; do
    target=$(basename "$dir")
    [[ -f $fuzz/fuzz_targets/${target//-/_}.rs ]] || { echo "seed.sh: no fuzz target for $dir" >&2; exit 1; }
done

# The CVE feed readers start from the catalogue's test fixtures.
feeds="$fuzz/../crates/vulntrack/tests/fixtures/cve"
[[ -d $feeds ]] || { echo "seed.sh: no feed fixtures at $feeds" >&2; exit 1; }
copy cve_nvd "$feeds"/nvd-*.json
copy cve_kev "$feeds"/kev*.json
copy cve_epss "$feeds"/epss*.csv

# Every fixture for format=auto; the XML ones for the XML check.
copy detect "$scans"/*/*
copy xml_check "$scans"/*/*.xml

# unpack: every fixture as is, and gzipped and zipped so the fuzzer starts
# inside both archive readers.
copy unpack "$scans"/*/*
for file in "$scans"/*/*; do
    gzip -n -c "$file" >"$corpus/unpack/$(seed_name "$file").gz"
done
if command -v zip >/dev/null; then
    for file in "$scans"/sarif/*.sarif "$scans"/nessus/*.xml "$scans"/qualys/*.csv; do
        name="$(seed_name "$file").zip"
        rm -f "$corpus/unpack/$name"
        zip -q -j -X "$corpus/unpack/$name" "$file"
    done
else
    echo "seed.sh: note: no zip command, so no .zip seeds for unpack (the .gz ones are there)" >&2
fi

for dir in "$corpus"/*/; do
    printf '%-20s %4d seeds\n' "$(basename "$dir")" "$(find "$dir" -type f | wc -l)"
done
