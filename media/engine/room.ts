/**
 * One call's room as the main thread sees it (docs/architecture.md §6): the legs of a call with their
 * roles and supervisor modes, a recording tap and tones, mixed in the worker that anchors
 * the legs (media/worker/workerRoom.ts has the routing and mixing rules). Created by
 * MediaEngine.createRoom with the call's group, so it lands on the legs' worker.
 *
 *   const room = await engine.createRoom({ group: callId });
 *   await room.setParticipants([{ leg: customer, role: 'customer' }, { leg: agent, role: 'agent' }]);
 *   await room.startRecording({ path: '/var/lib/callwatch/rec/x.wav', channels: 2 });
 *   await room.setParticipants([...both, { leg: sup, role: 'supervisor', mode: 'whisper' }]);
 *   await room.playTone([agent], { frequencies: [440], levelDbm0: -13, onMs: 200, offMs: 0, repeat: 1 });
 *   const summary = await room.close();   // the recording's path, bytes, frames
 *
 * setParticipants replaces the whole membership at once (the worker applies it before its
 * next frame); a leg that leaves is unrouted, a leg that closes leaves by itself. A leg is
 * in at most one room, and a leg in a room is routed by it only (Leg.setSources refuses).
 * Close is idempotent; afterwards every method rejects with InvalidStateError.
 */
import { InvalidStateError, MediaError } from './errors.js';
import { Leg } from './leg.js';
import type { MediaWorker } from './mediaWorker.js';
import type {
  MonitorMode,
  RecordingConfig,
  RecordingStarted,
  RecordingSummary,
  RoomRole,
  ToneConfig,
} from '../worker/protocol.js';
import { checkLegIds, checkParticipants, checkRecording, checkTone } from '../worker/validate.js';

export interface RoomMemberSpec {
  leg: Leg;
  role: RoomRole;
  /** Supervisors only (default 'listen'). */
  mode?: MonitorMode;
}

/** What a room is created with (MediaEngine's side; not part of the public API). */
export interface RoomInit {
  id: number;
  worker: MediaWorker;
  group: string | undefined;
  /** The engine's part of close(): tell the worker, release the group. */
  closeRoom(room: Room): Promise<RecordingSummary | null>;
}

export class Room {
  readonly id: number;
  readonly group: string | undefined;
  /** @internal */
  readonly worker: MediaWorker;
  #members: RoomMemberSpec[] = [];
  #closing: Promise<RecordingSummary | null> | undefined;
  readonly #closeRoom: (room: Room) => Promise<RecordingSummary | null>;

  /** @internal created by MediaEngine.createRoom. */
  constructor(init: RoomInit) {
    this.id = init.id;
    this.group = init.group;
    this.worker = init.worker;
    this.#closeRoom = init.closeRoom;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The members as last set, without legs that closed since. */
  get participants(): readonly RoomMemberSpec[] {
    return this.#members.filter((m) => !m.leg.closed);
  }

  /** Replaces the membership (roles, modes) in one step. */
  async setParticipants(members: readonly RoomMemberSpec[]): Promise<void> {
    this.assertOpen();
    if (!Array.isArray(members)) {
      throw new MediaError('ERR_INVALID_ARGUMENT', 'participants must be an array');
    }
    for (const [i, m] of members.entries()) {
      if (!(m?.leg instanceof Leg)) {
        throw new MediaError('ERR_INVALID_ARGUMENT', `participants[${i}].leg must be a leg`);
      }
      if (m.leg.closed) throw new InvalidStateError(`leg ${m.leg.id} is closed`);
      if (m.leg.worker !== this.worker) {
        throw new MediaError(
          'ERR_CROSS_WORKER',
          `leg ${m.leg.id} lives in another worker than room ${this.id} (give them one group)`,
        );
      }
    }
    const participants = checkParticipants(
      members.map((m) => ({
        legId: m.leg.id,
        role: m.role,
        ...(m.mode !== undefined ? { mode: m.mode } : {}),
      })),
    );
    await this.worker.request({ type: 'setParticipants', roomId: this.id, participants });
    this.#members = members.map((m) => ({ ...m }));
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
   * Unroutes the members (the legs stay open), stops tones and the recording; resolves
   * with the recording's summary. Idempotent; never rejects (a dead worker: null).
   */
  close(): Promise<RecordingSummary | null> {
    this.#closing ??= this.#closeRoom(this);
    return this.#closing;
  }

  /** @internal the engine closed or the worker died. */
  parentClosed(): void {
    this.#closing ??= Promise.resolve(null);
  }

  private assertOpen(): void {
    if (this.#closing !== undefined) throw new InvalidStateError(`room ${this.id} is closed`);
  }
}
