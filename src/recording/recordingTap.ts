/**
 * The recording tap (docs/architecture.md §7): each answered call whose agent's extension
 * records (extensions[].record, else recording.enabled) gets a file (recording.format: a
 * PCM or G.711 WAV, or Ogg Opus) written by the media engine while the call runs — stereo with the customer left and the agent right, or mono
 * — that never holds supervisor audio, and a JSON sidecar next to it.
 *
 * The sidecar is written when the recording starts (so a crash leaves a file that says
 * what the WAV is) and rewritten when the call ends, with the end, the WAV's size and
 * every monitoring session (who, which modes, when). The first goes to a temporary file
 * renamed into place; the end's rewrite is one positional write of at most a page, in
 * place (docs/architecture.md §7.5), so a crash never leaves half a sidecar. They are done by the media
 * engine's recording writer thread (`files`), not on this thread: each async fs call here
 * would be a libuv thread-pool round trip on the SIP thread.
 *
 * Permissions: WAVs and sidecars get `recording.fileMode` (default 0640) and the folders
 * made for them `recording.dirMode` (0750), whatever the umask: they hold customers'
 * voices and numbers. `prepare()` makes the folder at start-up, so a folder that cannot
 * be made stops the start rather than the first recorded call.
 *
 * Which side is the agent: the extension in an inbound or outbound trunk call; in an
 * internal call the callee, until a supervisor monitors the caller (then the caller).
 */
import {
  chmod as chmodCb,
  rename as renameCb,
  unlink as unlinkCb,
  writeFile as writeFileCb,
} from 'node:fs';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import type { RecordingStarted, RecordingSummary } from '../../media/engine/index.js';
import type { CallMedia, PartyRole, Side } from '../calls/callMedia.js';
import type { CallRecord } from '../calls/callRecord.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { MonitorSessionRecord } from '../monitoring/monitorSession.js';
import { ensureDir } from '../util/fileModes.js';
import { waitAtMost } from '../util/waitAtMost.js';

// Without a writer thread (tests): the callback forms, promisified (fs/promises'
// FileHandle costs about twice as much per file).
const writeFile = promisify(writeFileCb);
const chmod = promisify(chmodCb);
const rename = promisify(renameCb);
const unlink = promisify(unlinkCb);

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Writes a small file whole (a temporary file with `mode`, renamed): MediaEngine's. */
export interface SmallFileWriter {
  writeSmallFile(path: string, text: string, mode: number): Promise<void>;
  /** Rewrites one it wrote: in place when it can (nothing created or deleted). */
  updateSmallFile?(path: string, text: string, mode: number): Promise<void>;
}

/** On this thread's libuv pool: where no writer thread is given. */
async function writeSmallFileHere(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.tmp`;
  try {
    await writeFile(temp, text, { mode, flag: 'wx' });
  } catch (err) {
    if (codeOf(err) !== 'EEXIST') throw err;
    await unlink(temp); // a crash left it behind, with whatever mode it had then
    await writeFile(temp, text, { mode, flag: 'wx' });
  }
  // Created by us with `mode`: only a umask that cuts it needs a chmod.
  if ((mode & ~process.umask()) !== mode) await chmod(temp, mode);
  await rename(temp, path);
}

export interface RecordedCall {
  record: CallRecord;
  media: CallMedia;
  /** The extension on each side, when that side is one. */
  extensions: Partial<Record<Side, string>>;
}

interface Recording {
  /** The audio file (WAV or Ogg Opus). */
  wav: string;
  sidecar: string;
  roles: Record<Side, PartyRole>;
  /** Wall-clock ms of the WAV's start (its file name uses the time it was asked for). */
  startedAt: number;
  /** What the media worker started: format, rate, sample encoding. */
  started: RecordingStarted | null;
}

/** The roles of a call's sides at answer (see the file comment). */
export function rolesOf(record: CallRecord): Record<Side, PartyRole> {
  return record.direction === 'outbound'
    ? { a: 'agent', b: 'customer' }
    : { a: 'customer', b: 'agent' };
}

/** A file name from a call id: what a file system and a shell take without quoting. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
}

export class RecordingTap {
  private readonly directory: string;
  /** Recordings started (file and first sidecar written), by call id, until the call ends. */
  private readonly recordings = new Map<string, Recording>();
  /**
   * Starts not settled yet, by call id: a call that ends meanwhile waits for its start,
   * so its sidecar is completed and nothing of it is kept (see `ended`).
   */
  private readonly starting = new Map<string, Promise<void>>();
  /** Every start and end not settled yet, for `drain` at shutdown. */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Recordings that could not start (monotonic, for metrics): the directory, the file or
   * the media worker refused. Write failures (an I/O error cut the WAV short) are counted
   * by the media workers as they happen (MixerStats.recordingErrors), not here at the end.
   */
  readonly failures = { start: 0 };

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    /** Wall-clock ms minus the call clock's ms (call records use a monotonic clock). */
    private readonly wallOffset: number,
    /** Where sidecars are written (the media engine's writer thread); else this thread. */
    private readonly files: SmallFileWriter = { writeSmallFile: writeSmallFileHere },
  ) {
    this.directory = resolve(config.recording.directory);
  }

  get active(): number {
    return this.recordings.size;
  }

  /** Whether any call may be recorded (the default, or some extension's own setting). */
  get mayRecord(): boolean {
    return this.config.recording.enabled || this.config.extensions.some((e) => e.record === true);
  }

  /** Makes the recordings folder when anything may be recorded (server start). */
  async prepare(): Promise<void> {
    if (this.mayRecord) await ensureDir(this.directory, this.config.recording.dirMode);
  }

  /** Whether a call with this agent extension is recorded. */
  records(agent: string | undefined): boolean {
    const ext = this.config.extensions.find((e) => e.number === agent);
    return ext?.record ?? this.config.recording.enabled;
  }

  /** The call was answered: roles set, recording started when configured. */
  answered(call: RecordedCall): Promise<void> {
    const id = call.record.id;
    const answering = this.track(this.answer(call));
    const forget = (): void => {
      if (this.starting.get(id) === settled) this.starting.delete(id);
    };
    const settled = answering.then(forget, forget);
    this.starting.set(id, settled);
    return answering;
  }

  private async answer(call: RecordedCall): Promise<void> {
    const roles = rolesOf(call.record);
    await call.media.setRoles(roles);
    const agentSide: Side = roles.a === 'agent' ? 'a' : 'b';
    if (!this.records(call.extensions[agentSide])) return;
    try {
      await this.start(call, roles);
    } catch (error) {
      this.failures.start++;
      throw error;
    }
  }

  private async start(call: RecordedCall, roles: Record<Side, PartyRole>): Promise<void> {
    const startedAt = Date.now();
    const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
    const base = join(this.directory, `${stamp}_${safeName(call.record.id)}`);
    const format = this.config.recording.format;
    const recording: Recording = {
      wav: `${base}.${format === 'ogg-opus' ? 'opus' : 'wav'}`,
      sidecar: `${base}.json`,
      roles,
      startedAt,
      started: null,
    };
    const startRecording = () =>
      call.media.startRecording({
        path: recording.wav,
        channels: this.config.recording.channels === 'mono' ? 1 : 2,
        format,
        fileMode: this.config.recording.fileMode,
      });
    try {
      recording.started = await startRecording();
    } catch (error) {
      // The folder is made at start-up (prepare), not checked per call; one removed since
      // (a clean-up job, an operator) is made again and the recording tried once more.
      if (!/ENOENT/.test(error instanceof Error ? error.message : String(error))) throw error;
      await ensureDir(this.directory, this.config.recording.dirMode);
      recording.started = await startRecording();
    }
    // The file's first sample: the worker starts the recording's timeline when it takes the
    // command, before its file is created (docs/architecture.md §7.6), and says when.
    recording.startedAt = recording.started?.startedAt ?? Date.now();
    this.recordings.set(call.record.id, recording);
    try {
      await this.writeSidecar(call, recording, null, []);
    } catch (error) {
      // A failed start leaves nothing active; the audio already being written is completed
      // when the call's room closes (its file has no sidecar then: the failure is counted).
      this.recordings.delete(call.record.id);
      throw error;
    }
    this.logger.info({ callId: call.record.id, file: recording.wav }, 'recording started');
  }

  /**
   * The call ended: the sidecar completed with the WAV's size and the monitoring. A call
   * that ends while its recording is starting (a hang-up right after the answer) waits for
   * that start first: its file would otherwise keep the start's sidecar, with no end, and
   * the recording would be counted active for as long as the server runs.
   */
  ended(call: RecordedCall, monitoring: MonitorSessionRecord[]): Promise<void> {
    return this.track(this.end(call, monitoring));
  }

  /**
   * Waits until every start and end begun so far has settled, at most `timeoutMs` (at
   * shutdown, once the calls have ended: their sidecars are written before the media
   * engine and its writer thread close). Resolves true when all settled in time.
   */
  drain(timeoutMs: number): Promise<boolean> {
    return waitAtMost(this.allSettled(), timeoutMs);
  }

  /** Settles once nothing is in flight, also what began while it waited. */
  private async allSettled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    const forget = () => {
      this.inFlight.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  private async end(call: RecordedCall, monitoring: MonitorSessionRecord[]): Promise<void> {
    await this.starting.get(call.record.id);
    const recording = this.recordings.get(call.record.id);
    if (recording === undefined) return;
    this.recordings.delete(call.record.id);
    const summary = (await call.media.ended) ?? null;
    await this.writeSidecar(call, recording, summary, monitoring, true);
    if (summary?.error) {
      this.logger.error({ callId: call.record.id, error: summary.error }, 'recording failed');
    }
  }

  private async writeSidecar(
    call: RecordedCall,
    recording: Recording,
    summary: RecordingSummary | null,
    monitoring: MonitorSessionRecord[],
    /** The end's rewrite of the sidecar the start wrote. */
    rewrite = false,
  ): Promise<void> {
    const { record } = call;
    const side = (role: PartyRole): Side => (recording.roles.a === role ? 'a' : 'b');
    const party = (s: Side) => ({
      side: s === 'a' ? 'caller' : 'callee',
      number: s === 'a' ? record.caller : record.callee,
      extension: call.extensions[s] ?? null,
    });
    const iso = (ms: number | undefined) =>
      ms === undefined ? null : new Date(ms + this.wallOffset).toISOString();
    const mono = this.config.recording.channels === 'mono';
    const started = recording.started;
    const encoding = started?.encoding ?? 'pcm16';
    const doc = {
      callId: record.id,
      direction: record.direction,
      file: recording.wav,
      format: {
        name: started?.format ?? this.config.recording.format,
        container: encoding === 'opus' ? 'ogg' : 'wav',
        encoding,
        sampleRate: started?.sampleRate ?? null,
        bitsPerSample: encoding === 'pcm16' ? 16 : encoding === 'opus' ? null : 8,
        channels: mono ? 1 : 2,
        layout: mono ? 'customer+agent' : 'customer|agent',
      },
      parties: { customer: party(side('customer')), agent: party(side('agent')) },
      recordingStartedAt: new Date(recording.startedAt).toISOString(),
      startedAt: iso(record.startedAt),
      answeredAt: iso(record.answeredAt),
      endedAt: iso(record.endedAt),
      endReason: record.endReason ?? null,
      // A queue call (docs/architecture.md §9.5): the caller's wait before a member answered.
      queue:
        record.queue === undefined
          ? null
          : {
              number: record.queue.number,
              joinedAt: iso(record.queue.joinedAt),
              waitMs: record.queue.waitMs === undefined ? null : Math.round(record.queue.waitMs),
              agent: record.queue.agent ?? null,
            },
      audioBytes: summary?.bytes ?? null,
      error: summary?.error ?? null,
      monitoring: monitoring.map((m) => ({
        supervisor: m.supervisor,
        agent: m.agent,
        startedAt: iso(m.startedAt),
        endedAt: iso(m.endedAt),
        endReason: m.endReason ?? null,
        modes: m.modes.map((x) => ({ mode: x.mode, at: iso(x.at) })),
      })),
    };
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    const mode = this.config.recording.fileMode;
    try {
      // The end's rewrite in place where the writer can (docs/architecture.md §7.5): a new
      // file renamed over the old one would create one inode and free another per call.
      if (rewrite && this.files.updateSmallFile !== undefined) {
        await this.files.updateSmallFile(recording.sidecar, text, mode);
      } else {
        await this.files.writeSmallFile(recording.sidecar, text, mode);
      }
    } catch (err) {
      // No writer thread now (the engine closed at shutdown before the call's end was
      // written, or its writer died and is being restarted): the sidecar matters more
      // than where it is written.
      const code = codeOf(err);
      if (code !== 'ERR_INVALID_STATE' && code !== 'ERR_RECORDING_WRITER_GONE') throw err;
      await writeSmallFileHere(recording.sidecar, text, mode);
    }
  }
}
