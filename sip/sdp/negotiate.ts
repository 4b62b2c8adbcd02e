/**
 * Codec choice for an offered audio stream (RFC 3264 §6.1). The answerer keeps the
 * offer's order, so the chosen codec is the first offered one we support, with the
 * offerer's payload type number; `prefer: 'ours'` picks by our preference order instead.
 */
import { AUDIO_CODECS, audioCodecOf, type AudioCodecName } from './codecs.js';
import { sdpFailure, type SdpFailure } from './errors.js';
import type { AudioStream } from './types.js';

/** A codec on one leg: its name and the payload type that leg uses for it. */
export interface CodecChoice {
  name: AudioCodecName;
  payloadType: number;
  clockRate: number;
}

export interface NegotiateOptions {
  /** Accept telephone-event when offered (default true). */
  telephoneEvent?: boolean;
  /** Whose order decides: the offer's (default, RFC 3264 §6.1) or `supported`'s. */
  prefer?: 'offer' | 'ours';
}

export interface NegotiatedAudio {
  ok: true;
  codec: CodecChoice;
  /** Every offered codec we support, in offer order, with the offer's payload types. */
  common: CodecChoice[];
  /** The offered telephone-event/8000 format, when accepted. */
  telephoneEvent?: { payloadType: number; fmtp?: string };
}

export function negotiateAudio(
  offer: AudioStream,
  supported: readonly AudioCodecName[],
  options: NegotiateOptions = {},
): NegotiatedAudio | SdpFailure {
  if (offer.port === 0) return sdpFailure('SDP_AUDIO_DISABLED', 'the audio stream is declined');
  const common: CodecChoice[] = [];
  for (const format of offer.formats) {
    const name = audioCodecOf(format);
    if (name === undefined || !supported.includes(name)) continue;
    if (common.some((c) => c.name === name)) continue;
    common.push({ name, payloadType: format.payloadType, clockRate: AUDIO_CODECS[name].clockRate });
  }
  const ours = (c: CodecChoice) => supported.indexOf(c.name);
  const ranked = options.prefer === 'ours' ? [...common].sort((a, b) => ours(a) - ours(b)) : common;
  const codec = ranked[0];
  if (codec === undefined) return sdpFailure('SDP_NO_COMMON_CODEC', 'no common codec');
  const result: NegotiatedAudio = { ok: true, codec, common };
  const te = offer.telephoneEvent;
  if (te !== undefined && options.telephoneEvent !== false) {
    result.telephoneEvent =
      te.fmtp === undefined
        ? { payloadType: te.payloadType }
        : { payloadType: te.payloadType, fmtp: te.fmtp };
  }
  return result;
}
