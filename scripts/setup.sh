#!/usr/bin/env bash
# Install every Debian package that Safeguard's build, tests and benchmarks need,
# then configure and build (into build/, or --build-dir DIR). Safe to run
# again: it installs only what is missing and rebuilds only what changed.
set -euo pipefail

build=build
[ "${1:-}" = "--build-dir" ] && build=$2

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

packages=(
  # build
  g++ meson ninja-build pkg-config
  # libraries
  libdpdk-dev dpdk-dev libhyperscan-dev libjemalloc-dev libfmt-dev catch2 libpcap-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libcpp-httplib-dev
  libnats-dev
  # tests and benchmarks: pcap tools, generators, protocol peers, fuzzing
  tcpreplay tshark wireshark-common python3-scapy python3-aiosmtpd python3-yaml nats-server
  clang libclang-rt-14-dev jq
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

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release
fi
ninja -C "$build"
