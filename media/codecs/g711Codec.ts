/**
 * G.711 µ-law (PCMU, payload type 0) and A-law (PCMA, 8) as table codecs (RFC 3551
 * §4.5.14): one byte per 8 kHz sample, stateless, so every payload length is valid. The
 * arithmetic is media/codecs/g711.ts; this file gives it the Codec interface.
 */
import type { AudioDecoder, AudioEncoder, Codec, CodecName } from './codec.js';
import { FadingConcealer } from './fadingConcealer.js';
import { ALAW_DECODE, ALAW_ENCODE, ULAW_DECODE, ULAW_ENCODE } from './g711.js';

/** 120 ms at 8 kHz: the longest packet we decode whole (longer ones are cut). */
const MAX_SAMPLES = 960;

class G711Decoder implements AudioDecoder {
  private readonly concealer = new FadingConcealer(MAX_SAMPLES);

  constructor(private readonly table: Int16Array) {}

  decode(data: Uint8Array, offset: number, length: number, out: Int16Array): number {
    let n = length > MAX_SAMPLES ? MAX_SAMPLES : length;
    if (n > out.length) n = out.length;
    const table = this.table;
    for (let i = 0; i < n; i++) out[i] = table[data[offset + i]!]!;
    this.concealer.decoded(out, n);
    return n;
  }

  conceal(out: Int16Array, samples: number): number {
    return this.concealer.conceal(out, samples);
  }

  close(): void {}
}

class G711Encoder implements AudioEncoder {
  constructor(private readonly table: Uint8Array) {}

  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    const table = this.table;
    for (let i = 0; i < samples; i++) out[i] = table[pcm[i]! & 0xffff]!;
    return samples;
  }

  close(): void {}
}

function g711(name: CodecName, payloadType: number, decode: Int16Array, encode: Uint8Array): Codec {
  return {
    name,
    rtpClockRate: 8000,
    sampleRate: 8000,
    frameSamples: 160,
    rtpTicksPerFrame: 160,
    maxFrameSamples: MAX_SAMPLES,
    wideband: false,
    nativePlc: false,
    decodeTable: decode,
    sdp: { encodingName: name, clockRate: 8000, payloadType },
    createDecoder: () => new G711Decoder(decode),
    createEncoder: () => new G711Encoder(encode),
  };
}

export const PCMU: Codec = g711('PCMU', 0, ULAW_DECODE, ULAW_ENCODE);
export const PCMA: Codec = g711('PCMA', 8, ALAW_DECODE, ALAW_ENCODE);
