#!/usr/bin/env bash
# Check the inputs; decide which Python and which mlgates to use, where the run's
# files go, the history file on the branch, and whether to comment and record.
# Writes step outputs; installs nothing.
set -euo pipefail
# shellcheck source=lib.sh
. "$GITHUB_ACTION_PATH/scripts/lib.sh"

for input in version extras config working-directory history-file history; do
  variable="MLGATES_INPUT_${input//-/_}"
  one_line "$input" "${!variable:-}"
done

python="${MLGATES_PYTHON:-}"
if [ -z "$python" ]; then
  python="$(command -v python3 || command -v python || true)"
fi
[ -n "$python" ] || fail "no Python on PATH: set the input python-version, or set up Python in an earlier step"

extras="${MLGATES_INPUT_extras:-}"
case "$extras" in
  *[!A-Za-z0-9_,-]*) fail "input extras: '$extras' is not a comma-separated list of extras such as performance,gx" ;;
esac
bracket=""
[ -z "$extras" ] || bracket="[$extras]"

version="${MLGATES_INPUT_version:-action}"
case "$version" in
  preinstalled)
    spec=""
    bin="$(command -v mlgates || true)"
    [ -n "$bin" ] || fail "input version: preinstalled, but there is no mlgates on PATH; install it in an earlier step, or use version: action"
    ;;
  action)
    source_dir="$(cd "$GITHUB_ACTION_PATH/../.." && pwd)"
    [ -f "$source_dir/pyproject.toml" ] || fail "input version: action, but $source_dir holds no pyproject.toml"
    spec="$source_dir$bracket"
    ;;
  [0-9]*)
    spec="mlgates$bracket==$version"
    ;;
  -*)
    fail "input version: '$version' is neither action, preinstalled, a version number, a URL nor a path"
    ;;
  *://*)
    spec="mlgates$bracket @ $version"
    ;;
  *)
    [ -e "$version" ] || fail "input version: '$version' is neither action, preinstalled, a version number, a URL nor an existing path (relative to the repository root)"
    spec="$(cd "$(dirname "$version")" && pwd)/$(basename "$version")$bracket"
    ;;
esac

case "${MLGATES_INPUT_comment:-true}" in
  true | false) comment="${MLGATES_INPUT_comment:-true}" ;;
  *) fail "input comment: '${MLGATES_INPUT_comment}' is not true or false" ;;
esac

# Record the run in the history: pull requests (and merge queues) read it but do
# not add to it under "auto": their candidates are not merged yet.
case "${MLGATES_INPUT_record:-auto}" in
  true | false) record="$MLGATES_INPUT_record" ;;
  auto)
    case "${GITHUB_EVENT_NAME:-}" in
      pull_request | pull_request_target | merge_group) record=false ;;
      *) record=true ;;
    esac
    ;;
  *) fail "input record: '${MLGATES_INPUT_record}' is not auto, true or false" ;;
esac

out="$(mktemp -d "${RUNNER_TEMP:-/tmp}/mlgates-XXXXXX")"
venv="$out/venv"
if [ -n "$spec" ]; then
  if [ "${RUNNER_OS:-}" = "Windows" ]; then
    bin="$venv/Scripts/mlgates"
  else
    bin="$venv/bin/mlgates"
  fi
fi

# The history file inside the branch: the config's path in the repository, so that
# several configs of one repository keep separate histories.
history_file="${MLGATES_INPUT_history_file:-}"
if [ -z "$history_file" ]; then
  history_file="$("$python" - "${GITHUB_WORKSPACE:-$PWD}" "${MLGATES_INPUT_working_directory:-.}" "${MLGATES_INPUT_config:-mlgates.toml}" <<'PY'
import os, sys
workspace, workdir, config = sys.argv[1:4]
path = os.path.relpath(os.path.join(workspace, workdir, config), workspace).replace(os.sep, "/")
stem = path[: -len(".toml")] if path.endswith(".toml") else path
print(stem + ".history.jsonl" if not stem.startswith("..") else "mlgates.history.jsonl", end="")
PY
)"
fi

pip_cache="$("$python" -m pip cache dir 2>/dev/null | tr -d '\r' || true)"
[ -n "$pip_cache" ] || pip_cache="$HOME/.cache/pip"
python_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2], end="")')"
fingerprint="$spec"
if [ "$version" = "action" ]; then
  fingerprint="$fingerprint $(cksum < "$source_dir/pyproject.toml")"
fi
key="mlgates-pip-${RUNNER_OS:-unknown}-py$python_version-$(printf '%s' "$fingerprint" | cksum | cut -d' ' -f1)"

{
  printf 'python=%s\n' "$python"
  printf 'spec=%s\n' "$spec"
  printf 'bin=%s\n' "$bin"
  printf 'out=%s\n' "$out"
  printf 'venv=%s\n' "$venv"
  printf 'pip-cache=%s\n' "$pip_cache"
  printf 'cache-key=%s\n' "$key"
  printf 'history-file=%s\n' "$history_file"
  printf 'comment=%s\n' "$comment"
  printf 'record=%s\n' "$record"
} >> "$GITHUB_OUTPUT"
