/**
 * The Opus encoder a recording uses: libopus from the codec table's backend
 * (media/codecs/opusBinding.ts), set for a file rather than a network. A file loses no
 * packets, so in-band FEC (which the table's RTP encoder spends bits on) is off and every
 * bit goes to the audio; 20 kbit/s per mono stream (one party) keeps speech clear for
 * listening and speech analytics (RFC 7587 §3.1.1 puts wideband speech at 16–20 kbit/s)
 * at about 9 MB per hour per party. 16 kHz in, 20 ms frames, as the table's Opus; only
 * whole 20 ms frames are encoded.
 */
import type { Codec } from '../codecs/codec.js';
import { opusBackend } from '../codecs/opusBinding.js';
import { createOpusEncoder, type OpusEncoderSettings } from '../codecs/opusEncoder.js';
import { codecOf } from '../codecs/table.js';

export const OPUS_FILE_SETTINGS = {
  bitrate: 20000,
  complexity: 5,
  inbandFec: false,
  packetLossPercent: 0,
} as const satisfies OpusEncoderSettings;

/**
 * The table's Opus (its rate and frame size) with the file encoder at `bitrate` bit/s
 * per mono stream.
 */
export function opusForFiles(
  bitrate: number = OPUS_FILE_SETTINGS.bitrate,
): Pick<Codec, 'sampleRate' | 'frameSamples' | 'createEncoder'> {
  const opus = codecOf('opus');
  const settings: OpusEncoderSettings = { ...OPUS_FILE_SETTINGS, bitrate };
  const input = { sampleRate: opus.sampleRate, frameSamples: opus.frameSamples, fixedFrame: true };
  return {
    sampleRate: opus.sampleRate,
    frameSamples: opus.frameSamples,
    createEncoder: () => createOpusEncoder(opusBackend().backend, settings, input),
  };
}
