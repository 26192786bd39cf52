#!/usr/bin/env bash
# The step fails exactly when mlgates did not pass: 1 blocked, 2 nothing judged
# (usage, config or input error), 3 internal error.
set -uo pipefail
case "${MLGATES_EXIT:-}" in
  0) echo "mlgates: passed"; exit 0 ;;
  1) echo "mlgates: blocked: the deployment must not proceed"; exit 1 ;;
  2|3) echo "mlgates: nothing judged (exit $MLGATES_EXIT): see the error above"; exit "$MLGATES_EXIT" ;;
  "") printf '::error title=mlgates::mlgates did not run: an earlier step of the action failed\n'; exit 3 ;;
  *) echo "mlgates: stopped with exit code $MLGATES_EXIT before a verdict"; exit 3 ;;
esac
