/**
 * An Opus encoder (RFC 6716) over a libopus handle from opusBinding.ts: mono 16-bit PCM
 * in, one packet out per frame, with every setting a parameter. The codec table's RTP
 * encoder (opusCodec.ts) and a recording's file encoder (media/recording/opusFileEncoder.ts)
 * are this encoder with different settings.
 *
 * The application (VoIP) is set at creation, before the first frame (libopus allows no
 * later), then bitrate, complexity, in-band FEC and the expected loss (libopus only spends
 * bits on FEC when told to expect loss). close() frees the handle.
 */
import type { AudioEncoder } from './codec.js';
import type { OpusBackend, OpusHandle } from './opusBinding.js';

// opus_defines.h
export const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

/** What libopus is told: the same for every frame of the encoder's life. */
export interface OpusEncoderSettings {
  /** bit/s of the (mono) stream. */
  readonly bitrate: number;
  /** 0–10. */
  readonly complexity: number;
  readonly inbandFec: boolean;
  /** The loss the FEC is sized for, 0–100. */
  readonly packetLossPercent: number;
}

/** The PCM the encoder takes. */
export interface OpusEncoderInput {
  /** Hz (8000, 12000, 16000, 24000 or 48000). */
  readonly sampleRate: number;
  /** The usual frame, in samples (its input buffer is allocated once). */
  readonly frameSamples: number;
  /**
   * Only frames of `frameSamples` are encoded (any other returns 0), as a file whose
   * granules count whole frames needs; otherwise any valid Opus frame size is, the
   * unusual ones through a buffer of their own.
   */
  readonly fixedFrame: boolean;
}

class OpusAudioEncoder implements AudioEncoder {
  private handle: OpusHandle | null;
  private readonly input: Buffer;

  constructor(
    backend: OpusBackend,
    settings: OpusEncoderSettings,
    private readonly pcmIn: OpusEncoderInput,
  ) {
    const handle = backend.create(pcmIn.sampleRate, 1, OPUS_APPLICATION_VOIP);
    handle.encoderCtl(OPUS_SET_BITRATE, settings.bitrate);
    handle.encoderCtl(OPUS_SET_COMPLEXITY, settings.complexity);
    handle.encoderCtl(OPUS_SET_INBAND_FEC, settings.inbandFec ? 1 : 0);
    handle.encoderCtl(OPUS_SET_PACKET_LOSS_PERC, settings.packetLossPercent);
    this.handle = handle;
    this.input = Buffer.alloc(pcmIn.frameSamples * 2);
  }

  /**
   * `samples` must be a valid Opus frame at the input rate (and `frameSamples` when the
   * frame is fixed); returns the payload length, or 0 when nothing could be encoded
   * (closed, bad frame size, `out` too small).
   */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    const handle = this.handle;
    if (handle === null) return 0;
    const usual = samples === this.pcmIn.frameSamples;
    if (!usual && this.pcmIn.fixedFrame) return 0;
    const input = usual ? this.input : Buffer.alloc(samples * 2);
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

/** A new encoder over `backend` with `settings`, taking `input`'s PCM. */
export function createOpusEncoder(
  backend: OpusBackend,
  settings: OpusEncoderSettings,
  input: OpusEncoderInput,
): AudioEncoder {
  return new OpusAudioEncoder(backend, settings, input);
}
