/**
 * Opus (RFC 6716, RTP payload format RFC 7587) as a table codec, through libopus: the
 * native binding @discordjs/opus when it loads, else opusscript's WASM build
 * (media/codecs/opusBinding.ts chooses; docs/codecs.md says why). The RTP clock
 * is always 48000 (RFC 7587 §4.1); the engine decodes and encodes at 16 kHz mono, its
 * wideband mixing rate, so 20 ms is 960 ticks and 320 samples. SDP: `opus/48000/2` with
 * a dynamic payload type (we offer 111), `minptime=10;useinbandfec=1` (RFC 7587 §7).
 *
 * Encoder (opusEncoder.ts): VoIP application, in-band FEC on with an assumed 10 % loss
 * (libopus only spends bits on FEC when told to expect loss), 24 kbit/s, complexity 5.
 *
 * Decoder: a payload libopus rejects decodes to -1 (never throws); DTX packets (1-2 bytes)
 * decode to comfort noise or silence like any other. Concealment is Opus's own PLC: both
 * packages decode a missing packet only into their whole PLC buffer (360 ms native,
 * 180 ms WASM), so the first conceal() of a loss runs the PLC once and later ones in the
 * same gap are served from that output (it is the PLC's continuation, in order). The
 * next real packet fades in from there. Neither package offers FEC decode (both pass
 * decode_fec = 0), so decodeFec is absent and a lost packet is concealed, not recovered.
 *
 * Either package allocates a small Buffer for each result; this file adds one view per
 * decode, and encode copies a frame that is not exactly 20 ms into a new buffer. close() frees opusscript's WASM state at once; the native
 * binding has no explicit destroy, so its state goes when the GC collects the object
 * close() stops referencing.
 */
import type { AudioDecoder, Codec } from './codec.js';
import { opusBackend, type OpusBackend, type OpusHandle } from './opusBinding.js';
import {
  createOpusEncoder,
  OPUS_APPLICATION_VOIP,
  type OpusEncoderInput,
  type OpusEncoderSettings,
} from './opusEncoder.js';

const SAMPLE_RATE = 16000;
const FRAME_SAMPLES = 320;
/** 120 ms at 16 kHz: the longest Opus packet (RFC 6716 §3.2.5). */
const MAX_SAMPLES = 1920;
/** The most one PLC call yields: @discordjs/opus's fixed 6 × 960 samples (opusscript 2880). */
const PLC_SAMPLES = 5760;

/** The RTP encoder's settings (see above). */
export const OPUS_SETTINGS = {
  bitrate: 24000,
  complexity: 5,
  inbandFec: true,
  packetLossPercent: 10,
} as const satisfies OpusEncoderSettings;

/** The RTP encoder's input: any valid Opus frame size, 20 ms the usual. */
const RTP_INPUT: OpusEncoderInput = {
  sampleRate: SAMPLE_RATE,
  frameSamples: FRAME_SAMPLES,
  fixedFrame: false,
};

/** Little-endian 16-bit PCM bytes into `out`; returns the samples copied. */
function copyPcm(pcm: Buffer, out: Int16Array, max: number): number {
  let n = pcm.length >> 1;
  if (n > max) n = max;
  if (n > out.length) n = out.length;
  for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = ((pcm[j]! | (pcm[j + 1]! << 8)) << 16) >> 16;
  return n;
}

const EMPTY = Buffer.alloc(0);

class OpusAudioDecoder implements AudioDecoder {
  private handle: OpusHandle | null;
  private readonly plc = new Int16Array(PLC_SAMPLES);
  private plcLength = 0;
  private plcPosition = 0;

  constructor(backend: OpusBackend) {
    this.handle = backend.create(SAMPLE_RATE, 1, OPUS_APPLICATION_VOIP);
  }

  decode(data: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const handle = this.handle;
    // An empty payload would ask libopus for PLC, not decode: it is no Opus packet.
    if (handle === null || length <= 0 || offset < 0 || offset + length > data.length) return -1;
    let pcm: Buffer;
    try {
      pcm = handle.decode(Buffer.from(data.buffer, data.byteOffset + offset, length));
    } catch {
      return -1;
    }
    this.plcPosition = this.plcLength; // a gap's leftover PLC is stale now
    return copyPcm(pcm, out, MAX_SAMPLES);
  }

  conceal(out: Int16Array, samples: number): number {
    let written = 0;
    while (written < samples) {
      if (this.plcPosition >= this.plcLength && !this.runPlc()) {
        out.fill(0, written, samples);
        return samples;
      }
      let n = this.plcLength - this.plcPosition;
      if (n > samples - written) n = samples - written;
      const plc = this.plc;
      for (let i = 0; i < n; i++) out[written + i] = plc[this.plcPosition + i]!;
      this.plcPosition += n;
      written += n;
    }
    return samples;
  }

  private runPlc(): boolean {
    if (this.handle === null) return false;
    try {
      this.plcLength = copyPcm(this.handle.decode(EMPTY), this.plc, PLC_SAMPLES);
    } catch {
      this.plcLength = 0;
    }
    this.plcPosition = 0;
    return this.plcLength > 0;
  }

  close(): void {
    this.handle?.free();
    this.handle = null;
  }
}

const OPUS_ENTRY = {
  name: 'opus',
  rtpClockRate: 48000,
  sampleRate: SAMPLE_RATE,
  frameSamples: FRAME_SAMPLES,
  rtpTicksPerFrame: 960,
  maxFrameSamples: MAX_SAMPLES,
  wideband: true,
  nativePlc: true,
  sdp: {
    encodingName: 'opus',
    clockRate: 48000,
    channels: 2,
    payloadType: 111,
    fmtp: 'minptime=10;useinbandfec=1',
  },
} satisfies Omit<Codec, 'createDecoder' | 'createEncoder'>;

/** The Opus codec entry over `backend` (the tests run it over each backend that loads). */
export function opusCodecWith(backend: () => OpusBackend): Codec {
  return {
    ...OPUS_ENTRY,
    createDecoder: () => new OpusAudioDecoder(backend()),
    createEncoder: () => createOpusEncoder(backend(), OPUS_SETTINGS, RTP_INPUT),
  };
}

/** The table's entry: the backend opusBinding.ts chooses, loaded with the first coder. */
export const OPUS: Codec = opusCodecWith(() => opusBackend().backend);
