#!/usr/bin/env bash
# Append this run to the history branch, when prepare.sh decided to record it.
set -euo pipefail
if [ "${MLGATES_RECORD:-false}" != true ]; then
  echo "mlgates: the run is not added to the history (input record: ${MLGATES_INPUT_record:-auto}, event ${GITHUB_EVENT_NAME:-unknown})"
  exit 0
fi
case "${MLGATES_EXIT:-}" in
  0 | 1) ;;
  *) echo "mlgates: nothing judged, nothing to record"; exit 0 ;;
esac
"$MLGATES_BIN" github history-push "--repository=${GITHUB_WORKSPACE:-.}" \
  "--branch=$MLGATES_HISTORY_BRANCH" "--file=$MLGATES_HISTORY_FILE" \
  "--record=$MLGATES_OUT/result.json"
