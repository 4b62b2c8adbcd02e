/**
 * A room source's audio path, from packet to mix frame, for a leg whose audio the room
 * uses (docs/architecture.md, the mixer): the packet path decodes each audio payload with
 * the leg's own stateful decoder (from the codec table, by the payload's kind) into the
 * leg's jitter buffer (`receive`; a table codec, G.711, is decoded by its table as it is
 * written into the buffer's ring, JitterBuffer.pushLaw); the room's clock pops a 20 ms frame at the codec's
 * rate and converts it to the room's (`toRoom`: 8 → 16 kHz through the leg's own
 * upsampler, 16 → 8 kHz through its downsampler, else as is).
 *
 * A payload the decoder finds corrupt (decode → -1) is replaced by the decoder's
 * concealment for one frame (its own PLC for Opus, a fading repeat for G.711/G.722) and
 * counted in the room's `framesCorrupt` (monotonic, summed into the worker's MixerStats).
 *
 * Life: created when the room starts using the leg's audio, `close()`d when it stops
 * (releases a WASM decoder). A sender switching codec (rare) switches the decoder and
 * the jitter buffer's rates then — the only allocation after `prepare`; everything else
 * is allocation-free.
 */
import type { AudioDecoder, Codec } from '../codecs/codec.js';
import { Downsampler2x, Upsampler2x } from '../dsp/resampler.js';
import type { JitterBuffer } from '../mixer/jitterBuffer.js';
import { rtpSequence, rtpSsrc, rtpTimestamp } from '../rtp/rtpHeader.js';
import { codecOfKind } from './legCodecs.js';

/** The most samples of one 20 ms frame at any rate we mix or decode (16 kHz). */
const MAX_FRAME = 320;

/** Counters a source adds to (its room's). */
export interface SourceCounters {
  /** Payloads the decoder rejected as corrupt (concealed instead). */
  framesCorrupt: number;
}

export class SourceAudio {
  /** The payload kind the decoder is for (-1: none yet). */
  kind = -1;
  codec: Codec | null = null;
  private decoder: AudioDecoder | null = null;
  private pcm = new Int16Array(0);
  private readonly up = new Upsampler2x(MAX_FRAME);
  private readonly down = new Downsampler2x(2 * MAX_FRAME);
  private readonly frame = new Int16Array(2 * MAX_FRAME);
  /** The last frame was converted (the converters' history belongs to this talkspurt). */
  private flowing = false;
  private closed = false;

  constructor(private readonly counters: SourceCounters) {}

  /**
   * Readies the decoder for payloads of `kind` and sets `jitter`'s rates to its codec's
   * (control plane: allocates). False when `kind` is no codec the table has.
   */
  prepare(kind: number, jitter: JitterBuffer): boolean {
    const codec = codecOfKind(kind);
    if (codec === null || this.closed) return false;
    if (this.kind !== kind) {
      this.decoder?.close();
      this.decoder = codec.createDecoder();
      if (this.pcm.length < codec.maxFrameSamples) this.pcm = new Int16Array(codec.maxFrameSamples);
      this.kind = kind;
      this.codec = codec;
    }
    jitter.setRates(codec.rtpClockRate, codec.sampleRate, codec.frameSamples);
    return true;
  }

  /** One accepted audio packet's payload `msg[offset, end)` of `kind`, at `nowMs`. */
  receive(
    jitter: JitterBuffer,
    msg: Uint8Array,
    offset: number,
    end: number,
    kind: number,
    nowMs: number,
  ): void {
    if (kind !== this.kind && !this.prepare(kind, jitter)) return;
    const codec = this.codec!;
    const table = codec.decodeTable;
    if (table !== undefined) {
      // A table codec (G.711) decodes straight into the ring; it is never corrupt.
      const n = end - offset;
      jitter.pushLaw(
        rtpSsrc(msg),
        rtpSequence(msg),
        rtpTimestamp(msg),
        table,
        msg,
        offset,
        n > codec.maxFrameSamples ? codec.maxFrameSamples : n,
        nowMs,
      );
      return;
    }
    const decoder = this.decoder!;
    const pcm = this.pcm;
    let n = decoder.decode(msg, offset, end - offset, pcm);
    if (n < 0) {
      this.counters.framesCorrupt++;
      n = decoder.conceal(pcm, this.codec!.frameSamples);
    }
    if (n <= 0) return;
    jitter.push(rtpSsrc(msg), rtpSequence(msg), rtpTimestamp(msg), pcm, n, nowMs);
  }

  /**
   * `frame` (popped from this source's jitter buffer, at `fromRate`) at the room's
   * `roomRate`: the frame itself when the rates match, else the converted frame (this
   * source's buffer, valid until the next call). Null stays null, and the converters
   * forget their history then (the next talkspurt starts from silence).
   */
  toRoom(frame: Int16Array | null, fromRate: number, roomRate: number): Int16Array | null {
    if (frame === null) {
      if (this.flowing) {
        this.up.reset();
        this.down.reset();
        this.flowing = false;
      }
      return null;
    }
    if (fromRate === roomRate) return frame;
    this.flowing = true;
    const n = frame.length;
    if (fromRate * 2 === roomRate) {
      this.up.process(frame, n, this.frame);
      return this.frame;
    }
    if (fromRate === roomRate * 2) {
      this.down.process(frame, n, this.frame);
      return this.frame;
    }
    return null; // no converter between these rates (the codec table has none)
  }

  /** Releases the decoder (idempotent). */
  close(): void {
    this.closed = true;
    this.decoder?.close();
    this.decoder = null;
    this.kind = -1;
  }
}
