#!/usr/bin/env bash
# Installs the real SIP peers the tests drive (SIPp, baresip, sox, and Chromium for the
# phone page's browser tests, driven by playwright-core), the tools that
# prove the deploy files (Prometheus with promtool, docker-compose) and the compiler the
# native packet io addon needs (g++, make, python3) from Debian's packages when they are
# missing (Kamailio and Redis for the several-instances tests), then builds the addon if it
# is not built (the tests run both packet ios).
# Runs as root in CI; elsewhere it uses sudo when it has to.
#
# Debian's prometheus package may start a Prometheus service on :9090; the tests never use
# that port (they start their own Prometheus on a free one), so it is left alone.
set -euo pipefail

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v baresip >/dev/null 2>&1 || need+=(baresip-core)
command -v sox >/dev/null 2>&1 || need+=(sox libsox-fmt-all)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The several-instances tests: Kamailio in front (dispatcher, path, rr) and Redis.
[ -x /usr/sbin/kamailio ] || command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)

build_native() {
  node "$(dirname "$0")/build-native.mjs" --if-missing
  if [ ! -f "$(dirname "$0")/../build/Release/callwatch_native.node" ]; then
    echo "install-test-peers: the native addon did not build (see above)" >&2
    exit 1
  fi
}

if [ ${#need[@]} -eq 0 ]; then
  build_native
  exit 0
fi

echo "install-test-peers: installing ${need[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo -n)
  else
    echo "install-test-peers: ${need[*]} missing and not root (install them with apt-get)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null
build_native
