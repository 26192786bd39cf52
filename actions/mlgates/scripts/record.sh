#!/usr/bin/env bash
# Append this run to the history branch: on every event but pull requests when
# record is "auto" (their candidates are not merged yet), always when "true".
set -euo pipefail
case "${MLGATES_RECORD:-auto}" in
  true) ;;
  false) echo "mlgates: record: false: the run is not added to the history"; exit 0 ;;
  auto)
    case "${GITHUB_EVENT_NAME:-}" in
      pull_request|pull_request_target|merge_group)
        echo "mlgates: a ${GITHUB_EVENT_NAME} run is not added to the history (record: auto)"
        exit 0 ;;
    esac ;;
  *) printf '::error title=mlgates::record: %s is not auto, true or false\n' "$MLGATES_RECORD"; exit 2 ;;
esac
case "${MLGATES_EXIT:-}" in
  0|1) ;;
  *) echo "mlgates: nothing judged, nothing to record"; exit 0 ;;
esac
"$MLGATES_BIN" github history-push --repository "${GITHUB_WORKSPACE:-.}" \
  --branch "$MLGATES_HISTORY_BRANCH" --file "$MLGATES_HISTORY_FILE" \
  --record "$MLGATES_OUT/result.json"
