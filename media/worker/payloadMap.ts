/**
 * A leg's negotiated payload types as lookup tables for the packet path: payload type →
 * what it carries (a codec or RFC 4733 telephone-event), and codec → the payload type the
 * leg expects for it. Between legs the payload type is mapped (each leg has its own
 * numbering, RFC 3264 §6.1). A listener that negotiated the source's codec is sent it as
 * is (RFC 3264 §5.1: an endpoint must accept every codec it listed); G.711 is transcoded
 * µ-law ↔ A-law in place when the listener lacks the source's law; any other codec a
 * listener lacks cannot be relayed (transcodeTable gives null: the packet is dropped and
 * counted, and the room must feed such a listener from its mix).
 *
 * A map is read-only once built (the packet path only reads it): `PayloadMap.of` shares one
 * between the legs that negotiated alike.
 *
 * Kinds are generic: KIND_NONE, then one per codec of CODEC_NAMES in its order, then
 * telephone-event.
 */
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from '../codecs/g711.js';
import { CODEC_NAMES, type CodecName } from '../codecs/codec.js';
import { codecOf, hasCodec } from '../codecs/table.js';
import type { CodecSpec, TelephoneEventSpec } from './protocol.js';

/** What a payload type carries: 0 none, 1..CODEC_NAMES.length a codec, then DTMF. */
export type PayloadKind = number;

export const KIND_NONE = 0;

export const KIND_OF_CODEC: Readonly<Record<CodecName, PayloadKind>> = Object.fromEntries(
  CODEC_NAMES.map((name, i) => [name, i + 1]),
) as Record<CodecName, PayloadKind>;

/** The codec of each kind (undefined for KIND_NONE and telephone-event). */
export const CODEC_OF_KIND: ReadonlyArray<CodecName | undefined> = [undefined, ...CODEC_NAMES];

export const KIND_PCMU = KIND_OF_CODEC.PCMU;
export const KIND_PCMA = KIND_OF_CODEC.PCMA;
export const KIND_TELEPHONE_EVENT: PayloadKind = CODEC_NAMES.length + 1;
/** Size of per-kind tables. */
export const KIND_COUNT = KIND_TELEPHONE_EVENT + 1;

/** Maps kept for reuse (see `PayloadMap.of`), by their negotiation; cleared when full. */
const SHARED = new Map<string, PayloadMap>();
const SHARED_MAX = 256;

export class PayloadMap {
  /** Payload type (0–127) → kind. */
  readonly kindOf = new Uint8Array(128);
  /** Kind → this leg's payload type for it, -1 when not negotiated. */
  readonly payloadTypeOf = new Int16Array(KIND_COUNT).fill(-1);
  /** The preferred codec: what the leg is sent when it lacks the source's codec. */
  readonly sendKind: PayloadKind;
  /** The preferred codec's name. */
  readonly sendCodec: CodecName;
  /** telephone-event's RTP clock rate (its codec's, RFC 4733 §2.1); 0 when none. */
  readonly telephoneEventClockRate: number;
  /** The RTP clock rate of each negotiated payload type (0: not negotiated). */
  readonly clockRateOf = new Int32Array(128);
  /** The send codec's RTP clock rate (the leg's outbound stream runs on it). */
  readonly sendClockRate: number;

  constructor(codecs: readonly CodecSpec[], telephoneEvent: TelephoneEventSpec | null) {
    for (let i = codecs.length - 1; i >= 0; i--) {
      const c = codecs[i]!;
      const kind = KIND_OF_CODEC[c.name];
      this.kindOf[c.payloadType] = kind;
      this.payloadTypeOf[kind] = c.payloadType; // the earliest listed wins
      this.clockRateOf[c.payloadType] = rtpClockOf(c.name);
    }
    if (telephoneEvent !== null) {
      this.kindOf[telephoneEvent.payloadType] = KIND_TELEPHONE_EVENT;
      this.payloadTypeOf[KIND_TELEPHONE_EVENT] = telephoneEvent.payloadType;
    }
    this.telephoneEventClockRate = telephoneEvent === null ? 0 : (telephoneEvent.clockRate ?? 8000);
    if (telephoneEvent !== null) {
      this.clockRateOf[telephoneEvent.payloadType] = this.telephoneEventClockRate;
    }
    this.sendCodec = codecs[0]!.name;
    this.sendKind = KIND_OF_CODEC[this.sendCodec];
    this.sendClockRate = rtpClockOf(this.sendCodec);
  }

  /**
   * The map of this negotiation, shared by every leg that negotiated the same: a map is
   * never written after its constructor, and most calls negotiate alike, so a leg's
   * create and each offer/answer take a built one instead of three new typed arrays
   * (off the heap, each a backing store the garbage collector tracks).
   */
  static of(codecs: readonly CodecSpec[], telephoneEvent: TelephoneEventSpec | null): PayloadMap {
    let key =
      telephoneEvent === null
        ? '-'
        : `${telephoneEvent.payloadType}/${telephoneEvent.clockRate ?? 8000}`;
    for (const c of codecs) key += `,${c.payloadType}:${c.name}`;
    let map = SHARED.get(key);
    if (map === undefined) {
      map = new PayloadMap(codecs, telephoneEvent);
      if (SHARED.size >= SHARED_MAX) SHARED.clear();
      SHARED.set(key, map);
    }
    return map;
  }

  /** Whether the leg negotiated the codec of `kind` (a payload it can be sent as is). */
  has(kind: PayloadKind): boolean {
    return this.payloadTypeOf[kind]! >= 0;
  }
}

/**
 * The in-place table turning `from` into `to` (G.711 only: one byte per sample both
 * ways), or null when there is none: equal kinds need none, any other pair cannot be
 * done in place.
 */
export function transcodeTable(from: number, to: number): Uint8Array | null {
  if (from === KIND_PCMU && to === KIND_PCMA) return ULAW_TO_ALAW;
  if (from === KIND_PCMA && to === KIND_PCMU) return ALAW_TO_ULAW;
  return null;
}

/** A codec's RTP clock rate; 8000 for one this build of the engine lacks. */
function rtpClockOf(name: CodecName): number {
  return hasCodec(name) ? codecOf(name).rtpClockRate : 8000;
}
