/**
 * One call as a room, inside the worker that anchors its legs (docs/architecture.md §6). The room holds
 * the participants (leg, role, supervisor mode), the tones being played and the recording
 * tap, and turns them into routes whenever any of them changes (`reroute`, control plane:
 * allocates freely). The 20 ms work happens in `frame`, on the worker's clock (hot path:
 * allocates nothing).
 *
 * Who hears whom is mixer/routeMatrix.ts; planMix (mixer/mixFrame.ts) then sorts every
 * listener into one of three feeds:
 * - relay: it hears exactly one leg — the packet path forwards that leg's packets as they
 *   arrive (rewritten for continuity, transcoded only if codecs differ), no jitter
 *   buffer, no added delay. An unmonitored call is two relays and costs no mixing.
 * - mix: it hears two or more sources, or only a tone — the clock sends it one frame
 *   every 20 ms from the sum of its sources' jitter-buffered audio (32-bit sum, clamped),
 *   encoded once per distinct (audible set, codec) and shared. Frames go out even when
 *   nobody is talking (a whisper is heard while agent and customer are silent or on hold).
 * - none: it hears nobody (a released agent).
 * Every feed goes through the listener's OutboundStream, so the stream the phone receives
 * keeps one SSRC and contiguous sequence numbers across every switch. The mixer is one
 * source per room: it numbers the frames it sends to a listener contiguously
 * (`mixSequence`) and stamps them with the frame index × 160, so a frame it does not send
 * (the listener's direction refuses media) reads as a pause, not as loss.
 *
 * A leg's audio is decoded into its jitter buffer only while a mix listener uses it. A
 * source that starts being used gets a fresh buffer, so audio from before a mode change
 * is never replayed; a mode change applies on the next frame.
 *
 * The recording tap hears the customer and the agent seat only (never a supervisor,
 * never a tone); after a takeover the supervisor is the agent seat. It is fed from the
 * packets the relay already handles (roomRecording.ts), never from the frame clock: a
 * recorded call that nobody monitors is two relays and no clock.
 */
import { encodeAlawInto, encodeUlawInto } from '../codecs/g711.js';
import { JitterBuffer } from '../mixer/jitterBuffer.js';
import { mixFrame, planMix } from '../mixer/mixFrame.js';
import type { MixPlan } from '../mixer/mixFrame.js';
import { routeMatrix } from '../mixer/routeMatrix.js';
import {
  RTP_HEADER_SIZE,
  rtpPayloadOffset,
  rtpTimestamp,
  writeRtpHeader,
  writeRtpPayloadType,
  writeRtpSequence,
  writeRtpSsrc,
  writeRtpTimestamp,
} from '../rtp/rtpHeader.js';
import { ToneGenerator } from '../tones/toneGenerator.js';
import { performance } from 'node:perf_hooks';
import { RoomRecording } from './roomRecording.js';
import { KIND_PCMA, KIND_TELEPHONE_EVENT } from './payloadMap.js';
import type {
  MonitorMode,
  RecordingConfig,
  RecordingStarted,
  RecordingSummary,
  RoomRole,
  ToneConfig,
} from './protocol.js';
import type { WorkerLeg } from './workerLeg.js';

/** The input SSRC of every room's mixer ("MIXR"); the source id tells rooms apart. */
const MIXER_SSRC = 0x4d495852;
const SILENCE = new Int16Array(160);

export interface RoomMember {
  leg: WorkerLeg;
  role: RoomRole;
  mode: MonitorMode | undefined;
}

interface ActiveTone {
  generator: ToneGenerator;
  to: ReadonlySet<WorkerLeg>;
  done: boolean;
}

/** What the room needs from the worker core. */
export interface RoomHost {
  /** Feeds `listener` by relay from `sources` (at most one) — the packet path's routes. */
  relay(listener: WorkerLeg, sources: WorkerLeg[]): void;
  jitterOptions: { minDepthMs: number; maxDepthMs: number };
  /** Totals of jitter buffers the room discards (so worker stats stay monotonic). */
  retireJitter(buffer: JitterBuffer): void;
  /**
   * A recording finished closing: its bytes and whether an error cut it short, for the
   * worker's totals. Called in the same turn the room stops counting it (no dip).
   */
  retireRecording(bytes: number, failed: boolean): void;
}

/** Frame counters the worker sums into its mixer stats. */
export interface RoomCounters {
  framesMixed: number;
}

export class WorkerRoom {
  members: RoomMember[] = [];
  readonly counters: RoomCounters = { framesMixed: 0 };
  private tones: ActiveTone[] = [];
  private recorder: RoomRecording | null = null;
  /** Stopped recordings still writing their last block (counted until retired). */
  private readonly closingRecorders = new Set<RoomRecording>();
  /** The legs summed into each recording track (0 left, 1 right), from the routes. */
  private recordTracks: WorkerLeg[][] = [[], []];

  // Derived by reroute(); source index s < members.length is members[s].leg, then tones.
  private plan: MixPlan | null = null;
  private sourceLegs: (WorkerLeg | null)[] = [];
  private sourceTones: (ActiveTone | null)[] = [];
  private needed: boolean[] = [];
  private frames: (Int16Array | null)[] = [];
  /** Listeners fed by the mixer, and per listener its plan index. */
  private mixed: WorkerLeg[] = [];
  private mixedIndex: number[] = [];
  /** Per mixed listener: the legs it hears (telephone-events are forwarded from these). */
  private mixedHears: WorkerLeg[][] = [];
  /** Shared encodes of one frame: per (set or direct source) × codec, with its frame. */
  private encoded: Uint8Array[] = [];
  private encodedFrame: Float64Array = new Float64Array(0);
  private toneFinished = false;
  /** close() ran: nothing may start again (a recording being opened is discarded). */
  private closed = false;
  /** A recording being opened (settles when its file is kept or closed again). */
  private opening: Promise<void> | null = null;

  constructor(
    readonly id: number,
    private readonly host: RoomHost,
  ) {}

  /** The room has per-frame work (a mix listener or a tone; a recording is not one). */
  get clocked(): boolean {
    return this.mixed.length > 0 || this.tones.length > 0;
  }

  get recording(): boolean {
    return this.recorder !== null;
  }

  /** Audio bytes of the recording and of recordings still closing. */
  get recordingBytes(): number {
    let bytes = this.recorder?.bytes ?? 0;
    for (const r of this.closingRecorders) bytes += r.bytes;
    return bytes;
  }

  /** Recordings (the current one, those still closing) an error has cut short: 0 or more. */
  get recordingErrors(): number {
    let errors = this.recorder?.error ? 1 : 0;
    for (const r of this.closingRecorders) if (r.error) errors++;
    return errors;
  }

  /** Replaces the membership and reroutes (throws RangeError on an impossible set). */
  setMembers(members: RoomMember[]): void {
    const previous = this.members;
    this.members = members;
    try {
      this.reroute();
    } catch (error) {
      this.members = previous;
      throw error;
    }
    for (const old of previous) {
      if (!members.some((m) => m.leg === old.leg)) this.release(old.leg);
    }
  }

  /** A member's leg closed: it leaves the room (and every tone). */
  removeLeg(leg: WorkerLeg): void {
    if (!this.members.some((m) => m.leg === leg)) return;
    this.members = this.members.filter((m) => m.leg !== leg);
    this.tones = this.tones.filter((t) => !t.to.has(leg) || t.to.size > 1);
    this.release(leg);
    this.reroute();
  }

  async startRecording(config: RecordingConfig): Promise<RecordingStarted> {
    if (this.recorder !== null || this.opening !== null) {
      throw new RangeError('the room is already recording');
    }
    if (this.closed) throw new RangeError(`room ${this.id} is closed`);
    const opening = this.openRecording(config);
    this.opening = opening.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await opening;
    } finally {
      this.opening = null;
    }
  }

  private async openRecording(config: RecordingConfig): Promise<RecordingStarted> {
    const recorder = await RoomRecording.open(config, this.recordTracks, () => performance.now());
    // The room may have closed while the file was opened: a recorder kept now would hold
    // its file open and never be completed (close() waits for this to finish).
    if (this.closed) {
      await recorder.stop(performance.now());
      throw new RangeError(`room ${this.id} closed`);
    }
    this.recorder = recorder;
    this.reroute();
    return recorder.started;
  }

  /** Writes the recording's packets that arrived (the worker's sweep, off the packet path). */
  drainRecording(nowMs: number): void {
    this.recorder?.drain(nowMs);
  }

  async stopRecording(): Promise<RecordingSummary | null> {
    const recorder = this.recorder;
    if (recorder === null) return null;
    this.recorder = null;
    this.closingRecorders.add(recorder);
    this.reroute();
    const summary = await recorder.stop(performance.now());
    this.closingRecorders.delete(recorder);
    this.host.retireRecording(summary.bytes, summary.error !== null);
    return summary;
  }

  playTone(legs: WorkerLeg[], config: ToneConfig): void {
    for (const leg of legs) {
      if (!this.members.some((m) => m.leg === leg)) {
        throw new RangeError(`leg ${leg.id} is not in room ${this.id}`);
      }
    }
    if (legs.length === 0) return;
    this.tones.push({ generator: new ToneGenerator(config), to: new Set(legs), done: false });
    this.reroute();
  }

  /** Unroutes every member and stops the recording; the legs stay open. */
  async close(): Promise<RecordingSummary | null> {
    this.closed = true;
    const members = this.members;
    this.members = [];
    this.tones = [];
    for (const m of members) this.release(m.leg);
    // A recording still being opened must close its file before the worker may end: a
    // worker terminated first would leave the descriptor open in the process.
    await this.opening;
    const summary = await this.stopRecording();
    this.reroute();
    return summary;
  }

  /** Supervisors by mode (for stats). */
  countModes(into: Record<MonitorMode, number>): void {
    for (const m of this.members) if (m.role === 'supervisor') into[m.mode ?? 'listen']++;
  }

  /** Live jitter buffers (for stats). */
  *jitterBuffers(): Iterable<JitterBuffer> {
    for (const leg of this.sourceLegs) if (leg?.jitter) yield leg.jitter;
  }

  // -------------------------------------------------------------------------------------
  // Routes (control plane)

  private release(leg: WorkerLeg): void {
    if (leg.roomId !== this.id) return;
    leg.roomId = 0;
    leg.mixListener = -1;
    this.recorder?.detach(leg);
    this.dropJitter(leg);
    this.host.relay(leg, []);
  }

  private dropJitter(leg: WorkerLeg): void {
    if (leg.jitter === null) return;
    this.host.retireJitter(leg.jitter);
    leg.jitter = null;
  }

  private reroute(): void {
    const members = this.members;
    const matrix = routeMatrix(
      members.map((m) => ({
        id: String(m.leg.id),
        role: m.role,
        ...(m.mode !== undefined ? { mode: m.mode } : {}),
      })),
    );
    const tones = this.tones;
    const order = members.map((m) => String(m.leg.id));
    const sourceCount = members.length + tones.length;
    const hears = members.map((m) => {
      const heard = (matrix.hears.get(String(m.leg.id)) ?? []).map((id) => order.indexOf(id));
      tones.forEach((tone, t) => {
        if (tone.to.has(m.leg)) heard.push(members.length + t);
      });
      return heard;
    });
    const plan = planMix(hears, sourceCount);

    const needed = new Array<boolean>(sourceCount).fill(false);
    const mixed: WorkerLeg[] = [];
    const mixedIndex: number[] = [];
    const mixedHears: WorkerLeg[][] = [];
    members.forEach((m, l) => {
      const leg = m.leg;
      leg.roomId = this.id;
      const relay = plan.relaySource[l]!;
      if (relay >= 0 && relay < members.length) {
        if (leg.mixListener >= 0 || leg.sources[0] !== members[relay]!.leg) {
          leg.mixListener = -1;
          this.host.relay(leg, [members[relay]!.leg]);
        }
        return;
      }
      if (relay < 0 && plan.mixSet[l]! < 0) {
        // Hears nobody.
        if (leg.mixListener >= 0 || leg.sources.length > 0) {
          leg.mixListener = -1;
          this.host.relay(leg, []);
        }
        return;
      }
      if (leg.mixListener < 0) {
        this.host.relay(leg, []); // clears relay routes and interrupts the stream
      }
      leg.mixListener = l;
      mixed.push(leg);
      mixedIndex.push(l);
      mixedHears.push(hears[l]!.filter((s) => s < members.length).map((s) => members[s]!.leg));
      for (const s of hears[l]!) needed[s] = true;
    });
    const legOf = (id: string): WorkerLeg => members[order.indexOf(id)]!.leg;
    this.setRecordingTracks([
      matrix.recording.customer.map(legOf),
      matrix.recording.agent.map(legOf),
    ]);

    members.forEach((m, s) => {
      if (!needed[s]) this.dropJitter(m.leg);
      else m.leg.jitter ??= new JitterBuffer(this.host.jitterOptions);
    });

    const keys = plan.outputs.length + sourceCount;
    this.plan = plan;
    this.sourceLegs = [...members.map((m) => m.leg), ...tones.map(() => null)];
    this.sourceTones = [...members.map(() => null), ...tones];
    this.needed = needed;
    this.frames = new Array<Int16Array | null>(sourceCount).fill(null);
    this.mixed = mixed;
    this.mixedIndex = mixedIndex;
    this.mixedHears = mixedHears;
    this.encoded = Array.from({ length: keys * 2 }, () => new Uint8Array(160));
    this.encodedFrame = new Float64Array(keys * 2).fill(-1);
  }

  // -------------------------------------------------------------------------------------
  // The frame (hot path)

  /** Frame `index` of the worker's clock, at monotonic `nowMs`. */
  frame(index: number, nowMs: number): void {
    const plan = this.plan;
    if (plan === null) return;
    const frames = this.frames;
    const n = frames.length;
    for (let s = 0; s < n; s++) {
      if (!this.needed[s] && this.sourceTones[s] === null) {
        frames[s] = null;
        continue;
      }
      const leg = this.sourceLegs[s];
      if (leg !== null && leg !== undefined) {
        frames[s] = leg.jitter === null ? null : leg.jitter.pop(nowMs);
        continue;
      }
      const tone = this.sourceTones[s]!;
      const f = tone.done ? null : tone.generator.next();
      if (f === null && !tone.done) {
        tone.done = true;
        this.toneFinished = true;
      }
      frames[s] = f;
    }
    if (plan.outputs.length > 0) mixFrame(plan, frames);
    const mixed = this.mixed;
    for (let i = 0; i < mixed.length; i++)
      this.sendMixed(mixed[i]!, this.mixedIndex[i]!, index, nowMs);
    if (this.toneFinished) {
      this.toneFinished = false;
      this.tones = this.tones.filter((t) => !t.done);
      this.reroute();
    }
  }

  /**
   * The recording's tracks: the legs summed into track 0 (left) and track 1 (right), as
   * the routes say. Legs outside them (supervisors, released legs) feed nothing.
   */
  setRecordingTracks(tracks: WorkerLeg[][]): void {
    this.recordTracks = tracks;
    this.recorder?.setTracks(tracks);
  }

  /**
   * An RFC 4733 telephone-event from `source` (a member that forwards DTMF), for the
   * listeners fed from the mix that hear it: sent in the mix stream, between its frames,
   * each event's packets sharing the timestamp of the frame current when it began.
   * Listeners fed by relay got it from the packet path. Hot path: no allocation.
   */
  forwardEvent(source: WorkerLeg, msg: Buffer, length: number, nowMs: number): void {
    const mixed = this.mixed;
    for (let i = 0; i < mixed.length; i++) {
      const leg = mixed[i]!;
      if (!this.mixedHears[i]!.includes(source)) continue;
      const c = leg.counters;
      if (!leg.sending) {
        c.dropDirection++;
        continue;
      }
      if (leg.destPort === 0) {
        c.dropNoDestination++;
        continue;
      }
      const payloadType = leg.payloads.payloadTypeOf[KIND_TELEPHONE_EVENT]!;
      if (payloadType < 0) {
        c.dropDtmf++;
        continue;
      }
      const buf = leg.scratch(msg, length);
      if (buf === null) {
        c.dropMalformed++;
        continue;
      }
      const inTs = rtpTimestamp(buf);
      if (leg.mixEventSource !== source.id || leg.mixEventInTs !== inTs) {
        leg.mixEventSource = source.id;
        leg.mixEventInTs = inTs;
        leg.mixEventOutTs = leg.mixTimestamp;
      }
      writeRtpSequence(buf, leg.mixSequence & 0xffff);
      writeRtpTimestamp(buf, leg.mixEventOutTs);
      writeRtpSsrc(buf, MIXER_SSRC);
      writeRtpPayloadType(buf, payloadType);
      if (!leg.outbound.rewrite(buf, -this.id, nowMs)) {
        c.dropStale++;
        continue;
      }
      leg.mixSequence++;
      leg.sendRtp(buf, length, length - rtpPayloadOffset(buf, length), nowMs);
    }
  }

  private sendMixed(leg: WorkerLeg, listener: number, index: number, nowMs: number): void {
    const c = leg.counters;
    if (!leg.sending) {
      c.dropDirection++;
      return;
    }
    if (leg.destPort === 0) {
      c.dropNoDestination++;
      return;
    }
    const plan = this.plan!;
    const set = plan.mixSet[listener]!;
    let key: number;
    let pcm: Int16Array;
    if (set >= 0) {
      key = set;
      pcm = plan.outputs[set]!;
    } else {
      const source = plan.relaySource[listener]!;
      key = plan.outputs.length + source;
      pcm = this.frames[source] ?? SILENCE;
    }
    const map = leg.payloads;
    const kind = map.sendKind;
    const slot = key * 2 + (kind === KIND_PCMA ? 1 : 0);
    const payload = this.encoded[slot]!;
    if (this.encodedFrame[slot] !== index) {
      if (kind === KIND_PCMA) encodeAlawInto(pcm, payload, 0, 160);
      else encodeUlawInto(pcm, payload, 0, 160);
      this.encodedFrame[slot] = index;
    }
    const buf = leg.ringBuffer();
    writeRtpHeader(
      buf,
      map.payloadTypeOf[kind]!,
      false,
      leg.mixSequence & 0xffff,
      (index * 160) >>> 0,
      MIXER_SSRC,
    );
    buf.set(payload, RTP_HEADER_SIZE);
    if (!leg.outbound.rewrite(buf, -this.id, nowMs)) {
      c.dropStale++;
      return;
    }
    leg.mixSequence++;
    leg.mixTimestamp = (index * 160) >>> 0;
    this.counters.framesMixed++;
    leg.sendRtp(buf, RTP_HEADER_SIZE + 160, 160, nowMs);
  }
}
