/**
 * Codec choice for an offered audio stream (RFC 3264 §6.1). The answerer keeps the
 * offer's order, so the chosen codec is the first offered one we support, with the
 * offerer's payload type number (dynamic ones included: we send what the peer numbered);
 * `prefer: 'ours'` picks by our preference order instead. telephone-event is taken at
 * the chosen codec's clock rate (RFC 4733 §2.1), so Opus goes with telephone-event/48000
 * and G.711 or G.722 with telephone-event/8000.
 */
import { AUDIO_CODECS, audioCodecOf, isTelephoneEvent, type AudioCodecName } from './codecs.js';
import { sdpFailure, type SdpFailure } from './errors.js';
import type { AudioStream } from './types.js';

/** A codec on one leg: its name and the payload type that leg uses for it. */
export interface CodecChoice {
  name: AudioCodecName;
  payloadType: number;
  clockRate: number;
}

/** An offered telephone-event format (RFC 4733) at one clock rate. */
export interface OfferedEvent {
  payloadType: number;
  clockRate: number;
  fmtp?: string;
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
  /** The offered telephone-event at the chosen codec's clock rate, when accepted. */
  telephoneEvent?: { payloadType: number; fmtp?: string };
  /** Every accepted telephone-event, the first of each clock rate, in offer order. */
  telephoneEvents: OfferedEvent[];
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
  const telephoneEvents: OfferedEvent[] = [];
  if (options.telephoneEvent !== false) {
    for (const format of offer.formats) {
      if (!isTelephoneEvent(format)) continue;
      const clockRate = format.clockRate as number;
      if (telephoneEvents.some((e) => e.clockRate === clockRate)) continue;
      const event: OfferedEvent = { payloadType: format.payloadType, clockRate };
      if (format.fmtp !== undefined) event.fmtp = format.fmtp;
      telephoneEvents.push(event);
    }
  }
  const result: NegotiatedAudio = { ok: true, codec, common, telephoneEvents };
  const te = eventAt(result, codec.clockRate);
  if (te !== undefined) result.telephoneEvent = te;
  return result;
}

/**
 * The offerer's telephone-event for a codec at `clockRate`: the one at that rate (RFC 4733
 * §2.1: an event's clock is its audio's), else the one at 8000 Hz — endpoints in the field
 * (baresip, older PBXs) offer Opus beside only telephone-event/8000, and their digits must
 * still be heard. The returned clockRate is the event's own.
 */
export function eventAt(
  negotiated: Pick<NegotiatedAudio, 'telephoneEvents'>,
  clockRate: number,
): { payloadType: number; clockRate: number; fmtp?: string } | undefined {
  const e =
    negotiated.telephoneEvents.find((x) => x.clockRate === clockRate) ??
    negotiated.telephoneEvents.find((x) => x.clockRate === 8000);
  if (e === undefined) return undefined;
  return e.fmtp === undefined
    ? { payloadType: e.payloadType, clockRate: e.clockRate }
    : { payloadType: e.payloadType, clockRate: e.clockRate, fmtp: e.fmtp };
}
