/**
 * A WorkerCore driven as the engine drives it (media/worker/protocol.ts): commands with
 * ids, their replies awaited from the events it posts. `WorkerDriver` is that, over any
 * PacketIo, with the rooms the tests use (a call of two, a call a supervisor listens to);
 * `Harness`, for the relay fast path's tests, adds PCMU legs on ports of their own on
 * 127.0.0.1.
 */
import type { PacketIo } from '../../../../media/io/packetIo.js';
import type { CreateRecordingFile } from '../../../../media/recording/recordingFile.js';
import type {
  Command,
  LegConfig,
  StatsReport,
  WorkerConfig,
  WorkerEvent,
} from '../../../../media/worker/protocol.js';
import { WorkerCore } from '../../../../media/worker/workerCore.js';
import { allocatePortBlock } from '../../../helpers/ports.js';

export const HOST = '127.0.0.1';

/** The even port of a free block of four (RTP on it, RTCP on the next). */
export async function evenPort(): Promise<number> {
  const base = await allocatePortBlock(4);
  return base % 2 === 0 ? base : base + 1;
}
export const CONFIG: WorkerConfig = {
  index: 0,
  address: HOST,
  rtpTimeoutMs: 0,
  latchWindowMs: 2000,
  statsIntervalMs: 0,
  rtcpIntervalMs: 400,
  sweepIntervalMs: 50,
  jitter: { minDepthMs: 40, maxDepthMs: 200 },
};

export type CommandBody = Command extends infer C
  ? C extends Command
    ? Omit<C, 'id'>
    : never
  : never;

export class WorkerDriver {
  readonly events: WorkerEvent[] = [];
  readonly core: WorkerCore;
  private nextId = 1;
  constructor(io: PacketIo, createFile?: CreateRecordingFile, config: WorkerConfig = CONFIG) {
    this.core = new WorkerCore(config, { post: (e) => this.events.push(e) }, io, createFile);
  }

  /** Runs one command; resolves with its result, rejects with its error code. */
  async run(body: CommandBody): Promise<unknown> {
    const id = this.nextId++;
    this.core.handle({ ...body, id });
    const deadline = Date.now() + 5000; // a recording's file may take a while to open
    while (Date.now() < deadline) {
      const reply = this.events.find((e) => e.type === 'reply' && e.id === id);
      if (reply?.type === 'reply') {
        if (reply.ok) return reply.result;
        throw new Error(reply.error.code);
      }
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`no reply to ${body.type}`);
  }

  stats(): Promise<StatsReport> {
    return this.run({ type: 'getStats', legId: null }) as Promise<StatsReport>;
  }

  /** Room 1 with legs 1 and 2 hearing each other (a call), recording `tracks`. */
  roomOfTwo(tracks: [number[], number[]]): Promise<void> {
    return this.room([], tracks);
  }

  /**
   * Room 1 of a monitored call: legs 1 (customer) and 2 (agent) hear each other, leg 3 (a
   * supervisor listening) hears both; the recording has 1 left and 2 right.
   */
  listenedRoom(): Promise<void> {
    const hearsBoth = [
      { legId: 1, gain: 1 },
      { legId: 2, gain: 1 },
    ];
    return this.room([{ legId: 3, hears: hearsBoth }], [[1], [2]]);
  }

  /** Room 1: legs 1 and 2 hearing each other, and `others`, recording `tracks`. */
  private async room(
    others: { legId: number; hears: { legId: number; gain: number }[] }[],
    tracks: [number[], number[]],
  ): Promise<void> {
    await this.run({ type: 'createRoom', roomId: 1 });
    await this.run({
      type: 'setRoutes',
      roomId: 1,
      members: [
        { legId: 1, hears: [{ legId: 2, gain: 1 }] },
        { legId: 2, hears: [{ legId: 1, gain: 1 }] },
        ...others,
      ],
      recordingTracks: tracks,
    });
  }
}

export class Harness extends WorkerDriver {
  /** Leg `legId` on a port of its own, sending PCMU to `remotePort` on 127.0.0.1. */
  async leg(legId: number, remotePort: number, telephoneEvent: number): Promise<number> {
    const port = await evenPort();
    const leg: LegConfig = {
      legId,
      port,
      codecs: [{ name: 'PCMU', payloadType: 0 }],
      telephoneEvent: { payloadType: telephoneEvent },
      remote: { address: HOST, port: remotePort, rtcpPort: remotePort + 1 },
      direction: 'sendrecv',
      forwardDtmf: true,
      label: null,
    };
    await this.run({ type: 'createLeg', leg });
    return port;
  }
}
