/**
 * One call's room as the main thread sees it (docs/architecture.md, the room): the legs of
 * a call with who hears whom (routes, each at a linear gain), the recording's two tracks,
 * a recording tap and tones, mixed in the worker that anchors the legs
 * (media/worker/workerRoom.ts decides relay or mix). The engine knows no roles or modes:
 * src/monitoring/routeMatrix.ts turns them into routes. Created by
 * MediaEngine.createRoom with the call's group, so it lands on the legs' worker.
 *
 *   const room = await engine.createRoom({ group: callId });
 *   await room.setRoutes({
 *     members: [
 *       { leg: customer, hears: [{ leg: agent, gain: 1 }] },
 *       { leg: agent, hears: [{ leg: customer, gain: 1 }] },
 *     ],
 *     recordingTracks: [[customer], [agent]],
 *   });
 *   await room.startRecording({ path: '/var/lib/callwatch/rec/x.wav', channels: 2 });
 *   await room.playTone([agent], { frequencies: [440], levelDbm0: -13, onMs: 200, offMs: 0, repeat: 1 });
 *   const playback = await room.playPrompt([customer], prompt, { loop: false });  // prompt.ts
 *   const summary = await room.close();   // the recording's path, bytes, frames
 *
 * setRoutes replaces the whole membership at once (the worker applies it before its next
 * frame); a leg that leaves is unrouted, a leg that closes leaves by itself (and every
 * route and track naming it). A leg is in at most one room, and a leg in a room is routed
 * by it only (Leg.setSources refuses). Close is idempotent; afterwards every method
 * rejects with InvalidStateError.
 */
import { InvalidStateError, MediaError } from './errors.js';
import { Leg } from './leg.js';
import type { MediaWorker } from './mediaWorker.js';
import { PromptPlayback } from './prompt.js';
import type { Prompt } from './prompt.js';
import type {
  PromptEndReason,
  RecordingConfig,
  RecordingStarted,
  RecordingSummary,
  ToneConfig,
} from '../worker/protocol.js';
import { checkLegIds, checkRecording, checkRoutes, checkTone } from '../worker/validate.js';

/** A leg a member hears, at a linear gain (1 = unity; finite, 0 < gain ≤ 4). */
export interface RoomHearingSpec {
  leg: Leg;
  gain: number;
}

/** One member of a room and the members it hears (never itself). */
export interface RoomMemberSpec {
  leg: Leg;
  hears: readonly RoomHearingSpec[];
}

/** A room's whole routing: its members and the legs summed into each recording track. */
export interface RoomRoutesSpec {
  members: readonly RoomMemberSpec[];
  /** Track 0 (left) and track 1 (right); a mono recording sums both. */
  recordingTracks: readonly [readonly Leg[], readonly Leg[]];
}

/** What a room is created with (MediaEngine's side; not part of the public API). */
export interface RoomInit {
  id: number;
  worker: MediaWorker;
  group: string | undefined;
  /** The engine's part of close(): tell the worker, release the group. */
  closeRoom(room: Room): Promise<RecordingSummary | null>;
  /** Where a prompt playback's listener error goes (the engine's log). */
  onListenerError?(error: unknown): void;
}

export interface PlayPromptOptions {
  /** Play it again from its start when it ends, until stopped (hold audio). Default false. */
  loop?: boolean;
}

export class Room {
  readonly id: number;
  readonly group: string | undefined;
  /** @internal */
  readonly worker: MediaWorker;
  #routes: RoomRoutesSpec = { members: [], recordingTracks: [[], []] };
  #closing: Promise<RecordingSummary | null> | undefined;
  readonly #closeRoom: (room: Room) => Promise<RecordingSummary | null>;
  readonly #onListenerError: (error: unknown) => void;
  /** Prompts playing (or being started) by playback id. */
  readonly #playbacks = new Map<number, PromptPlayback>();
  #nextPlayId = 1;

  /** @internal created by MediaEngine.createRoom. */
  constructor(init: RoomInit) {
    this.id = init.id;
    this.group = init.group;
    this.worker = init.worker;
    this.#closeRoom = init.closeRoom;
    this.#onListenerError = init.onListenerError ?? (() => {});
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The members as last set, without legs that closed since (and routes to them). */
  get members(): readonly RoomMemberSpec[] {
    return this.#routes.members
      .filter((m) => !m.leg.closed)
      .map((m) => ({ leg: m.leg, hears: m.hears.filter((h) => !h.leg.closed) }));
  }

  /** The recording tracks as last set, without legs that closed since. */
  get recordingTracks(): readonly [readonly Leg[], readonly Leg[]] {
    const [left, right] = this.#routes.recordingTracks;
    return [left.filter((l) => !l.closed), right.filter((l) => !l.closed)];
  }

  /** Replaces the membership, its routes and the recording tracks in one step. */
  async setRoutes(routes: RoomRoutesSpec): Promise<void> {
    this.assertOpen();
    const members: unknown = routes?.members;
    const tracks: unknown = routes?.recordingTracks;
    if (!Array.isArray(members)) {
      throw new MediaError('ERR_INVALID_ARGUMENT', 'members must be an array');
    }
    if (!Array.isArray(tracks) || tracks.length !== 2 || !tracks.every(Array.isArray)) {
      throw new MediaError('ERR_INVALID_ARGUMENT', 'recordingTracks must be two arrays of legs');
    }
    const idOf = (leg: unknown, path: string): number => {
      if (!(leg instanceof Leg))
        throw new MediaError('ERR_INVALID_ARGUMENT', `${path} must be a leg`);
      return leg.id;
    };
    for (const [i, m] of (members as RoomMemberSpec[]).entries()) {
      const leg = m?.leg;
      idOf(leg, `members[${i}].leg`);
      if (leg.closed) throw new InvalidStateError(`leg ${leg.id} is closed`);
      if (leg.worker !== this.worker) {
        throw new MediaError(
          'ERR_CROSS_WORKER',
          `leg ${leg.id} lives in another worker than room ${this.id} (give them one group)`,
        );
      }
      if (!Array.isArray(m.hears)) {
        throw new MediaError('ERR_INVALID_ARGUMENT', `members[${i}].hears must be an array`);
      }
    }
    const checked = checkRoutes(
      (members as RoomMemberSpec[]).map((m, i) => ({
        legId: m.leg.id,
        hears: m.hears.map((h, j) => ({
          legId: idOf(h?.leg, `members[${i}].hears[${j}].leg`),
          gain: h.gain,
        })),
      })),
      (tracks as Leg[][]).map((track, t) =>
        track.map((leg, j) => idOf(leg, `recordingTracks[${t}][${j}]`)),
      ),
    );
    await this.worker.request({ type: 'setRoutes', roomId: this.id, ...checked });
    this.#routes = {
      members: (members as RoomMemberSpec[]).map((m) => ({
        leg: m.leg,
        hears: m.hears.map((h) => ({ leg: h.leg, gain: h.gain })),
      })),
      recordingTracks: [[...(tracks as Leg[][])[0]!], [...(tracks as Leg[][])[1]!]],
    };
  }

  /** Starts the recording tap (a WAV at `path`, which must not exist yet). */
  async startRecording(recording: RecordingConfig): Promise<RecordingStarted> {
    this.assertOpen();
    const checked = checkRecording(recording);
    return this.worker.request({ type: 'startRecording', roomId: this.id, recording: checked });
  }

  /** Stops the recording and completes its file; null when none was running. */
  async stopRecording(): Promise<RecordingSummary | null> {
    this.assertOpen();
    return this.worker.request({ type: 'stopRecording', roomId: this.id });
  }

  /** Plays a tone into the outbound audio of `legs` (members of this room). */
  async playTone(legs: readonly Leg[], tone: ToneConfig): Promise<void> {
    this.assertOpen();
    const checked = checkTone(tone);
    if (!Array.isArray(legs)) throw new MediaError('ERR_INVALID_ARGUMENT', 'legs must be an array');
    // Checked here like the worker will (distinct, at most a room's worth), so a caller's
    // mistake is ERR_INVALID_ARGUMENT rather than the worker's ERR_INVALID_COMMAND.
    const ids = checkLegIds(
      legs.map((leg: unknown, i) => {
        if (!(leg instanceof Leg))
          throw new MediaError('ERR_INVALID_ARGUMENT', `legs[${i}] must be a leg`);
        return leg.id;
      }),
      'legs',
    );
    await this.worker.request({ type: 'playTone', roomId: this.id, legIds: ids, tone: checked });
  }

  /**
   * Plays `prompt` (MediaEngine.loadPrompt) into the outbound audio of `legs` (members of
   * this room), once or looped; never into the recording. The playback reports its end
   * ('ended', `done`) and can be stopped (prompt.ts).
   */
  async playPrompt(
    legs: readonly Leg[],
    prompt: Prompt,
    options: PlayPromptOptions = {},
  ): Promise<PromptPlayback> {
    this.assertOpen();
    if (!Array.isArray(legs)) throw new MediaError('ERR_INVALID_ARGUMENT', 'legs must be an array');
    const ids = checkLegIds(
      legs.map((leg: unknown, i) => {
        if (!(leg instanceof Leg))
          throw new MediaError('ERR_INVALID_ARGUMENT', `legs[${i}] must be a leg`);
        return leg.id;
      }),
      'legs',
    );
    const loop = options.loop ?? false;
    const playId = this.#nextPlayId++;
    const playback = new PromptPlayback(
      playId,
      prompt,
      loop,
      (p) => this.stopPrompt(p),
      this.#onListenerError,
    );
    // Registered before the request: a playback to no leg ends ('left') before the reply.
    this.#playbacks.set(playId, playback);
    try {
      await this.worker.request({
        type: 'playPrompt',
        roomId: this.id,
        legIds: ids,
        playId,
        promptId: prompt.id,
        loop,
      });
    } catch (error) {
      this.#playbacks.delete(playId);
      throw error;
    }
    return playback;
  }

  private async stopPrompt(playback: PromptPlayback): Promise<void> {
    if (this.#closing !== undefined || !this.#playbacks.has(playback.id)) return;
    await this.worker.request({ type: 'stopPrompt', roomId: this.id, playId: playback.id });
  }

  /** @internal the worker reported a playback's end. */
  promptEnded(playId: number, reason: PromptEndReason): void {
    const playback = this.#playbacks.get(playId);
    if (playback === undefined) return;
    this.#playbacks.delete(playId);
    playback.finish(reason);
  }

  /**
   * Unroutes the members (the legs stay open), stops tones, prompts and the recording;
   * resolves with the recording's summary. Idempotent; never rejects (a dead worker: null).
   */
  close(): Promise<RecordingSummary | null> {
    this.#closing ??= this.#closeRoom(this).finally(() => this.endPlaybacks());
    return this.#closing;
  }

  /** @internal the engine closed or the worker died. */
  parentClosed(): void {
    this.#closing ??= Promise.resolve(null);
    this.endPlaybacks();
  }

  private endPlaybacks(): void {
    const playbacks = [...this.#playbacks.values()];
    this.#playbacks.clear();
    for (const p of playbacks) p.finish('closed');
  }

  private assertOpen(): void {
    if (this.#closing !== undefined) throw new InvalidStateError(`room ${this.id} is closed`);
  }
}
