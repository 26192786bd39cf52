#!/usr/bin/env bash
# Run the gates. Workflow commands are off while mlgates' output is printed, so
# nothing in the data (a column named "::error::…") can act as a command; its
# error output is printed after its standard output, on the same stream, before
# commands are switched back on. Never fails the step: the exit code goes to the
# outputs and the last step turns it into the verdict.
set -uo pipefail

args=(run "--config=$MLGATES_CONFIG"
  "--json=$MLGATES_OUT/result.json" "--junitxml=$MLGATES_OUT/junit.xml"
  "--summary=$MLGATES_OUT/summary.md" "--report=$MLGATES_OUT/report.html")
[ -z "${MLGATES_PROFILE:-}" ] || args+=("--profile=$MLGATES_PROFILE")
[ -z "${MLGATES_HISTORY:-}" ] || args+=("--history=$MLGATES_HISTORY")
[ "${MLGATES_RECORD:-true}" = true ] || args+=(--no-history)
IFS=$', \t\n' read -r -d '' -a stages <<< "${MLGATES_STAGES:-}" || true
for stage in "${stages[@]}"; do
  args+=("--stage=$stage")
done
while IFS= read -r threshold; do
  [ -z "${threshold//[[:space:]]/}" ] || args+=("--threshold=$threshold")
done <<< "${MLGATES_THRESHOLDS:-}"

token="mlgates-$("$MLGATES_PYTHON" -c 'import secrets; print(secrets.token_hex(16), end="")')"
echo "::stop-commands::$token"
"$MLGATES_BIN" "${args[@]}" 2> "$MLGATES_OUT/stderr.txt"
code=$?
cat "$MLGATES_OUT/stderr.txt"
echo "::$token::"
echo "exit-code=$code" >> "$GITHUB_OUTPUT"
