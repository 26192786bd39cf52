#!/usr/bin/env bash
# The step fails exactly when mlgates did not pass: 1 blocked, 2 nothing judged
# (usage, config or input error, or the action could not set up or read the
# history), 3 internal error.
set -uo pipefail
# shellcheck source=lib.sh
. "$GITHUB_ACTION_PATH/scripts/lib.sh"
case "${MLGATES_EXIT:-}" in
  0) echo "mlgates: passed"; exit 0 ;;
  1) echo "mlgates: blocked: the deployment must not proceed"; exit 1 ;;
  2 | 3) echo "mlgates: nothing judged (exit $MLGATES_EXIT): see the error above"; exit "$MLGATES_EXIT" ;;
  "")
    case " ${MLGATES_SETUP_OUTCOMES:-} " in
      *" failure "*)
        annotate error "nothing judged: the action could not set up mlgates or read the history (see the step that failed)"
        exit 2 ;;
    esac
    annotate error "mlgates did not run, for no reason the action knows: an internal error"
    exit 3 ;;
  *) echo "mlgates: stopped with exit code $MLGATES_EXIT before a verdict"; exit 3 ;;
esac
