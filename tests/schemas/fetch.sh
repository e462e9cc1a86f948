#!/usr/bin/env bash
# Puts the official JSON schemas the export tests validate against into the
# folder given (default: target/schemas), from the npm packages that ship
# them, pinned: the SARIF 2.1.0 schema (OASIS, as @microsoft/jest-sarif
# carries it) and the CycloneDX 1.6 schema with the two it refers to
# (@cyclonedx/cyclonedx-library). Point VULNTRACK_TEST_SCHEMA_DIR at the
# folder to run `exports::exported_sarif_and_cyclonedx_validate_…`.
set -euo pipefail
out="${1:-target/schemas}"
command -v npm >/dev/null || { echo "npm is needed to fetch the schemas" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm install --prefix "$work" --no-save --no-audit --no-fund --ignore-scripts \
  @microsoft/jest-sarif@1.0.0-beta.0 @cyclonedx/cyclonedx-library@10.3.0 >/dev/null
mkdir -p "$out"
cp "$work/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json" "$out/"
for schema in bom-1.6.SNAPSHOT.schema.json spdx.SNAPSHOT.schema.json jsf-0.82.SNAPSHOT.schema.json; do
  cp "$work/node_modules/@cyclonedx/cyclonedx-library/res/schema/$schema" "$out/"
done
echo "schemas in $out: $(ls "$out" | tr '\n' ' ')"
