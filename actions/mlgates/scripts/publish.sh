#!/usr/bin/env bash
# Step outputs, the job summary and annotations for the checks that did not pass.
set -euo pipefail
"$MLGATES_BIN" github publish "--exit-code=$MLGATES_EXIT" "--config=$MLGATES_CONFIG" \
  "--json=$MLGATES_OUT/result.json" "--stderr=$MLGATES_OUT/stderr.txt" \
  "--report=$MLGATES_OUT/report.html" "--junitxml=$MLGATES_OUT/junit.xml" \
  "--summary=$MLGATES_OUT/summary.md" "--artifact-url=${MLGATES_ARTIFACT_URL:-}"
