/**
 * When a relayed leg goes on the io's relay fast path (PortPair.relay, native io only):
 * the io then rewrites, sends and counts that leg's in-order RTP itself, continuing the
 * source's reception statistics (RFC 3550 A.1, A.8) from where the leg's left them. The
 * worker core asks for a route after the packet path has relayed a packet (`tryInstall`),
 * takes the counts into both legs before it reads them (`takeCounts`: each sweep and
 * stats request), and takes the route back (`release`: the listener's OutboundStream
 * continues from the io's final sequence/timestamp, RFC 3550 §5.1 continuity, and the
 * counts come with it) before anything that changes what the route depends on: a command
 * on either leg, a new latch, a packet the io left to JavaScript (DTMF, RTCP on the RTP
 * port, a new segment).
 *
 * A recorded source's route taps what it relays (RelayRoute.tap): the worker takes those
 * datagrams at each sweep, before the recordings are written, and when the route is taken
 * back, and queues their payloads for the recording as the JavaScript path would
 * (relay.ts `tapRelayed`), with their arrival times. A recording the io keeps itself
 * (nativePacketRecorder.ts) is not tapped: the route places into it as it relays
 * (RelayRoute.recorder).
 *
 * A source the room's mix hears as well (a monitored call: the supervisor hears both
 * parties, each of whom is relayed to the other) is tapped the same way, and the worker
 * takes the tap before each frame of its clock and decodes each payload into the source's
 * jitter buffer at its arrival time (relay.ts `tapToMix`), as the packet path would have
 * when it arrived: the frame pops the same audio, and the relayed party no longer waits
 * for the worker's frames and sweeps.
 *
 * Eligible (conservative): a source with exactly one relayed listener, latched on IPv4
 * and receiving with valid reception statistics; the listener sending to a known
 * endpoint, fed by relay from this source alone (not the mix: no tone or prompt plays to
 * it) with its stream in a segment of this source. Room members qualify like any legs: an
 * unmonitored call is a room of two such relays (workerRoom.ts). A command naming the
 * room or its legs takes the routes back first (WorkerCore), and so does the room itself
 * before it changes its members' paths on its own (`RoomHost.releaseRoutes`: a recording
 * whose file was being opened starts, a tone or prompt ends). Only payload types at the
 * statistics' clock rate are relayed there (another one starts new statistics,
 * WorkerLeg.observe).
 */
import {
  RC_BYTES,
  RC_LAST_MS,
  RC_PACKETS,
  RC_PAYLOAD_BYTES,
  RC_RECEPTION,
  RELAY_COUNT_FIELDS,
  RELAY_STATE_FIELDS,
} from '../io/packetIo.js';
import type { PacketIo, PortPair } from '../io/packetIo.js';

/** CALLWATCH_RELAY_FASTPATH=0 keeps every packet on the JavaScript path (A/B benches). */
const ENABLED = process.env.CALLWATCH_RELAY_FASTPATH !== '0';
import { RECORD_ALAW, RECORD_JS, RECORD_NONE, RECORD_ULAW } from '../io/packetIo.js';
import { KIND_NONE, KIND_PCMA, KIND_PCMU, KIND_TELEPHONE_EVENT } from './payloadMap.js';
import type { PayloadMap } from './payloadMap.js';
import { tapRelayed, tapToMix } from './relay.js';
import type { WorkerLeg } from './workerLeg.js';

export class FastRelay {
  private readonly state = new Float64Array(RELAY_STATE_FIELDS);
  private readonly counts = new Float64Array(RELAY_COUNT_FIELDS);
  private readonly payloadTypes = new Int16Array(128);
  private readonly apply = (pair: PortPair, counts: Float64Array): void => {
    const source = this.legOfPair.get(pair);
    if (source !== undefined && source.fastTo !== null) this.count(source, source.fastTo, counts);
  };
  private readonly record = (pair: PortPair, packet: Buffer, length: number, at: number): void => {
    const source = this.legOfPair.get(pair);
    if (source === undefined) return;
    if (source.fastTapRecords) tapRelayed(source, packet, length, at);
    if (source.fastTapMixes) tapToMix(source, packet, length, at);
  };
  /** Routes that tap their source, for its recording or its room's mix (live). */
  private tapped = 0;
  /** Of those, routes whose source a mix hears: their taps are taken before each frame. */
  private mixTapped = 0;
  /** Routes set and taken back (tests, stats). */
  installed = 0;
  released = 0;
  /** RTP packets the routes relayed, as far as their counts were taken. */
  packets = 0;

  constructor(
    private readonly io: PacketIo,
    /** The worker's open legs by their pair (WorkerCore owns it). */
    private readonly legOfPair: ReadonlyMap<PortPair, WorkerLeg>,
  ) {}

  /** Takes `source`'s route back, if it has one: its listener's stream continues from it. */
  release(source: WorkerLeg): void {
    const listener = source.fastTo;
    if (listener === null) return;
    source.fastTo = null;
    this.released++;
    const unrelayed = source.pair.unrelay?.(this.state, this.counts) === true;
    if (source.fastTapped) {
      // What the route tapped goes to the recording and the jitter buffer before anything
      // the JavaScript path queues from now on (the route is gone: nothing more comes into
      // the tap from it).
      source.fastTapped = false;
      this.tapped--;
      if (source.fastTapMixes) this.mixTapped--;
      this.io.takeTapped?.(this.record);
      source.fastTapRecords = false;
      source.fastTapMixes = false;
    }
    if (unrelayed) {
      listener.outbound.importSegment(this.state);
      this.count(source, listener, this.counts);
    }
  }

  private count(source: WorkerLeg, listener: WorkerLeg, counts: Float64Array): void {
    this.packets += counts[RC_PACKETS]!;
    countInto(source, listener, counts);
  }

  /** Adds what every route relayed since the last take to its legs (before reading them). */
  takeCounts(): void {
    if (this.installed !== this.released) this.io.takeRelayCounts?.(this.apply);
    if (this.tapped > 0) this.io.takeTapped?.(this.record);
  }

  /**
   * Before a frame: what the routes of mixed sources relayed since the last take goes into
   * their jitter buffers (and the recordings' taps with it), so the frame pops it as it
   * would have had the JavaScript path received it.
   */
  takeForFrame(): void {
    if (this.mixTapped > 0) this.io.takeTapped?.(this.record);
  }

  /** Takes back every route `leg` is in: as the source, and the one feeding it. */
  releaseAround(leg: WorkerLeg): void {
    this.release(leg);
    for (const source of leg.sources) this.release(source);
  }

  /**
   * Asks for `source`'s route once the io's current delivery is over (a microtask: before
   * the native io gets its slots back). A later run of the same delivery may still hold a
   * datagram of this source, and a route set before JavaScript has it would relay the
   * source's next datagram ahead of it (RFC 3550 order at the listener).
   */
  installSoon(source: WorkerLeg): void {
    if (!ENABLED || source.pair.relay === undefined || this.pending.has(source)) return;
    this.pending.add(source);
    if (this.pending.size === 1) queueMicrotask(this.installPending);
  }

  private readonly pending = new Set<WorkerLeg>();
  private readonly installPending = (): void => {
    for (const source of this.pending) this.tryInstall(source);
    this.pending.clear();
  };

  /**
   * How the io's recording takes each of the source's payload types (RecordLaw): G.711
   * it decodes itself; any other audio it leaves to JavaScript (the route yields such a
   * packet, and JavaScript decodes it); telephone-event and unknown types are not audio.
   */
  private recordLaw(from: PayloadMap): Uint8Array {
    const law = this.recordLaws;
    for (let pt = 0; pt < 128; pt++) {
      const kind = from.kindOf[pt]!;
      law[pt] =
        kind === KIND_PCMU
          ? RECORD_ULAW
          : kind === KIND_PCMA
            ? RECORD_ALAW
            : kind === KIND_NONE || kind === KIND_TELEPHONE_EVENT
              ? RECORD_NONE
              : RECORD_JS;
    }
    return law;
  }

  private readonly recordLaws = new Uint8Array(128);

  /** Puts `source` on the fast path if it is eligible (see above) and the io can. */
  tryInstall(source: WorkerLeg): void {
    if (!ENABLED || source.fastTo !== null || source.pair.relay === undefined) return;
    if (source.listeners.length !== 1 || !source.latched || !source.receiving) return;
    const inbound = source.inbound;
    if (inbound === null || !inbound.exportRelay(this.counts, RC_RECEPTION)) return;
    // A recording the io keeps is placed by the route itself; any other is tapped. A
    // source the room's mix hears is tapped too: its payloads reach its jitter buffer
    // before each frame (takeForFrame), while its relayed listener no longer waits for
    // the worker's turn.
    const ioRecording = source.recordTap?.ioRecording ?? 0;
    const tapRecords = source.recordTap !== null && ioRecording === 0;
    const tapMixes = source.jitter !== null;
    const tap = tapRecords || tapMixes;
    if (tap && this.io.takeTapped === undefined) return;
    const listener = source.listeners[0]!;
    if (listener.mixListener >= 0 || !listener.sending || listener.destPort === 0) return;
    // A WebRTC listener protects what it sends (media/secure/securePair.ts): not here.
    if (listener.pair.relay === undefined) return;
    if (listener.sources.length !== 1 || listener.closed || source.closed) return;
    if (listener.outbound.sourceId !== source.id) return;
    if (!listener.outbound.exportSegment(this.state)) return;
    // The statistics follow one SSRC (WorkerLeg.observe): the segment's source must be it.
    if (this.state[0] !== inbound.ssrc) return;
    const map = this.payloadTypes;
    const from = source.payloads;
    const to = listener.payloads;
    for (let pt = 0; pt < 128; pt++) {
      const kind = from.kindOf[pt]!;
      map[pt] =
        kind === KIND_NONE ||
        kind === KIND_TELEPHONE_EVENT ||
        (from.clockRateOf[pt] || 8000) !== inbound.clockRate
          ? -1
          : to.payloadTypeOf[kind]!;
    }
    const ok = source.pair.relay(
      listener.pair,
      {
        address: listener.destAddress,
        port: listener.destPort,
        sourceAddress: source.latchedAddress,
        sourcePort: source.latchedPort,
        payloadTypes: map,
        tap,
        ...(ioRecording !== 0
          ? { recorder: { id: ioRecording, slot: source.recordSlot, law: this.recordLaw(from) } }
          : {}),
      },
      this.state,
      this.counts,
    );
    if (ok) {
      source.fastTo = listener;
      this.installed++;
      if (tap) {
        source.fastTapped = true;
        source.fastTapRecords = tapRecords;
        source.fastTapMixes = tapMixes;
        this.tapped++;
        if (tapMixes) this.mixTapped++;
      }
    }
  }
}

/**
 * A route's counts into its legs, as the JavaScript path counts each relayed packet
 * (relay.ts): the source received them, the listener sent them, and the source's
 * reception statistics continue from the route's.
 */
function countInto(source: WorkerLeg, listener: WorkerLeg, counts: Float64Array): void {
  const packets = counts[RC_PACKETS]!;
  const bytes = counts[RC_BYTES]!;
  const lastMs = counts[RC_LAST_MS]!;
  const c = source.counters;
  c.packetsIn += packets;
  c.bytesIn += bytes;
  c.rtpIn += packets;
  source.inbound?.importRelay(counts, RC_RECEPTION);
  const lc = listener.counters;
  lc.packetsOut += packets;
  lc.bytesOut += bytes;
  listener.payloadOctetsOut += counts[RC_PAYLOAD_BYTES]!;
  if (lastMs >= 0) {
    source.lastRtpMs = lastMs;
    if (source.armedMs < 0) source.armedMs = lastMs;
    listener.lastSentMs = lastMs;
  }
}
