#!/usr/bin/env bash
# Sourced by the other scripts: puts Swift on PATH and installs the Debian packages the build links against.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/bin/swift ]; then
  export PATH="/opt/swift/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "propensity: Swift 6.1 or later is required (swift.org/install); it is not on PATH or in /opt/swift" >&2
  exit 1
fi

needed=()
for pkg in libopenblas-dev liblapacke-dev libhiredis-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing ${needed[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${needed[@]}" >/dev/null
fi
