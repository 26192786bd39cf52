# shellcheck shell=bash
# Shared by the step scripts (sourced, not run): annotations and input checks.

# annotate LEVEL MESSAGE: one workflow command, the message escaped as the runner reads it.
annotate() {
  local message="${2//%/%25}"
  message="${message//$'\r'/%0D}"
  message="${message//$'\n'/%0A}"
  printf '::%s title=mlgates::%s\n' "$1" "$message"
}

# fail MESSAGE: an error annotation, then exit 2 (nothing judged).
fail() {
  annotate error "$1"
  exit 2
}

# one_line INPUT VALUE: refuse a value that holds a line break.
one_line() {
  case "$2" in
    *$'\n'* | *$'\r'*) fail "input $1: the value must be on one line" ;;
  esac
}
