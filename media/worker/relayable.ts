/**
 * Whether a listener can be fed a source by relay (the packet path: each packet
 * forwarded as it arrives, its payload type mapped, transcoded only by an in-place table)
 * rather than from the room's mix. The packet path can do that when every audio codec the
 * source may send is one the listener negotiated (RFC 3264 §5.1: an endpoint accepts
 * every codec it listed) or one with a table into what the listener is sent
 * (`transcodeTable`). Anything else needs decoding and encoding: the mix.
 *
 * Generic over PayloadMap: it iterates the payload kinds, it names no codec.
 */
import { KIND_NONE, KIND_TELEPHONE_EVENT, transcodeTable } from './payloadMap.js';
import type { PayloadMap } from './payloadMap.js';

export function canRelay(source: PayloadMap, listener: PayloadMap): boolean {
  const kinds = source.payloadTypeOf.length;
  for (let kind = 0; kind < kinds; kind++) {
    if (kind === KIND_NONE || kind === KIND_TELEPHONE_EVENT) continue;
    if (source.payloadTypeOf[kind]! < 0) continue;
    if ((listener.payloadTypeOf[kind] ?? -1) >= 0) continue;
    if (transcodeTable(kind, listener.sendKind) !== null) continue;
    return false;
  }
  return true;
}
