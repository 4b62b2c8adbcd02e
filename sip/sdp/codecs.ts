/**
 * The codecs the server can anchor, how each is written in SDP, and how a payload
 * format is recognised as one of them. Encoding names compare case-insensitively
 * (RFC 4566 §6, `a=rtpmap`). sip/ does not import the media engine: this table is the
 * SDP view of the engine's codecs (same names, same RTP clock rates).
 */
import type { SdpCodec } from './build.js';
import type { PayloadFormat } from './types.js';

/** G.711 µ-law and A-law, G.722 and Opus: the codecs the media engine speaks. */
export type AudioCodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

export interface AudioCodecInfo {
  /** The encoding name as we write it in `a=rtpmap`. */
  encodingName: string;
  /** The static payload type (RFC 3551 table 4), or the dynamic one we offer it with. */
  payloadType: number;
  /** The RTP clock rate of `a=rtpmap` (not always the audio's sample rate). */
  clockRate: number;
  /** Channels in `a=rtpmap`, where the registration requires them. */
  channels?: number;
  /** `a=fmtp` parameters we offer. */
  fmtp?: string;
  /** Carries audio above 4 kHz (worth keeping end to end, never worth inventing). */
  wideband: boolean;
}

export const AUDIO_CODECS: Readonly<Record<AudioCodecName, AudioCodecInfo>> = {
  // RFC 3551 §4.5.14.
  PCMU: { encodingName: 'PCMU', payloadType: 0, clockRate: 8000, wideband: false },
  PCMA: { encodingName: 'PCMA', payloadType: 8, clockRate: 8000, wideband: false },
  // RFC 3551 §4.5.2: the RTP clock is 8000 although the audio is sampled at 16 kHz.
  G722: { encodingName: 'G722', payloadType: 9, clockRate: 8000, wideband: true },
  // RFC 7587 §7: always `opus/48000/2`, whatever is actually sent; dynamic payload type.
  opus: {
    encodingName: 'opus',
    payloadType: 111,
    clockRate: 48000,
    channels: 2,
    fmtp: 'minptime=10;useinbandfec=1',
    wideband: true,
  },
};

export const AUDIO_CODEC_NAMES = Object.keys(AUDIO_CODECS) as readonly AudioCodecName[];

/** RFC 4733 DTMF events. */
export const TELEPHONE_EVENT = 'telephone-event';
/** The rate of telephone-event beside the 8000-clock codecs (G.711, G.722). */
export const TELEPHONE_EVENT_CLOCK_RATE = 8000;
/** The clock rates we take telephone-event at: each must match the audio codec's. */
export const TELEPHONE_EVENT_CLOCK_RATES: readonly number[] = [8000, 48000];
/** The payload type we offer telephone-event with when nobody chose one (common usage). */
export const DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE = 101;
/** Events 0–15 are the DTMF digits and 16 is flash (RFC 4733 §3.2). */
export const TELEPHONE_EVENT_EVENTS = '0-16';

const BY_LOWER_NAME: ReadonlyMap<string, AudioCodecName> = new Map(
  AUDIO_CODEC_NAMES.map((name) => [AUDIO_CODECS[name].encodingName.toLowerCase(), name]),
);

/** The supported codec a payload format stands for, if any (name, clock rate, channels). */
export function audioCodecOf(format: PayloadFormat): AudioCodecName | undefined {
  const name = BY_LOWER_NAME.get(format.name.toLowerCase());
  if (name === undefined) return undefined;
  const info = AUDIO_CODECS[name];
  if (format.clockRate !== info.clockRate) return undefined;
  // RFC 4566 §6: no channel count means one. Opus must say 2 (RFC 7587 §7); one that
  // leaves it out is still Opus, and its decoder takes both.
  const channels = format.channels ?? 1;
  if (channels !== 1 && channels !== (info.channels ?? 1)) return undefined;
  return name;
}

/**
 * `telephone-event/<rate>` (RFC 4733 §7.1.1) at a rate we support, or at `clockRate`
 * when given.
 */
export function isTelephoneEvent(format: PayloadFormat, clockRate?: number): boolean {
  if (format.name.toLowerCase() !== TELEPHONE_EVENT || format.clockRate === undefined) {
    return false;
  }
  return clockRate === undefined
    ? TELEPHONE_EVENT_CLOCK_RATES.includes(format.clockRate)
    : format.clockRate === clockRate;
}

/** How we list `name` in an SDP of ours, with payload type `payloadType` (ours by default). */
export function sdpCodecOf(
  name: AudioCodecName,
  payloadType: number = AUDIO_CODECS[name].payloadType,
): SdpCodec {
  const info = AUDIO_CODECS[name];
  const codec: SdpCodec = { name: info.encodingName, payloadType, clockRate: info.clockRate };
  if (info.channels !== undefined) codec.channels = info.channels;
  if (info.fmtp !== undefined) codec.fmtp = info.fmtp;
  return codec;
}
