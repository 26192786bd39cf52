#!/usr/bin/env bash
# Create or update the one sticky comment of this config on the pull request.
set -euo pipefail
"$MLGATES_BIN" github comment "--exit-code=$MLGATES_EXIT" "--key=$MLGATES_HISTORY_FILE" \
  "--json=$MLGATES_OUT/result.json" "--stderr=$MLGATES_OUT/stderr.txt" \
  "--artifact-url=${MLGATES_ARTIFACT_URL:-}"
