#!/usr/bin/env bash
# Install every Debian package that Safeguard's build, tests and benchmarks need,
# then configure and build (into build/, or --build-dir DIR). Safe to run
# again: it installs only what is missing and rebuilds only what changed.
#
#   scripts/setup.sh [--build-dir DIR] [--with-suricata]
#
# --with-suricata (or SG_WITH_SURICATA=1) also installs Suricata 7 from
# bookworm-backports, for scripts/diff-suricata.sh and the benchmarks. The
# normal test run does not need it.
set -euo pipefail

build=build
with_suricata=${SG_WITH_SURICATA:-0}
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) build=${2:?--build-dir needs a directory}; shift 2 ;;
    --with-suricata) with_suricata=1; shift ;;
    *) echo "usage: scripts/setup.sh [--build-dir DIR] [--with-suricata]" >&2; exit 2 ;;
  esac
done

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

packages=(
  # build
  g++ meson ninja-build pkg-config
  # libraries
  libdpdk-dev dpdk-dev libhyperscan-dev libjemalloc-dev libfmt-dev catch2 libpcap-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libcpp-httplib-dev
  libnats-dev libpcre2-dev
  # tests and benchmarks: pcap tools, generators, protocol peers, fuzzing
  tcpreplay tshark wireshark-common python3-scapy python3-aiosmtpd python3-yaml python3-prometheus-client nats-server
  # the fleet test: network namespaces and veth pairs (ip netns)
  iproute2
  clang libclang-rt-14-dev jq time
  # the dashboard test: a headless browser
  chromium
  # benchmark profiles (docs/benchmarks.md)
  linux-perf valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Suricata 7 is not in bookworm main. Add bookworm-backports from the Debian
# mirror this machine already uses (once), then install from it.
install_suricata() {
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if dpkg-query -W -f='${Status} ${Version}' suricata 2>/dev/null | grep -Eq '^install ok installed ([0-9]+:)?7\.'; then
    return 0
  fi
  local files=()
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  if ! grep -Eqs '^[^#]*\bbookworm-backports\b' /dev/null "${files[@]}"; then
    # The URI of the source that carries plain "bookworm": one-line
    # ("deb URI bookworm ...") or deb822 ("URIs:" ... "Suites: bookworm ...").
    local mirror
    mirror=$(awk '
      FNR == 1 { uri = ""; suites = "" }
      /^[[:space:]]*#/ { next }
      $1 == "deb" { sub(/\[[^]]*\]/, ""); if ($3 == "bookworm") { print $2; exit } }
      /^[[:space:]]*$/ { uri = ""; suites = "" }
      $1 == "URIs:" { uri = $2 }
      $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") suites = 1 }
      uri != "" && suites { print uri; exit }
    ' /dev/null "${files[@]}")
    if [ -z "$mirror" ]; then
      echo "setup: no apt source for bookworm found; cannot add bookworm-backports" >&2
      return 1
    fi
    echo "setup: adding bookworm-backports from $mirror"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" | "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  echo "setup: installing suricata from bookworm-backports"
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends -t bookworm-backports suricata
}

if [ "$with_suricata" = 1 ]; then install_suricata; fi

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release
fi
ninja -C "$build"
