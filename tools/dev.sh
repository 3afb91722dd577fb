#!/usr/bin/env bash
# Runs a deno task of this project (test, demo, bench, check, ...) after
# installing what is missing: Deno from the npm registry, pinned below, and
# etcd from Debian's packages (apt-get when run as root; otherwise it says
# which command to run).
#
#   bash tools/dev.sh demo     # a throwaway etcd, sample data, shown back
#   bash tools/dev.sh test     # the whole test suite against real etcd
set -euo pipefail

DENO_VERSION=2.9.6

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

note() { printf '%s\n' "$*" >&2; }

find_deno() {
  local candidate
  for candidate in "$root/.tools/node_modules/.bin/deno" "$(command -v deno || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] &&
      "$candidate" --version 2>/dev/null | head -n 1 | grep -q "^deno $DENO_VERSION "; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if ! deno=$(find_deno); then
  if ! command -v npm >/dev/null 2>&1; then
    note "Cannot install Deno: npm is missing; install Node.js and npm first (apt-get install nodejs npm)"
    exit 1
  fi
  note "Installing Deno $DENO_VERSION from npm into .tools/ ..."
  mkdir -p "$root/.tools"
  npm install --prefix "$root/.tools" --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
  deno=$(find_deno) || { note "Cannot install Deno $DENO_VERSION: npm finished but no working deno binary is in .tools/"; exit 1; }
fi

# Debian packages: etcd itself, openssl (the TLS tests mint certificates)
# and chromium (the viewer's browser tests).
missing=()
if [ -z "${ETCD_BIN:-}" ] && ! command -v etcd >/dev/null 2>&1; then missing+=(etcd-server); fi
if ! command -v openssl >/dev/null 2>&1; then missing+=(openssl); fi
if [ -z "${CHROMIUM_BIN:-}" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    note "Installing ${missing[*]} (Debian packages) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
  else
    note "Cannot find ${missing[*]}: install with \"sudo apt-get install ${missing[*]}\" (or set ETCD_BIN to an etcd 3.4 or 3.5 binary), then run this again"
    exit 1
  fi
fi

exec "$deno" task "$@"
