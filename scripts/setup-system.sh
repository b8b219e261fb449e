#!/usr/bin/env bash
# Installs the Debian packages the product and its tests run for real: buildah and a registry.
set -euo pipefail
need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v git >/dev/null 2>&1 || need+=(git)
command -v getfattr >/dev/null 2>&1 || need+=(attr)
# setcap, for the tests of file capabilities in the build context.
command -v setcap >/dev/null 2>&1 || [ -x /usr/sbin/setcap ] || [ -x /sbin/setcap ] || need+=(libcap2-bin)
# A static shell for test base images that RUN (the tests fall back to the machine's /bin/sh without it).
[ -x /bin/busybox ] || need+=(busybox-static)
# perl runs each builder's keeper (a subreaper: nothing a builder starts outlives a killed run); setsid, for its test.
[ -x /usr/bin/perl ] || need+=(perl-base)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
buildah --version
docker-registry --version 2>/dev/null || true
