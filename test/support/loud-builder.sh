#!/bin/sh
# Stand-in builder that prints a lot: LOUD_BYTES bytes (default 200000000) on stdout, in 100-byte lines, or as one
# line without a newline when LOUD_NO_NEWLINE=1; then a last line "loud-builder: done". Exits LOUD_EXIT (default 0).
# LOUD_PID_FILE: where to write its pid first.
set -eu
[ -n "${LOUD_PID_FILE:-}" ] && echo $$ > "$LOUD_PID_FILE"
bytes=${LOUD_BYTES:-200000000}
if [ "${LOUD_NO_NEWLINE:-}" = 1 ]; then
  head -c "$bytes" /dev/zero | tr '\0' x
  echo
else
  yes 'loud-builder: a line of build output, one hundred bytes long, again and again and again and again..' | head -c "$bytes"
fi
echo 'loud-builder: done'
exit "${LOUD_EXIT:-0}"
