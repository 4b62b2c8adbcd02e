/**
 * A leg's negotiated payload types as lookup tables for the packet path: payload type →
 * what it carries (a codec or RFC 4733 telephone-event), and codec → the payload type the
 * leg expects for it. Between legs the payload type is mapped (each leg has its own
 * numbering, RFC 3264 §6.1), and G.711 is transcoded µ-law ↔ A-law in place only when the
 * listener did not negotiate the source's codec (RFC 3264 §5.1: an endpoint must accept
 * every codec it listed, so a shared one is relayed as is).
 */
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from '../codecs/g711.js';
import type { CodecName, CodecSpec, TelephoneEventSpec } from './protocol.js';

export const KIND_NONE = 0;
export const KIND_PCMU = 1;
export const KIND_PCMA = 2;
export const KIND_TELEPHONE_EVENT = 3;

export type PayloadKind = 0 | 1 | 2 | 3;

export const KIND_OF_CODEC: Readonly<Record<CodecName, PayloadKind>> = {
  PCMU: KIND_PCMU,
  PCMA: KIND_PCMA,
};

export class PayloadMap {
  /** Payload type (0–127) → KIND_*. */
  readonly kindOf = new Uint8Array(128);
  /** KIND_* → this leg's payload type for it, -1 when not negotiated. */
  readonly payloadTypeOf = new Int16Array(4).fill(-1);
  /** The preferred codec: what the leg is sent when it lacks the source's codec. */
  readonly sendKind: PayloadKind;

  constructor(codecs: readonly CodecSpec[], telephoneEvent: TelephoneEventSpec | null) {
    for (let i = codecs.length - 1; i >= 0; i--) {
      const c = codecs[i]!;
      const kind = KIND_OF_CODEC[c.name];
      this.kindOf[c.payloadType] = kind;
      this.payloadTypeOf[kind] = c.payloadType; // the earliest listed wins
    }
    if (telephoneEvent !== null) {
      this.kindOf[telephoneEvent.payloadType] = KIND_TELEPHONE_EVENT;
      this.payloadTypeOf[KIND_TELEPHONE_EVENT] = telephoneEvent.payloadType;
    }
    this.sendKind = KIND_OF_CODEC[codecs[0]!.name];
  }
}

/** The in-place table turning `from` into `to`, or null when no transcoding is needed. */
export function transcodeTable(from: number, to: number): Uint8Array | null {
  if (from === KIND_PCMU && to === KIND_PCMA) return ULAW_TO_ALAW;
  if (from === KIND_PCMA && to === KIND_PCMU) return ALAW_TO_ULAW;
  return null;
}
