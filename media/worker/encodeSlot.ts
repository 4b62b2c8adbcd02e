/**
 * One shared encode of the mix (docs/architecture.md, the mixer): the frame of one
 * audible set (or one direct source) in one codec, encoded once per 20 ms for every
 * listener that hears that set in that codec. It owns the codec's encoder (from the
 * codec table; G.711's is its table lookup) and, when the codec's rate differs from the
 * room's, its own resampler (16 → 8 kHz for a G.711 listener of a wideband room: low-pass
 * first, so nothing above 4 kHz aliases into the band).
 *
 * Created on reroute (allocates), `close()`d when the route that needed it goes; `encode`
 * is allocation-free.
 */
import type { AudioEncoder, Codec } from '../codecs/codec.js';
import { Downsampler2x, Upsampler2x } from '../dsp/resampler.js';

/** Larger than any 20 ms payload of a codec we encode (Opus at 16 kHz stays far below). */
const MAX_PAYLOAD = 1500;

export class EncodeSlot {
  readonly payload = new Uint8Array(MAX_PAYLOAD);
  /** Payload bytes of the frame last encoded. */
  length = 0;
  /** The frame index last encoded (-1: none). */
  frame = -1;
  private readonly encoder: AudioEncoder;
  private readonly down: Downsampler2x | null;
  private readonly up: Upsampler2x | null;
  private readonly pcm: Int16Array;

  /** Throws a RangeError when no 2x converter joins the two rates. */
  constructor(
    readonly codec: Codec,
    readonly roomRate: number,
  ) {
    const rate = codec.sampleRate;
    if (rate !== roomRate && rate * 2 !== roomRate && rate !== roomRate * 2) {
      throw new RangeError(`no converter from ${roomRate} Hz to ${codec.name} at ${rate} Hz`);
    }
    const roomFrame = roomRate / 50;
    this.down = rate * 2 === roomRate ? new Downsampler2x(roomFrame) : null;
    this.up = rate === roomRate * 2 ? new Upsampler2x(roomFrame) : null;
    this.pcm = new Int16Array(codec.frameSamples);
    this.encoder = codec.createEncoder();
  }

  /**
   * Encodes `pcm` (one frame at the room's rate) as frame `index`, unless this frame was
   * already encoded. A frame after a gap (the slot was not used for the one before)
   * starts the resampler afresh.
   */
  encode(pcm: Int16Array, index: number): void {
    if (this.frame === index) return;
    const roomFrame = this.roomRate / 50;
    let input = pcm;
    if (this.down !== null) {
      if (this.frame !== index - 1) this.down.reset();
      this.down.process(pcm, roomFrame, this.pcm);
      input = this.pcm;
    } else if (this.up !== null) {
      if (this.frame !== index - 1) this.up.reset();
      this.up.process(pcm, roomFrame, this.pcm);
      input = this.pcm;
    }
    this.length = this.encoder.encode(input, this.codec.frameSamples, this.payload);
    this.frame = index;
  }

  close(): void {
    this.encoder.close();
  }
}
