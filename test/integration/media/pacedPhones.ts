/**
 * The test's side of media/pacedSender.mjs: RTP senders in a child process, so their
 * timing does not depend on this process (Jest's garbage collector, the suites it ran
 * before). Each phone is one UDP socket of the child on 127.0.0.1.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { trackChild, waitForClose } from '../../helpers/processes.js';

/** One datagram: due `at` ms after `play`, from phone `socket` to that phone's destination. */
export interface ScheduledPacket {
  at: number;
  socket: number;
  packet: Buffer;
}

/** What the child reports once the whole schedule is sent. */
export interface PlayResult {
  sent: number;
  /** How far behind its due time the worst packet left, ms. */
  maxLateMs: number;
  /** Datagrams each phone's socket received by then. */
  received: number[];
  /** When the schedule's time 0 was, on this process's performance.now() clock. */
  startedAt: number;
}

const SCRIPT = fileURLToPath(new URL('./pacedSender.mjs', import.meta.url));

export class PacedPhones {
  private constructor(
    private readonly child: ChildProcess,
    /** Each phone's local RTP port, for its SDP. */
    readonly ports: readonly number[],
  ) {}

  /** Starts the child with `count` phones; resolves once their sockets are bound. */
  static async start(count: number): Promise<PacedPhones> {
    const child = fork(SCRIPT, [String(count)], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    trackChild(child);
    try {
      const ports = await new Promise<number[]>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`paced sender exited (${code})`)));
        child.once('message', (m) => resolve((m as { ports: number[] }).ports));
      });
      child.removeAllListeners('exit');
      return new PacedPhones(child, ports);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** Hands the child the whole schedule (ascending `at`) ahead of time. */
  load(schedule: readonly ScheduledPacket[]): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('message', () => resolve());
      this.child.send({ schedule });
    });
  }

  /**
   * Plays the loaded schedule from now, phone i sending to 127.0.0.1:`destinations[i]`;
   * resolves when the last packet left.
   */
  play(destinations: readonly number[]): Promise<PlayResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(new Error(`paced sender exited (${code}) during the schedule`));
      this.child.once('exit', onExit);
      this.child.once('message', (m) => {
        this.child.off('exit', onExit);
        const r = m as Omit<PlayResult, 'startedAt'> & { startEpochMs: number };
        // Both processes' timeOrigin come from the same system clock.
        resolve({ ...r, startedAt: r.startEpochMs - performance.timeOrigin });
      });
      this.child.send({ play: destinations });
    });
  }

  /** Ends the child (it closes its sockets when the channel closes). */
  async close(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await waitForClose(this.child);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
