/**
 * One interface for every audio codec the engine speaks (docs/architecture.md, media
 * engine): what it is on the wire (RTP clock rate, RFC 3551 / RFC 7587), what it is as
 * audio (PCM sample rate, samples per 20 ms frame), and stateful encoders and decoders.
 * The table of codecs is media/codecs/table.ts; nothing else in media/ may branch on a
 * codec's name for its numbers.
 *
 * Rates: `rtpClockRate` is the RTP timestamp clock, `sampleRate` the rate of the PCM a
 * decoder produces and an encoder takes. They differ for G.722 (RTP clock 8000 by
 * RFC 3551 §4.5.2's historical error, audio 16 kHz) and Opus (RTP clock always 48000,
 * RFC 7587 §4.1; the engine decodes and encodes it at 16 kHz, its mixer's wideband rate).
 *
 * Hot path: decode, conceal and encode write into buffers the caller owns, allocate
 * nothing per call and never throw on bad input (a corrupt payload decodes to -1 and the
 * caller conceals). Encoders and decoders that hold native or WASM memory are released by
 * `close()`, which is idempotent.
 */

/** Every codec the engine can relay, mix, transcode and record. */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

export const CODEC_NAMES: readonly CodecName[] = ['PCMU', 'PCMA', 'G722', 'opus'];

/** How the codec is written in SDP (`a=rtpmap`, `a=fmtp`, RFC 4566 §6). */
export interface CodecSdp {
  /** Encoding name as we write it (compared case-insensitively when reading). */
  encodingName: string;
  /** The clock rate in `a=rtpmap` (equals rtpClockRate). */
  clockRate: number;
  /** Channels in `a=rtpmap`, when the registration requires one (Opus: 2, RFC 7587 §7). */
  channels?: number;
  /** The static payload type (RFC 3551 table 4), or the dynamic one we offer it with. */
  payloadType: number;
  /** `a=fmtp` parameters we offer, if any. */
  fmtp?: string;
}

export interface AudioDecoder {
  /**
   * Decodes the payload `data[offset, offset + length)` into `out` from index 0. Returns
   * the number of samples written (at the codec's sampleRate), or -1 if the payload is
   * corrupt (the caller conceals and counts it). `out` must hold `maxFrameSamples`.
   */
  decode(data: Uint8Array, offset: number, length: number, out: Int16Array): number;
  /**
   * `samples` samples of concealment for audio that never arrived, into `out` from 0:
   * the codec's own packet loss concealment where it has one (Opus), else a fading
   * repetition of the last decoded audio. Returns the samples written.
   */
  conceal(out: Int16Array, samples: number): number;
  /**
   * Opus in-band FEC (RFC 7587 §3.2): the previous packet's audio, recovered from the
   * redundancy in this one, when that packet was lost. Returns samples written, or -1
   * when the payload carries none (the caller conceals instead). Absent for codecs
   * without FEC.
   */
  decodeFec?(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Int16Array,
    samples: number,
  ): number;
  close(): void;
}

export interface AudioEncoder {
  /**
   * Encodes `samples` samples of `pcm` (one frame: the codec's frameSamples) into `out`
   * from index 0; returns the payload length in bytes.
   */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number;
  close(): void;
}

export interface Codec {
  readonly name: CodecName;
  readonly rtpClockRate: number;
  /** Rate of the PCM the decoder produces and the encoder takes. */
  readonly sampleRate: number;
  /** PCM samples in one 20 ms frame at sampleRate. */
  readonly frameSamples: number;
  /** RTP timestamp units in one 20 ms frame (rtpClockRate / 50). */
  readonly rtpTicksPerFrame: number;
  /** The most samples one payload may decode to (120 ms for Opus, RFC 6716 §3.2.5). */
  readonly maxFrameSamples: number;
  /** Wideband: audio above 4 kHz survives (sampleRate ≥ 16000). */
  readonly wideband: boolean;
  /** Has its own packet loss concealment (else conceal() repeats and fades). */
  readonly nativePlc: boolean;
  /**
   * A stateless table codec's decoding (G.711: byte → int16 sample at sampleRate, one
   * sample per byte), for paths that decode straight into their own buffers (the mixer's
   * jitter buffer, the recording's tracks); absent for a codec with decoder state.
   */
  readonly decodeTable?: Int16Array;
  readonly sdp: CodecSdp;
  createDecoder(): AudioDecoder;
  createEncoder(): AudioEncoder;
}
