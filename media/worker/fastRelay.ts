/**
 * When a relayed leg goes on the io's relay fast path (PortPair.relay, native io only):
 * the io then rewrites and sends that leg's in-order RTP itself, and still hands each
 * datagram to the worker marked as relayed, which only counts it (relay.ts
 * `relayedRtp`). The worker core asks for a route after the packet path has relayed a
 * packet (`tryInstall`), and takes it back (`release`: the listener's OutboundStream
 * continues from the io's final sequence/timestamp, RFC 3550 §5.1 continuity) before
 * anything that changes what the route depends on: a command on either leg, a new latch,
 * a packet the io left to JavaScript (DTMF, RTCP on the RTP port, a new segment).
 *
 * Eligible (conservative): a source with exactly one listener, both outside rooms (the
 * room's mix, recording tap and tones keep to the JavaScript path), the source latched
 * on IPv4 and receiving, the listener sending to a known endpoint with this source as its
 * only feed and its stream in a segment of this source.
 */
import { RELAY_STATE_FIELDS } from '../io/packetIo.js';

/** CALLWATCH_RELAY_FASTPATH=0 keeps every packet on the JavaScript path (A/B benches). */
const ENABLED = process.env.CALLWATCH_RELAY_FASTPATH !== '0';
import { KIND_NONE, KIND_TELEPHONE_EVENT } from './payloadMap.js';
import type { WorkerLeg } from './workerLeg.js';

export class FastRelay {
  private readonly state = new Float64Array(RELAY_STATE_FIELDS);
  private readonly payloadTypes = new Int16Array(128);
  /** Routes set and taken back (tests, stats). */
  installed = 0;
  released = 0;

  /** Takes `source`'s route back, if it has one: its listener's stream continues from it. */
  release(source: WorkerLeg): void {
    const listener = source.fastTo;
    if (listener === null) return;
    source.fastTo = null;
    this.released++;
    if (source.pair.unrelay?.(this.state) === true) listener.outbound.importSegment(this.state);
  }

  /** Takes back every route `leg` is in: as the source, and the one feeding it. */
  releaseAround(leg: WorkerLeg): void {
    this.release(leg);
    for (const source of leg.sources) this.release(source);
  }

  /** Puts `source` on the fast path if it is eligible (see above) and the io can. */
  tryInstall(source: WorkerLeg): void {
    if (!ENABLED || source.fastTo !== null || source.pair.relay === undefined) return;
    if (source.listeners.length !== 1 || !source.latched || !source.receiving) return;
    if (source.roomId !== 0 || source.jitter !== null || source.recordTap !== null) return;
    const listener = source.listeners[0]!;
    if (listener.roomId !== 0 || !listener.sending || listener.destPort === 0) return;
    // A WebRTC listener protects what it sends (media/secure/securePair.ts): not here.
    if (listener.pair.relay === undefined) return;
    if (listener.sources.length !== 1 || listener.closed || source.closed) return;
    if (listener.outbound.sourceId !== source.id) return;
    if (!listener.outbound.exportSegment(this.state)) return;
    const map = this.payloadTypes;
    const from = source.payloads;
    const to = listener.payloads;
    for (let pt = 0; pt < 128; pt++) {
      const kind = from.kindOf[pt]!;
      map[pt] = kind === KIND_NONE || kind === KIND_TELEPHONE_EVENT ? -1 : to.payloadTypeOf[kind]!;
    }
    const ok = source.pair.relay(
      listener.pair,
      {
        address: listener.destAddress,
        port: listener.destPort,
        sourceAddress: source.latchedAddress,
        sourcePort: source.latchedPort,
        payloadTypes: map,
      },
      this.state,
    );
    if (ok) {
      source.fastTo = listener;
      this.installed++;
    }
  }
}
