#!/bin/sh
# Stand-in for buildah whose build leaves processes in sessions of their own, as a daemonising tool does: one started
# with setsid, one double-forked (its parent is gone before anyone sees it). Every other command exits 0.
# Env: SETSID_BUILDER_TAG (in the argument of each sleep, to find them), SETSID_BUILDER_DIR (gets the file "builder",
# its pid, and "setsid" and "double-fork" once each sleep is in its own session), SETSID_BUILDER_IGNORE_TERM=1 (the
# build ignores SIGTERM, so only SIGKILL ends it).
set -eu
[ "${SETSID_BUILDER_IGNORE_TERM:-}" = 1 ] && trap '' TERM
case " $* " in *" build "* | *" bud "*) ;; *) exit 0 ;; esac
tag=$SETSID_BUILDER_TAG
dir=$SETSID_BUILDER_DIR
echo $$ > "$dir/builder"
setsid sh -c "touch '$dir/setsid'; exec sleep 4242.$tag" &
( setsid sh -c "sleep 4243.$tag & touch '$dir/double-fork'" & )
echo "setsid-builder: started"
sleep 600
