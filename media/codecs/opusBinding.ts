/**
 * Which libopus the engine uses: the native binding @discordjs/opus when it loads (an
 * optional dependency: its install builds C code and is skipped where no compiler is),
 * else opusscript, libopus compiled to WASM (a regular dependency, pure JS + WASM, always
 * there). Native is 2-4× cheaper per frame (docs/codecs.md). Both are wrapped here into
 * one small handle so media/codecs/opusCodec.ts has a single code path.
 *
 * Loading happens on first use, not at import, so a worker without Opus legs never loads
 * either. The choice (and why native was not used) is returned by opusBackend(); this
 * module does not log: each media worker logs the choice once (workerCore.ts createLeg).
 */
import { createRequire } from 'node:module';

export type OpusBackendName = 'native' | 'wasm';

/** One libopus encoder or decoder state, as both packages expose it. */
export interface OpusHandle {
  /** 16-bit little-endian PCM of `frameSize` samples per channel → one packet. */
  encode(pcm: Buffer, frameSize: number): Buffer;
  /** One packet → 16-bit little-endian PCM; an empty Buffer runs the PLC. Throws on error. */
  decode(packet: Buffer): Buffer;
  /** opus_encoder_ctl with one integer argument. */
  encoderCtl(request: number, value: number): void;
  /** Frees the native or WASM state now where the package allows (native: the GC does). */
  free(): void;
}

export interface OpusBackend {
  readonly name: OpusBackendName;
  /** `application` is OPUS_APPLICATION_*; it takes effect before the first frame. */
  create(sampleRate: number, channels: number, application: number): OpusHandle;
}

export interface OpusBackendChoice {
  readonly backend: OpusBackend;
  /** Why the native binding is not in use (its load error), when it is not. */
  readonly nativeError?: string;
}

const OPUS_SET_APPLICATION = 4000;
const require = createRequire(import.meta.url);

interface NativeOpus {
  encode(pcm: Buffer): Buffer;
  decode(packet: Buffer): Buffer;
  applyEncoderCTL(request: number, value: number): void;
}
type NativeOpusClass = new (rate: number, channels: number) => NativeOpus;

interface WasmOpus {
  encode(pcm: Buffer, frameSize: number): Buffer;
  decode(packet: Buffer): Buffer;
  encoderCTL(request: number, value: number): void;
  delete(): void;
}
type WasmOpusClass = new (rate: number, channels: number, application: number) => WasmOpus;

/** @discordjs/opus: throws when the package or its compiled addon is missing. */
export function loadNative(): OpusBackend {
  const Native = (require('@discordjs/opus') as { OpusEncoder: NativeOpusClass }).OpusEncoder;
  // Creating one proves the addon links, not only that the JS wrapper resolves.
  new Native(16000, 1);
  return {
    name: 'native',
    create(sampleRate, channels, application) {
      const opus = new Native(sampleRate, channels);
      opus.applyEncoderCTL(OPUS_SET_APPLICATION, application);
      return {
        encode: (pcm) => opus.encode(pcm),
        decode: (packet) => opus.decode(packet),
        encoderCtl: (request, value) => opus.applyEncoderCTL(request, value),
        free: () => {},
      };
    },
  };
}

/** opusscript (WASM): throws only if the package is missing. */
export function loadWasm(): OpusBackend {
  const Wasm = require('opusscript') as WasmOpusClass;
  return {
    name: 'wasm',
    create(sampleRate, channels, application) {
      const opus = new Wasm(sampleRate, channels, application);
      let freed = false;
      return {
        encode: (pcm, frameSize) => opus.encode(pcm, frameSize),
        decode: (packet) => opus.decode(packet),
        encoderCtl: (request, value) => opus.encoderCTL(request, value),
        free: () => {
          if (!freed) opus.delete();
          freed = true;
        },
      };
    },
  };
}

/** Native when `native()` loads, else `wasm()` with native's load error as the reason. */
export function chooseOpusBackend(
  native: () => OpusBackend = loadNative,
  wasm: () => OpusBackend = loadWasm,
): OpusBackendChoice {
  try {
    return { backend: native() };
  } catch (err) {
    return { backend: wasm(), nativeError: err instanceof Error ? err.message : String(err) };
  }
}

let choice: OpusBackendChoice | undefined;

/** The backend in use (chooseOpusBackend's answer), decided once per thread. */
export function opusBackend(): OpusBackendChoice {
  choice ??= chooseOpusBackend();
  return choice;
}
