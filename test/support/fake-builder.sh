#!/bin/sh
# Stand-in for /kaniko/executor, buildctl-daemonless.sh and buildah (sh, so it starts in milliseconds): records its
# argv byte for byte, prints lines, writes the digest or metadata file its argv asks for, exits as told.
# Env: FAKE_BUILDER_RECORD_DIR (one <time>-<pid>-<helper pid>.args file per call, NUL-separated argv),
# FAKE_BUILDER_SLEEP_MS (with FAKE_BUILDER_SLEEP_ON: only when an argument is exactly that), FAKE_BUILDER_EXIT (default 0), FAKE_BUILDER_FAIL_ON (exit 1 when an argument contains it),
# FAKE_BUILDER_HELPER=1 (start a grandchild, as buildctl-daemonless.sh starts buildkitd),
# FAKE_BUILDER_IGNORE_TERM=1 (ignore SIGTERM, so only SIGKILL stops it).
set -eu

[ "${FAKE_BUILDER_IGNORE_TERM:-}" = 1 ] && trap '' TERM
helper=0
if [ "${FAKE_BUILDER_HELPER:-}" = 1 ]; then
  sleep 100000 &
  helper=$!
fi
if [ -n "${FAKE_BUILDER_RECORD_DIR:-}" ]; then
  mkdir -p "$FAKE_BUILDER_RECORD_DIR"
  record="$FAKE_BUILDER_RECORD_DIR/$(date +%s%N)-$$-$helper.args"
  printf '%s\0' "$@" > "$record.tmp"
  mv "$record.tmp" "$record"
fi
digest="sha256:$(printf '%s\0' "$@" | sha256sum | cut -d ' ' -f 1)"

echo "fake-builder: started with $# arguments"
echo "fake-builder: a line on stderr" >&2
ms=${FAKE_BUILDER_SLEEP_MS:-0}
if [ -n "${FAKE_BUILDER_SLEEP_ON:-}" ]; then
  sleep_here=0
  for arg in "$@"; do [ "$arg" = "$FAKE_BUILDER_SLEEP_ON" ] && sleep_here=1; done
  [ "$sleep_here" = 1 ] || ms=0
fi
[ "$ms" -gt 0 ] && sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"

code=${FAKE_BUILDER_EXIT:-0}
previous=
for arg in "$@"; do
  case "$arg" in *"${FAKE_BUILDER_FAIL_ON:-}"*) [ -n "${FAKE_BUILDER_FAIL_ON:-}" ] && code=1 ;; esac
done
if [ "$code" = 0 ]; then
  for arg in "$@"; do
    case "$arg" in --digest-file=*) printf '%s' "$digest" > "${arg#--digest-file=}" ;; esac
    case "$previous" in
      --digestfile) printf '%s' "$digest" > "$arg" ;;
      --metadata-file) printf '{"containerimage.digest":"%s"}' "$digest" > "$arg" ;;
    esac
    previous=$arg
  done
  echo "fake-builder: pushed $digest"
else
  echo "fake-builder: failing with exit code $code" >&2
fi
[ "$helper" != 0 ] && kill -KILL "$helper"
exit "$code"
