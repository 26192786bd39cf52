#!/usr/bin/env bash
# Decide which Python and which mlgates to use, where the run's files go, and the
# history file on the branch. Writes step outputs; installs nothing.
set -euo pipefail

fail() { printf '::error title=mlgates::%s\n' "$1"; exit 2; }

python="${MLGATES_PYTHON:-}"
if [ -z "$python" ]; then
  python="$(command -v python3 || command -v python || true)"
fi
[ -n "$python" ] || fail "no Python on PATH: set the input python-version, or set up Python in an earlier step"

extras="${MLGATES_EXTRAS:-}"
case "$extras" in
  *[!A-Za-z0-9_,-]*) fail "extras: '$extras' is not a comma-separated list of extras such as performance,gx" ;;
esac
bracket=""
[ -z "$extras" ] || bracket="[$extras]"

version="${MLGATES_VERSION:-action}"
case "$version" in
  preinstalled)
    spec=""
    bin="$(command -v mlgates || true)"
    [ -n "$bin" ] || fail "version: preinstalled, but there is no mlgates on PATH; install it in an earlier step, or use version: action"
    ;;
  action)
    source_dir="$(cd "$GITHUB_ACTION_PATH/../.." && pwd)"
    [ -f "$source_dir/pyproject.toml" ] || fail "version: action, but $source_dir holds no pyproject.toml"
    spec="$source_dir$bracket"
    ;;
  [0-9]*)
    spec="mlgates$bracket==$version"
    ;;
  *://*)
    spec="mlgates$bracket @ $version"
    ;;
  *)
    [ -e "$version" ] || fail "version: '$version' is neither action, preinstalled, a version number, a URL nor an existing path"
    spec="$(cd "$(dirname "$version")" && pwd)/$(basename "$version")$bracket"
    ;;
esac

out="$(mktemp -d "${RUNNER_TEMP:-/tmp}/mlgates-XXXXXX")"
venv="$out/venv"
if [ -n "$spec" ]; then
  if [ -x "$venv/Scripts/python.exe" ] || [ "${RUNNER_OS:-}" = "Windows" ]; then
    bin="$venv/Scripts/mlgates"
  else
    bin="$venv/bin/mlgates"
  fi
fi

# The history file inside the branch: the config's path in the repository, so that
# several configs of one repository keep separate histories.
history_file="${MLGATES_HISTORY_FILE:-}"
if [ -z "$history_file" ]; then
  history_file="$("$python" - "${GITHUB_WORKSPACE:-$PWD}" "${MLGATES_WORKDIR:-.}" "${MLGATES_CONFIG:-mlgates.toml}" <<'PY'
import os, sys
workspace, workdir, config = sys.argv[1:4]
path = os.path.relpath(os.path.join(workspace, workdir, config), workspace).replace(os.sep, "/")
stem = path[: -len(".toml")] if path.endswith(".toml") else path
print(stem + ".history.jsonl" if not stem.startswith("..") else "mlgates.history.jsonl")
PY
)"
fi

pip_cache="$("$python" -m pip cache dir 2>/dev/null || true)"
[ -n "$pip_cache" ] || pip_cache="$HOME/.cache/pip"
python_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
fingerprint="$spec"
if [ "$version" = "action" ]; then
  fingerprint="$fingerprint $(cksum < "$source_dir/pyproject.toml")"
fi
key="mlgates-pip-${RUNNER_OS:-unknown}-py$python_version-$(printf '%s' "$fingerprint" | cksum | cut -d' ' -f1)"

{
  echo "python=$python"
  echo "spec=$spec"
  echo "bin=$bin"
  echo "out=$out"
  echo "venv=$venv"
  echo "pip-cache=$pip_cache"
  echo "cache-key=$key"
  echo "history-file=$history_file"
} >> "$GITHUB_OUTPUT"
