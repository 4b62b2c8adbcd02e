/**
 * G.722 (payload type 9) as a table codec: RFC 3551 §4.5.2 gives it an RTP clock of
 * 8000 though its audio is 16 kHz (a historical error kept for interoperability), so
 * 20 ms is 160 RTP ticks, 160 bytes and 320 samples. Every byte decodes (two samples),
 * so no payload is corrupt; loss is concealed by repeating and fading the last frame.
 * The arithmetic is media/codecs/g722.ts.
 */
import type { AudioDecoder, AudioEncoder, Codec } from './codec.js';
import { FadingConcealer } from './fadingConcealer.js';
import { G722Decoder, G722Encoder } from './g722.js';

/** 120 ms at 16 kHz: the longest payload decoded whole (longer ones are cut). */
const MAX_SAMPLES = 1920;

class G722AudioDecoder implements AudioDecoder {
  private readonly decoder = new G722Decoder();
  private readonly concealer = new FadingConcealer(MAX_SAMPLES);

  decode(data: Uint8Array, offset: number, length: number, out: Int16Array): number {
    let bytes = length < 0 ? 0 : length;
    if (bytes > MAX_SAMPLES >> 1) bytes = MAX_SAMPLES >> 1;
    const n = this.decoder.decode(data, offset, bytes, out);
    this.concealer.decoded(out, n);
    return n;
  }

  conceal(out: Int16Array, samples: number): number {
    return this.concealer.conceal(out, samples);
  }

  close(): void {}
}

class G722AudioEncoder implements AudioEncoder {
  private readonly encoder = new G722Encoder();

  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    return this.encoder.encode(pcm, samples, out);
  }

  close(): void {}
}

export const G722: Codec = {
  name: 'G722',
  rtpClockRate: 8000,
  sampleRate: 16000,
  frameSamples: 320,
  rtpTicksPerFrame: 160,
  maxFrameSamples: MAX_SAMPLES,
  wideband: true,
  nativePlc: false,
  sdp: { encodingName: 'G722', clockRate: 8000, payloadType: 9 },
  createDecoder: () => new G722AudioDecoder(),
  createEncoder: () => new G722AudioEncoder(),
};
