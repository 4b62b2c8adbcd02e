/**
 * The codecs the server can anchor, and how a payload format is recognised as one of
 * them. Encoding names compare case-insensitively (RFC 4566 §6, `a=rtpmap`).
 */
import type { PayloadFormat } from './types.js';

/** G.711 µ-law and A-law (RFC 3551 §4.5.14); more codecs join this union later. */
export type AudioCodecName = 'PCMU' | 'PCMA';

export interface AudioCodecInfo {
  /** The static payload type we offer it with. */
  payloadType: number;
  clockRate: number;
}

export const AUDIO_CODECS: Readonly<Record<AudioCodecName, AudioCodecInfo>> = {
  PCMU: { payloadType: 0, clockRate: 8000 },
  PCMA: { payloadType: 8, clockRate: 8000 },
};

/** RFC 4733 DTMF events, at the 8 kHz rate of the codecs above. */
export const TELEPHONE_EVENT = 'telephone-event';
export const TELEPHONE_EVENT_CLOCK_RATE = 8000;
/** The payload type we offer telephone-event with when nobody chose one (common usage). */
export const DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE = 101;
/** Events 0–15 are the DTMF digits and 16 is flash (RFC 4733 §3.2). */
export const TELEPHONE_EVENT_EVENTS = '0-16';

function isAudioCodecName(name: string): name is AudioCodecName {
  return Object.hasOwn(AUDIO_CODECS, name);
}

/** The supported codec a payload format stands for, if any (name, clock rate, mono). */
export function audioCodecOf(format: PayloadFormat): AudioCodecName | undefined {
  const name = format.name.toUpperCase();
  if (!isAudioCodecName(name)) return undefined;
  if (format.clockRate !== AUDIO_CODECS[name].clockRate) return undefined;
  if (format.channels !== undefined && format.channels !== 1) return undefined;
  return name;
}

/** `telephone-event/8000` (RFC 4733 §7.1.1). */
export function isTelephoneEvent(format: PayloadFormat): boolean {
  return (
    format.name.toLowerCase() === TELEPHONE_EVENT && format.clockRate === TELEPHONE_EVENT_CLOCK_RATE
  );
}
