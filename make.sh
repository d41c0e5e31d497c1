#!/bin/sh
# Installs make (and apt's package lists) on a fresh Debian 12 machine if needed, then runs
# `make "$@"`. The Makefile installs everything else it needs.
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
if ! command -v make >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends make
fi
exec make "$@"
