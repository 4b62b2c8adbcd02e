#!/usr/bin/env bash
# Remakes the demo prompts in config/prompts/ (docs/architecture.md §6.9): short spoken
# announcements synthesised by espeak-ng, then turned by sox into what a prompt must be
# (mono 16-bit PCM at 8 kHz, the G.711 band), band-limited to 300-3400 Hz, normalised to
# -3 dBFS peak, with 100 ms of silence trimmed in and added at both ends.
# The WAVs are committed: the server and the tests never need espeak-ng.
#
#   apt-get install -y espeak-ng sox     # once
#   scripts/make-prompts.sh
set -euo pipefail

for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "make-prompts: $tool is missing (apt-get install -y espeak-ng sox)" >&2
    exit 1
  }
done

out="$(cd "$(dirname "$0")/.." && pwd)/config/prompts"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# name|text
prompts=(
  "may-be-monitored|This call may be monitored or recorded."
  "being-monitored|This call is being monitored."
  # Queue position announcements (docs/architecture.md §9.5): intro, then the number.
  "caller-number|You are caller number"
  "number-1|one"
  "number-2|two"
  "number-3|three"
  "number-4|four"
  "number-5|five"
)

for entry in "${prompts[@]}"; do
  name="${entry%%|*}"
  text="${entry#*|}"
  # -v en-us, 150 words a minute: clear on a phone line.
  espeak-ng -v en-us -s 150 -w "$tmp/$name.raw.wav" "$text"
  sox "$tmp/$name.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$name.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
    sinc 300-3400 norm -3 pad 0.1 0.1
  echo "$out/$name.wav: $(soxi -D "$out/$name.wav") s"
done
