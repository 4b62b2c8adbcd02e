/**
 * The Opus encoder a recording uses: libopus from the codec table's backend
 * (media/codecs/opusBinding.ts), set for a file rather than a network. A file loses no
 * packets, so in-band FEC (which the table's RTP encoder spends bits on) is off and every
 * bit goes to the audio; 20 kbit/s per mono stream (one party) keeps speech clear for
 * listening and speech analytics (RFC 7587 §3.1.1 puts wideband speech at 16–20 kbit/s)
 * at about 9 MB per hour per party. 16 kHz in, 20 ms frames, as the table's Opus.
 */
import type { AudioEncoder, Codec } from '../codecs/codec.js';
import { codecOf } from '../codecs/table.js';
import { opusBackend, type OpusHandle } from '../codecs/opusBinding.js';

// opus_defines.h
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

export const OPUS_FILE_SETTINGS = { bitrate: 20000, complexity: 5 } as const;

class OpusFileEncoder implements AudioEncoder {
  private handle: OpusHandle | null;
  private readonly input: Buffer;

  constructor(
    private readonly sampleRate: number,
    private readonly frameSamples: number,
    bitrate: number,
  ) {
    const handle = opusBackend().backend.create(sampleRate, 1, OPUS_APPLICATION_VOIP);
    handle.encoderCtl(OPUS_SET_BITRATE, bitrate);
    handle.encoderCtl(OPUS_SET_COMPLEXITY, OPUS_FILE_SETTINGS.complexity);
    handle.encoderCtl(OPUS_SET_INBAND_FEC, 0);
    handle.encoderCtl(OPUS_SET_PACKET_LOSS_PERC, 0);
    this.handle = handle;
    this.input = Buffer.alloc(frameSamples * 2);
  }

  /** One frame of `frameSamples`; returns the packet's length (0: nothing encoded). */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    const handle = this.handle;
    if (handle === null || samples !== this.frameSamples) return 0;
    const input = this.input;
    for (let i = 0, j = 0; i < samples; i++, j += 2) {
      const v = pcm[i]!;
      input[j] = v & 0xff;
      input[j + 1] = (v >> 8) & 0xff;
    }
    let payload: Buffer;
    try {
      payload = handle.encode(input, samples);
    } catch {
      return 0;
    }
    if (payload.length > out.length) return 0;
    out.set(payload);
    return payload.length;
  }

  close(): void {
    this.handle?.free();
    this.handle = null;
  }
}

/**
 * The table's Opus (its rate and frame size) with the file encoder at `bitrate` bit/s
 * per mono stream.
 */
export function opusForFiles(
  bitrate: number = OPUS_FILE_SETTINGS.bitrate,
): Pick<Codec, 'sampleRate' | 'frameSamples' | 'createEncoder'> {
  const opus = codecOf('opus');
  return {
    sampleRate: opus.sampleRate,
    frameSamples: opus.frameSamples,
    createEncoder: () => new OpusFileEncoder(opus.sampleRate, opus.frameSamples, bitrate),
  };
}
