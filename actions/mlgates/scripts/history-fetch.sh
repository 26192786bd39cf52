#!/usr/bin/env bash
# Copy the validation history from its branch, so previous/best bounds see earlier runs.
set -euo pipefail
path="$MLGATES_OUT/history.jsonl"
"$MLGATES_BIN" github history-fetch "--repository=${GITHUB_WORKSPACE:-.}" \
  "--branch=$MLGATES_HISTORY_BRANCH" "--file=$MLGATES_HISTORY_FILE" "--output=$path"
echo "path=$path" >> "$GITHUB_OUTPUT"
