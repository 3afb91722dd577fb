#!/usr/bin/env bash
# Runs a deno task of this project (test, demo, bench, check, ...) after
# installing what that task needs and is missing: Deno from the npm registry
# (pinned below), etcd 3.4 from Debian's own suite, etcd 3.5 from a newer
# Debian suite (downloaded as .deb files and unpacked into .tools/, never
# added to the system's sources), and the Debian packages the tests and
# benchmarks use. apt-get needs root; otherwise it says what to run.
#
#   bash tools/dev.sh demo     # a tour of v3 on a throwaway etcd 3.5
#   bash tools/dev.sh test     # the whole test suite against real etcd
set -euo pipefail

DENO_VERSION=2.9.6
# etcd 3.5 as Debian ships it: the first of these that Debian still serves.
ETCD35_PINS=("3.5.30-2 sid" "3.5.16-4 trixie")

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
task="${1:-}"

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

is_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# What each task needs from Debian: command to look for, package.
debian_needs() {
  case "$task" in
    test) echo "etcd:etcd-server openssl:openssl chromium:chromium python3-yaml:python3-yaml" ;;
    bench) echo "etcd:etcd-server chromium:chromium wrk:wrk go:golang-go gocode:golang-etcd-server-dev" ;;
    demo) echo "" ;; # etcd 3.5 only, below
    *) echo "" ;;
  esac
}

has() {
  case "$1" in
    etcd) [ -n "${ETCD_BIN:-}" ] || command -v etcd >/dev/null 2>&1 ;;
    chromium) [ -n "${CHROMIUM_BIN:-}" ] || [ -x /usr/bin/chromium ] ;;
    python3-yaml) /usr/bin/python3 -c "import yaml" >/dev/null 2>&1 ;;
    gocode) [ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for need in $(debian_needs); do
  has "${need%%:*}" || missing+=("${need#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if is_root; then
    note "Installing ${missing[*]} (Debian packages) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
  else
    note "Cannot find ${missing[*]}: install with \"sudo apt-get install ${missing[*]}\", then run this again"
    exit 1
  fi
fi

# etcd 3.5 (etcd-server and etcd-client: etcd, etcdctl, etcdutl) for the
# v3 tests and benchmarks, unpacked into .tools/etcd-3.5.
etcd35="$root/.tools/etcd-3.5"
install_etcd35() {
  [ -x "$etcd35/usr/bin/etcd" ] && [ -x "$etcd35/usr/bin/etcdctl" ] && return 0
  if ! is_root; then
    note "Cannot find etcd 3.5 in .tools/etcd-3.5: run this as root once to download Debian's .deb files (or set ETCD35_BIN)"
    exit 1
  fi
  local tmp pin version suite
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  for pin in "${ETCD35_PINS[@]}"; do
    version=${pin% *}
    suite=${pin#* }
    printf 'deb http://deb.debian.org/debian %s main\n' "$suite" >"$tmp/sources.list"
    local apt=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User=root)
    note "Downloading etcd $version from Debian $suite into .tools/etcd-3.5 ..."
    apt-get "${apt[@]}" update -qq >&2 || continue
    if (cd "$tmp/debs" && apt-get "${apt[@]}" download -qq "etcd-server=$version" "etcd-client=$version" >&2); then
      rm -rf "$etcd35"
      mkdir -p "$etcd35"
      for deb in "$tmp/debs"/*.deb; do dpkg -x "$deb" "$etcd35"; done
      note "etcd $version is in .tools/etcd-3.5/usr/bin"
      return 0
    fi
    rm -f "$tmp/debs"/*.deb
  done
  note "Cannot download etcd 3.5: none of ${ETCD35_PINS[*]} is served by deb.debian.org any more; update ETCD35_PINS in tools/dev.sh"
  exit 1
}
case "$task" in
  test | bench | demo) [ -n "${ETCD35_BIN:-}" ] || install_etcd35 ;;
esac

exec "$deno" task "$@"
