/**
 * One call as a room, inside the worker that anchors its legs (docs/architecture.md, the
 * room). The room holds its members with their routes (who hears whom, at which gain),
 * the recording's two tracks, the tones being played and the recording tap, and turns
 * them into feeds whenever any of them changes (`reroute`, control plane: allocates
 * freely). The 20 ms work happens in `frame`, on the worker's clock (hot path: allocates
 * nothing). The room knows no roles or modes: the routes are the caller's policy
 * (src/monitoring/routeMatrix.ts).
 *
 * planMix (mixer/mixFrame.ts) sorts every listener into one of three feeds:
 * - relay: it hears exactly one leg, at gain 1, whose codecs it can take on the packet
 *   path (relayable.ts) — the packet path forwards that leg's packets as they arrive
 *   (rewritten for continuity, G.711 transcoded by table only if codecs differ), no
 *   jitter buffer, no added delay. An unmonitored call is two relays and costs no mixing.
 * - mix: it hears two or more sources, one at a gain ≠ 1, one it cannot relay, or only a
 *   tone — the clock sends it one frame every 20 ms from the (weighted) sum of its
 *   sources' jitter-buffered audio (clamped), encoded once per distinct (audible set,
 *   codec) and shared. Frames go out even when nobody is talking (a whisper is heard
 *   while agent and customer are silent or on hold).
 * - none: it hears nobody (a released agent).
 * Every feed goes through the listener's OutboundStream, so the stream the phone receives
 * keeps one SSRC and contiguous sequence numbers across every switch. The mixer is one
 * source per room: it numbers the frames it sends to a listener contiguously
 * (`mixSequence`) and stamps them with the frame index × the listener codec's RTP ticks
 * per frame (160 for G.711 and G.722, 960 for Opus), so a frame it does not send (the
 * listener's direction refuses media) reads as a pause, not as loss.
 *
 * Rate. The room mixes at 16 kHz (320-sample frames) when any member is sent a wideband
 * codec (the codec table's `wideband`: G.722, Opus), else at 8 kHz (160 samples: half the
 * cost, nothing above 4 kHz to keep); re-evaluated on every reroute and codec change
 * (legCodecs.ts `roomRate`). Each source decodes with its own decoder and, if its rate
 * differs from the room's, converts through its own resampler (sourceAudio.ts); each
 * shared encode (set × codec) owns its encoder and, if the codec's rate differs, its own
 * resampler (encodeSlot.ts); tones are generated at the room's rate.
 * A member's codecs changing reroutes the room (`reroute`): relay may become mix or back.
 *
 * A leg's audio is decoded into its jitter buffer only while a mix listener uses it. A
 * source that starts being used gets a fresh buffer, so audio from before a route change
 * is never replayed; a route change applies on the next frame.
 *
 * Prompts (announcements, hold audio: docs/architecture.md §6.9) are sources like tones:
 * a PromptSource pulled once per frame and mixed into the named legs' audio, played once
 * (the host is told when it ends) or looped until stopped. A relayed leg that hears one
 * is a mix listener while it plays, so its stream stays one (its OutboundStream).
 *
 * The recording tap hears the legs of its two tracks only (never a tone or a prompt): track 0 left,
 * track 1 right, each the clamped sum of its legs. It is fed from the packets the relay
 * already handles (roomRecording.ts), never from the frame clock: a recorded call that
 * nobody monitors is two relays and no clock.
 */
import { JitterBuffer } from '../mixer/jitterBuffer.js';
import { mixFrame, planMix } from '../mixer/mixFrame.js';
import type { MixPlan } from '../mixer/mixFrame.js';
import {
  RTP_HEADER_SIZE,
  rtpPayloadEnd,
  rtpPayloadOffset,
  rtpTimestamp,
  writeRtpHeader,
  writeRtpPayloadType,
  writeRtpSequence,
  writeRtpSsrc,
  writeRtpTimestamp,
} from '../rtp/rtpHeader.js';
import type { IoRecorders } from '../io/packetIo.js';
import type { CreateRecordingFile } from '../recording/recordingFile.js';
import { ToneGenerator } from '../tones/toneGenerator.js';
import { PromptSource } from '../tones/promptSource.js';
import type { PromptAudio } from '../prompts/promptWav.js';
import { performance } from 'node:perf_hooks';
import { EncodeSlot } from './encodeSlot.js';
import {
  codecOfKind,
  eventClockRate,
  NARROWBAND_RATE,
  rescaleEventDurations,
  roomRate,
} from './legCodecs.js';
import { KIND_TELEPHONE_EVENT } from './payloadMap.js';
import type {
  PromptEndReason,
  RecordingConfig,
  RecordingStarted,
  RecordingSummary,
  ToneConfig,
} from './protocol.js';
import { canRelay } from './relayable.js';
import { RoomRecording } from './roomRecording.js';
import { SourceAudio } from './sourceAudio.js';
import type { WorkerLeg } from './workerLeg.js';

/** The input SSRC of every room's mixer ("MIXR"); the source id tells rooms apart. */
const MIXER_SSRC = 0x4d495852;
/** A silent frame at any mix rate (up to 16 kHz). */
const SILENCE = new Int16Array(320);
/** Encode slots per key: one per PayloadMap kind (more than there are kinds). */
const KIND_STRIDE = 16;

/** A member and the members it hears, each at a linear gain (validated: not itself). */
export interface RoomMember {
  leg: WorkerLeg;
  hears: { leg: WorkerLeg; gain: number }[];
}

/** The legs summed into recording track 0 (left) and track 1 (right). */
export type RoomTracks = [WorkerLeg[], WorkerLeg[]];

/** A tone or a prompt: 20 ms frames at the room's rate, pulled by the clock (null: done). */
interface FrameSource {
  next(): Int16Array | null;
  atRate(sampleRate: number, frameSamples: number): FrameSource;
}

interface ActiveTone {
  generator: FrameSource;
  /** The legs it plays to (a leg that leaves the room leaves this set). */
  to: Set<WorkerLeg>;
  done: boolean;
  /** A prompt's playback id (reported when it ends); 0 for a tone. */
  playId: number;
}

/** What the room needs from the worker core. */
export interface RoomHost {
  /** Feeds `listener` by relay from `sources` (at most one) — the packet path's routes. */
  relay(listener: WorkerLeg, sources: WorkerLeg[]): void;
  jitterOptions: { minDepthMs: number; maxDepthMs: number };
  /** Totals of jitter buffers the room discards (so worker stats stay monotonic). */
  retireJitter(buffer: JitterBuffer): void;
  /** The lowest mix rate (Hz): 8000 (default) mixes narrowband rooms at 8 kHz; 16000 forces wideband. */
  minMixRate?: number;
  /**
   * A recording finished closing: its bytes and whether an error cut it short, for the
   * worker's totals. Called in the same turn the room stops counting it (no dip).
   */
  retireRecording(bytes: number, failed: boolean, corrupt: number): void;
  /** Creates a recording's file (the recording writer thread's client; node:fs when absent). */
  createRecordingFile?: CreateRecordingFile;
  /** A prompt's playback ended (once per playback, whatever the reason). */
  promptEnded?(roomId: number, playId: number, reason: PromptEndReason): void;
  /**
   * Takes back the relay fast path's routes to and from `members` (WorkerCore, fastRelay.ts):
   * called before the room changes their paths, also on changes no command names (a
   * recording whose file was being opened starts, a tone or prompt ends).
   */
  releaseRoutes?(members: readonly RoomMember[]): void;
  /** The io's own recordings (the native io; nativePacketRecorder.ts), when it keeps them. */
  ioRecorders?: IoRecorders;
}

/** Frame counters the worker sums into its mixer stats. */
export interface RoomCounters {
  framesMixed: number;
  /** Source payloads a decoder found corrupt (concealed instead). */
  framesCorrupt: number;
}

export class WorkerRoom {
  members: RoomMember[] = [];
  tracks: RoomTracks = [[], []];
  readonly counters: RoomCounters = { framesMixed: 0, framesCorrupt: 0 };
  /** The mix rate (Hz) and its 20 ms frame (samples), set by reroute(). */
  rate = NARROWBAND_RATE;
  frameSamples = 160;
  private tones: ActiveTone[] = [];
  private recorder: RoomRecording | null = null;
  /** Stopped recordings still writing their last block (counted until retired). */
  private readonly closingRecorders = new Set<RoomRecording>();

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
  /** Shared encodes: per (set or direct source) × payload kind, key · KIND_STRIDE + kind. */
  private slots: (EncodeSlot | undefined)[] = [];
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

  /** A recording the native io keeps (see RoomRecording.keptByIo). */
  get recordingKeptByIo(): boolean {
    return this.recorder?.keptByIo ?? false;
  }

  /** Audio bytes of the recording and of recordings still closing. */
  get recordingBytes(): number {
    let bytes = this.recorder?.bytes ?? 0;
    for (const r of this.closingRecorders) bytes += r.bytes;
    return bytes;
  }

  /** Corrupt payloads of the recording and of recordings still closing. */
  get recordingCorrupt(): number {
    let corrupt = this.recorder?.corrupt ?? 0;
    for (const r of this.closingRecorders) corrupt += r.corrupt;
    return corrupt;
  }

  /** Recordings (the current one, those still closing) an error has cut short: 0 or more. */
  get recordingErrors(): number {
    let errors = this.recorder?.error ? 1 : 0;
    for (const r of this.closingRecorders) if (r.error) errors++;
    return errors;
  }

  /**
   * Replaces the membership, routes and recording tracks and reroutes (throws
   * RangeError on routes naming a leg outside `members`, leaving the room as it was).
   */
  setMembers(members: RoomMember[], tracks: RoomTracks = [[], []]): void {
    const legs = new Set(members.map((m) => m.leg));
    for (const m of members) {
      for (const h of m.hears) {
        if (h.leg === m.leg || !legs.has(h.leg)) {
          throw new RangeError(`leg ${m.leg.id} cannot hear leg ${h.leg.id}`);
        }
      }
    }
    for (const track of tracks) {
      for (const leg of track) {
        if (!legs.has(leg)) throw new RangeError(`leg ${leg.id} is recorded but not a member`);
      }
    }
    const previous = this.members;
    const previousTracks = this.tracks;
    this.host.releaseRoutes?.(previous);
    this.members = members;
    this.tracks = tracks;
    try {
      this.reroute();
    } catch (error) {
      this.members = previous;
      this.tracks = previousTracks;
      throw error;
    }
    for (const old of previous) {
      if (!members.some((m) => m.leg === old.leg)) this.release(old.leg);
    }
    const count = this.tones.length;
    this.dropListeners();
    if (this.tones.length !== count) this.reroute();
  }

  /** A member's leg closed: it leaves the room (and every tone and prompt). */
  removeLeg(leg: WorkerLeg): void {
    if (!this.members.some((m) => m.leg === leg)) return;
    this.members = this.members
      .filter((m) => m.leg !== leg)
      .map((m) => ({ leg: m.leg, hears: m.hears.filter((h) => h.leg !== leg) }));
    this.tracks = [
      this.tracks[0].filter((l) => l !== leg),
      this.tracks[1].filter((l) => l !== leg),
    ];
    this.dropListeners();
    this.release(leg);
    this.reroute();
  }

  /** Tones and prompts forget legs no longer members; those left with none end ('left'). */
  private dropListeners(): void {
    const legs = new Set(this.members.map((m) => m.leg));
    for (const tone of this.tones) {
      for (const leg of tone.to) if (!legs.has(leg)) tone.to.delete(leg);
    }
    this.retire(
      this.tones.filter((t) => t.to.size === 0),
      'left',
    );
  }

  /** Ends `ended` (tones and prompts of this room), reporting each prompt once. */
  private retire(ended: readonly ActiveTone[], reason: PromptEndReason): void {
    if (ended.length === 0) return;
    this.tones = this.tones.filter((t) => !ended.includes(t));
    for (const t of ended) {
      t.done = true;
      if (t.playId !== 0) this.host.promptEnded?.(this.id, t.playId, reason);
    }
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
    // A route the fast path set up while the file was opened carries no tap: it goes
    // before the taps are attached, so what arrives from then on is recorded.
    const recorder = await RoomRecording.open(
      config,
      this.tracks,
      () => performance.now(),
      this.host.createRecordingFile,
      () => this.host.releaseRoutes?.(this.members),
      this.host.ioRecorders,
    );
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
    this.host.retireRecording(summary.bytes, summary.error !== null, recorder.corrupt);
    return summary;
  }

  playTone(legs: WorkerLeg[], config: ToneConfig): void {
    for (const leg of legs) {
      if (!this.members.some((m) => m.leg === leg)) {
        throw new RangeError(`leg ${leg.id} is not in room ${this.id}`);
      }
    }
    if (legs.length === 0) return;
    this.tones.push({
      generator: new ToneGenerator(config, this.rate, this.frameSamples),
      to: new Set(legs),
      done: false,
      playId: 0,
    });
    this.reroute();
  }

  /**
   * Plays `audio` into the outbound audio of `legs` (members), once or looped, as playback
   * `playId` (unique in this room; its end is reported to the host). Throws a RangeError
   * for a leg outside the room or a playback id in use.
   */
  playPrompt(legs: WorkerLeg[], audio: PromptAudio, loop: boolean, playId: number): void {
    for (const leg of legs) {
      if (!this.members.some((m) => m.leg === leg)) {
        throw new RangeError(`leg ${leg.id} is not in room ${this.id}`);
      }
    }
    if (this.tones.some((t) => t.playId === playId)) {
      throw new RangeError(`playback ${playId} is already playing in room ${this.id}`);
    }
    if (this.closed) throw new RangeError(`room ${this.id} is closed`);
    const playback: ActiveTone = {
      generator: new PromptSource(audio, loop, this.rate, this.frameSamples),
      to: new Set(legs),
      done: false,
      playId,
    };
    this.tones.push(playback);
    if (legs.length === 0) {
      this.retire([playback], 'left');
      return;
    }
    this.reroute();
  }

  /** Stops playback `playId` (reported 'stopped'); nothing if it already ended. */
  stopPrompt(playId: number): void {
    const playback = this.tones.find((t) => t.playId === playId);
    if (playback === undefined) return;
    this.retire([playback], 'stopped');
    this.reroute();
  }

  /** Unroutes every member and stops the recording; the legs stay open. */
  async close(): Promise<RecordingSummary | null> {
    this.closed = true;
    const members = this.members;
    this.members = [];
    this.tracks = [[], []];
    this.retire([...this.tones], 'closed');
    for (const m of members) this.release(m.leg);
    // A recording still being opened must close its file before the worker may end: a
    // worker terminated first would leave the descriptor open in the process.
    await this.opening;
    const summary = await this.stopRecording();
    this.reroute();
    return summary;
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
    leg.audio?.close();
    leg.audio = null;
    if (leg.jitter === null) return;
    this.host.retireJitter(leg.jitter);
    leg.jitter = null;
  }

  /** The room uses `leg`'s audio: its jitter buffer and decoder, for its send codec. */
  private useSource(leg: WorkerLeg): void {
    leg.jitter ??= new JitterBuffer(this.host.jitterOptions);
    if (leg.audio === null) {
      leg.audio = new SourceAudio(this.counters);
      leg.audio.prepare(leg.payloads.sendKind, leg.jitter);
    }
  }

  /**
   * The mix rate for the current members; tones carry over to it (one that no longer
   * fits the rate, above 4 kHz in a narrowband room, ends).
   */
  private updateRate(): void {
    const rate = roomRate(
      this.members.map((m) => m.leg),
      this.host.minMixRate,
    );
    if (rate === this.rate) return;
    this.rate = rate;
    this.frameSamples = rate / 50;
    const ended: ActiveTone[] = [];
    for (const tone of this.tones) {
      try {
        tone.generator = tone.generator.atRate(rate, this.frameSamples);
      } catch {
        ended.push(tone);
      }
    }
    this.retire(ended, 'finished');
  }

  /** Recomputes every feed from the routes (also when a member's codecs changed). */
  reroute(): void {
    this.host.releaseRoutes?.(this.members);
    this.updateRate();
    const members = this.members;
    const tones = this.tones;
    const order = members.map((m) => m.leg);
    const sourceCount = members.length + tones.length;
    const gains: number[][] = [];
    const hears = members.map((m, l) => {
      const heard = m.hears.map((h) => order.indexOf(h.leg));
      const gain = m.hears.map((h) => h.gain);
      tones.forEach((tone, t) => {
        if (tone.to.has(m.leg)) {
          heard.push(members.length + t);
          gain.push(1);
        }
      });
      gains[l] = gain;
      return heard;
    });
    const plan = planMix(hears, sourceCount, this.frameSamples, gains);

    const needed = new Array<boolean>(sourceCount).fill(false);
    const mixed: WorkerLeg[] = [];
    const mixedIndex: number[] = [];
    const mixedHears: WorkerLeg[][] = [];
    members.forEach((m, l) => {
      const leg = m.leg;
      leg.roomId = this.id;
      const relay = plan.relaySource[l]!;
      if (
        relay >= 0 &&
        relay < members.length &&
        canRelay(members[relay]!.leg.payloads, leg.payloads)
      ) {
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
    this.recorder?.setTracks(this.tracks);

    members.forEach((m, s) => {
      if (!needed[s]) this.dropJitter(m.leg);
      else this.useSource(m.leg);
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
    this.prepareSlots(keys);
  }

  /** One encode slot per (key, send codec) a mix listener needs; the old ones close. */
  private prepareSlots(keys: number): void {
    const old = this.slots;
    const plan = this.plan!;
    this.slots = new Array<EncodeSlot | undefined>(keys * KIND_STRIDE);
    for (const leg of this.mixed) this.slotFor(plan, leg.mixListener, leg.payloads.sendKind);
    for (const slot of old) slot?.close();
  }

  /** The encode slot of `listener` for `kind` (created if missing), or null (no codec). */
  private slotFor(plan: MixPlan, listener: number, kind: number): EncodeSlot | null {
    const set = plan.mixSet[listener]!;
    const key = set >= 0 ? set : plan.outputs.length + plan.relaySource[listener]!;
    const index = key * KIND_STRIDE + kind;
    let slot = this.slots[index];
    if (slot !== undefined) return slot;
    const codec = codecOfKind(kind);
    if (codec === null || kind >= KIND_STRIDE) return null;
    slot = new EncodeSlot(codec, this.rate);
    this.slots[index] = slot;
    return slot;
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
        const jitter = leg.jitter;
        const audio = leg.audio;
        frames[s] =
          jitter === null || audio === null
            ? null
            : audio.toRoom(jitter.pop(nowMs), jitter.sampleRate, this.rate);
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
      this.retire(
        this.tones.filter((t) => t.done),
        'finished',
      );
      this.reroute();
    }
  }

  /**
   * An RFC 4733 telephone-event from `source` (a member that forwards DTMF), for the
   * listeners fed from the mix that hear it: sent in the mix stream, between its frames,
   * each event's packets sharing the timestamp of the frame current when it began (in the
   * listener's clock, as every mixed frame). When the source's and the listener's
   * telephone-event clocks differ (8000 vs 48000), the duration fields are rescaled.
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
      const from = eventClockRate(source);
      const to = eventClockRate(leg);
      if (from !== to) {
        const end = rtpPayloadEnd(buf, length);
        if (end < 0) {
          c.dropMalformed++;
          continue;
        }
        rescaleEventDurations(buf, rtpPayloadOffset(buf, length), end, from, to);
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
    const slot = this.slots[key * KIND_STRIDE + kind] ?? this.slotFor(plan, listener, kind); // codec change
    if (slot === null) {
      c.dropPayloadType++;
      return;
    }
    slot.encode(pcm, index);
    const length = slot.length;
    const timestamp = (index * slot.codec.rtpTicksPerFrame) >>> 0;
    const buf = leg.ringBuffer();
    writeRtpHeader(
      buf,
      map.payloadTypeOf[kind]!,
      false,
      leg.mixSequence & 0xffff,
      timestamp,
      MIXER_SSRC,
    );
    const payload = slot.payload;
    for (let i = 0, j = RTP_HEADER_SIZE; i < length; i++, j++) buf[j] = payload[i]!;
    if (!leg.outbound.rewrite(buf, -this.id, nowMs)) {
      c.dropStale++;
      return;
    }
    leg.mixSequence++;
    leg.mixTimestamp = timestamp;
    this.counters.framesMixed++;
    leg.sendRtp(buf, RTP_HEADER_SIZE + length, length, nowMs);
  }
}
