#!/usr/bin/env bash
# Run the gates. Workflow commands are off while mlgates prints, so nothing in the
# data (a column named "::error::…") can act as a command. Never fails the step:
# the exit code goes to the outputs and the last step turns it into the verdict.
set -uo pipefail

args=(run --config "$MLGATES_CONFIG"
  --json "$MLGATES_OUT/result.json" --junitxml "$MLGATES_OUT/junit.xml"
  --summary "$MLGATES_OUT/summary.md" --report "$MLGATES_OUT/report.html")
[ -z "${MLGATES_PROFILE:-}" ] || args+=(--profile "$MLGATES_PROFILE")
[ -z "${MLGATES_HISTORY:-}" ] || args+=(--history "$MLGATES_HISTORY")
for stage in ${MLGATES_STAGES//,/ }; do
  args+=(--stage "$stage")
done
while IFS= read -r threshold; do
  [ -z "${threshold//[[:space:]]/}" ] || args+=(--threshold "$threshold")
done <<< "${MLGATES_THRESHOLDS:-}"

token="mlgates-$("$MLGATES_PYTHON" -c 'import secrets; print(secrets.token_hex(16))')"
echo "::stop-commands::$token"
"$MLGATES_BIN" "${args[@]}" 2> "$MLGATES_OUT/stderr.txt"
code=$?
cat "$MLGATES_OUT/stderr.txt" >&2
echo "::$token::"
echo "exit-code=$code" >> "$GITHUB_OUTPUT"
