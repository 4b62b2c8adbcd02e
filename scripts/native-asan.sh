#!/usr/bin/env bash
# Builds the native packet io addon with AddressSanitizer and UndefinedBehaviorSanitizer
# (in a scratch directory: build/Release stays the optimised build) and runs, with the
# sanitizer runtimes preloaded into node:
#   - the native io's unit tests (test/unit/media/io/: the seam's contract, batching,
#     oversized and empty datagrams, a flood, fd/thread accounting, worker threads that
#     exit with the io open);
#   - scripts/native-fuzz.mjs: truncated/oversized RTP and RTCP, garbage, zero-length
#     datagrams and a flood on one port beside a call whose stream must stay intact.
# Any sanitizer report aborts the run (halt_on_error) and fails the script.
#
# Leaks: LeakSanitizer cannot tell node's and V8's own allocations at exit from the
# addon's, so it is off; the tests instead count the fds and threads left after close
# and after worker exit, and the addon frees its arena handle and thread on close.
#
#   bash scripts/native-asan.sh [--secs N]   (fuzz seconds, default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=10
if [ "${1:-}" = "--secs" ]; then secs="$2"; fi

work=$(mktemp -d /tmp/callwatch-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r binding.gyp native "$work"/
ln -s "$PWD/node_modules" "$work/node_modules"

gyp="$(dirname "$(command -v node)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
nodedir="$(dirname "$(command -v node)")/.."
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g -O1"
echo "native-asan: building with $flags"
(cd "$work" && CXXFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" \
  node "$gyp" rebuild --nodedir="$nodedir" --loglevel=warn >/dev/null)
addon="$work/build/Release/callwatch_native.node"

preload="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)"
export LD_PRELOAD="$preload"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export CALLWATCH_NATIVE_ADDON="$addon"

echo "native-asan: the packet io tests (contract on both ios, native specifics, relay fast path, recordings)"
node --experimental-vm-modules node_modules/jest/bin/jest.js \
  test/unit/media/io/packetIoContract.test.ts test/unit/media/io/nativePacketIo.test.ts \
  test/unit/media/worker/fastRelay.test.ts test/unit/media/recording/nativePacketRecorder.test.ts \
  --selectProjects tests
echo "native-asan: fuzz of the receive path (${secs}s)"
[ -f dist/media/io/nativePacketIo.js ] || npm run build
node scripts/native-fuzz.mjs --secs "$secs"
echo "native-asan: pass (no sanitizer report)"
