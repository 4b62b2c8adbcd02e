/**
 * WorkerRoom's rules that need no sockets: frames the worker's clock skipped under
 * overload still reach the recording (as silence), so a recording is never shorter than
 * the call (docs/architecture.md, the recording rules); and how routes become feeds
 * (relay or mix) from gains and codecs alone.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PayloadMap } from '../../../../media/worker/payloadMap.js';
import type { WorkerLeg } from '../../../../media/worker/workerLeg.js';
import { WorkerRoom } from '../../../../media/worker/workerRoom.js';

const host = {
  relay: (): void => {},
  jitterOptions: { minDepthMs: 40, maxDepthMs: 200 },
  retireJitter: (): void => {},
  retired: [] as { bytes: number; failed: boolean }[],
  retireRecording(bytes: number, failed: boolean): void {
    this.retired.push({ bytes, failed });
  },
};

describe('WorkerRoom recording timeline', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'callwatch-room-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a recording is not clocked: it is written up to each drain, and to its stop', async () => {
    const room = new WorkerRoom(1, host);
    const file = path.join(dir, 'r.wav');
    // The recording's time starts somewhere in [before, t0] (its file is opened first):
    // the bounds below allow for where, so a slow open on a loaded machine changes nothing.
    const before = performance.now();
    await room.startRecording({ path: file, channels: 2 });
    const t0 = performance.now();
    expect(room.clocked).toBe(false);
    // Nothing arrived: the drains write silence up to now − 100 ms (the reorder window),
    // each no further than the drain before it (packets that waited out a stall are read
    // between two drains).
    room.drainRecording(t0 + 4_900);
    room.drainRecording(t0 + 5_000);
    expect(room.recordingErrors).toBe(0);
    host.retired.length = 0;
    const summary = await room.close();
    expect(summary).not.toBeNull();
    // close() completes the file to the stop time (now), never shorter than a drain wrote.
    expect(summary!.frames).toBeGreaterThanOrEqual((5_000 - 100) / 20 - 1);
    expect(summary!.frames).toBeLessThanOrEqual((t0 - before + 5_000) / 20 + 1);
    expect(host.retired).toEqual([{ bytes: summary!.frames * 160 * 4, failed: false }]);
    const wav = await readFile(file);
    expect(wav.length).toBe(44 + summary!.frames * 160 * 4);
    expect(wav.readUInt32LE(40)).toBe(summary!.frames * 160 * 4);
  });

  it('a room that does not record has nothing to drain', async () => {
    const room = new WorkerRoom(2, host);
    room.drainRecording(performance.now());
    expect(await room.close()).toBeNull();
  });
});

describe('WorkerRoom routes: relay or mix, decided from gains and codecs', () => {
  interface FakeLeg {
    id: number;
    payloads: PayloadMap;
    mixListener: number;
    sources: FakeLeg[];
    jitter: unknown;
    roomId: number;
  }
  const fakeLeg = (
    id: number,
    payloads = new PayloadMap([{ name: 'PCMU', payloadType: 0 }], null),
  ) => ({ id, payloads, mixListener: -1, sources: [], jitter: null, roomId: 0 }) as FakeLeg;
  const asLeg = (l: FakeLeg): WorkerLeg => l as unknown as WorkerLeg;
  const relays: string[] = [];
  const routingHost = {
    ...host,
    relay(listener: WorkerLeg, sources: WorkerLeg[]): void {
      (listener as unknown as FakeLeg).sources = sources as unknown as FakeLeg[];
      relays.push(`${listener.id}<-[${sources.map((s) => s.id).join(',')}]`);
    },
  };
  const member = (leg: FakeLeg, ...hears: [FakeLeg, number][]) => ({
    leg: asLeg(leg),
    hears: hears.map(([l, gain]) => ({ leg: asLeg(l), gain })),
  });

  it('a pair at unity relays both ways and needs no clock', () => {
    const [a, b] = [fakeLeg(1), fakeLeg(2)];
    const room = new WorkerRoom(3, routingHost);
    room.setMembers([member(a, [b, 1]), member(b, [a, 1])], [[asLeg(a)], [asLeg(b)]]);
    expect([a.sources, b.sources]).toEqual([[b], [a]]);
    expect([a.mixListener, b.mixListener]).toEqual([-1, -1]);
    expect(room.clocked).toBe(false);
    expect([a.roomId, b.roomId]).toEqual([3, 3]);
  });

  it('one source at a gain other than 1 is mixed (relay cannot scale)', () => {
    const [a, b] = [fakeLeg(1), fakeLeg(2)];
    const room = new WorkerRoom(4, routingHost);
    room.setMembers([member(a, [b, 0.5]), member(b, [a, 1])]);
    expect(a.sources).toEqual([]);
    expect(a.mixListener).toBe(0);
    expect(b.sources).toEqual([a]);
    expect(room.clocked).toBe(true);
    // Back to unity: relayed again, the clock no longer needed.
    room.setMembers([member(a, [b, 1]), member(b, [a, 1])]);
    expect([a.sources, a.mixListener, room.clocked]).toEqual([[b], -1, false]);
  });

  it('a listener that cannot take the source’s codecs is mixed, and relayed once it can', () => {
    // The source may send a kind (index 4) with no table into the listener's G.711.
    const payloadTypeOf = new Int16Array(5).fill(-1);
    payloadTypeOf[4] = 96;
    const other = {
      kindOf: new Uint8Array(128),
      payloadTypeOf,
      sendKind: 4,
    } as unknown as PayloadMap;
    const [a, b] = [fakeLeg(1, other), fakeLeg(2)];
    const room = new WorkerRoom(5, routingHost);
    room.setMembers([member(a, [b, 1]), member(b, [a, 1])]);
    // b cannot relay a's packets: fed from the mix. a takes b's G.711? Its send kind has
    // no table from PCMU and it did not negotiate PCMU: mixed too.
    expect([a.mixListener, b.mixListener]).toEqual([0, 1]);
    expect(room.clocked).toBe(true);
    // The codecs change (what workerCore's setCodecs does): the room reroutes to relays.
    a.payloads = new PayloadMap([{ name: 'PCMA', payloadType: 8 }], null);
    room.reroute();
    expect([a.sources, b.sources]).toEqual([[b], [a]]);
    expect([a.mixListener, b.mixListener, room.clocked]).toEqual([-1, -1, false]);
  });

  it('refuses routes or tracks naming a leg outside the room, leaving the room as it was', () => {
    const [a, b, c] = [fakeLeg(1), fakeLeg(2), fakeLeg(3)];
    const room = new WorkerRoom(6, routingHost);
    room.setMembers([member(a, [b, 1]), member(b, [a, 1])], [[asLeg(a)], [asLeg(b)]]);
    expect(() => room.setMembers([member(a, [c, 1])])).toThrow(RangeError);
    expect(() => room.setMembers([member(a, [a, 1])])).toThrow(RangeError);
    expect(() => room.setMembers([member(a)], [[asLeg(c)], []])).toThrow(RangeError);
    expect(room.members.map((m) => m.leg)).toEqual([a, b]);
    expect(room.tracks).toEqual([[a], [b]]);
  });

  it('a leg that closes leaves the members, every route and every track', () => {
    const [a, b, c] = [fakeLeg(1), fakeLeg(2), fakeLeg(3)];
    const room = new WorkerRoom(7, routingHost);
    room.setMembers(
      [member(a, [b, 1], [c, 1]), member(b, [a, 1]), member(c, [a, 1], [b, 1])],
      [[asLeg(a)], [asLeg(b), asLeg(c)]],
    );
    expect([a.mixListener, c.mixListener]).toEqual([0, 2]);
    room.removeLeg(asLeg(b));
    expect(room.members).toEqual([member(a, [c, 1]), member(c, [a, 1])]);
    expect(room.tracks).toEqual([[a], [c]]);
    // Each now hears one leg at unity: relays.
    expect([a.sources, c.sources, b.roomId]).toEqual([[c], [a], 0]);
  });
});

describe('WorkerRoom recording start: fed from the command, while its file is created', () => {
  const fakeLeg = (id: number) =>
    ({
      id,
      payloads: new PayloadMap([{ name: 'PCMU', payloadType: 0 }], null),
      mixListener: -1,
      sources: [],
      jitter: null,
      roomId: 0,
      recordTap: null,
      recordSlot: -1,
    }) as unknown as WorkerLeg;
  const member = (leg: WorkerLeg, other: WorkerLeg) => ({ leg, hears: [{ leg: other, gain: 1 }] });
  /** A file whose writes wait for `open()` (a create the writer thread has not done yet). */
  const heldFile = (fail?: NodeJS.ErrnoException) => {
    let open!: () => void;
    const created = new Promise<void>((resolve) => (open = resolve));
    const positions: number[] = [];
    const file = {
      async write(_b: Buffer, _o: number, length: number, position: number) {
        await created;
        if (fail !== undefined) throw fail;
        positions.push(position);
        return { bytesWritten: length };
      },
      close: async (): Promise<void> => undefined,
    };
    return { file, open, positions };
  };

  it('its legs feed it and its timeline runs before the file is open', async () => {
    const { file, open, positions } = heldFile();
    const room = new WorkerRoom(21, { ...host, createRecordingFile: async () => file });
    const [a, b] = [fakeLeg(1), fakeLeg(2)];
    room.setMembers([member(a, b), member(b, a)], [[a], [b]]);
    const before = Date.now();
    const starting = room.startRecording({ path: 'held.wav', channels: 2 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    // The create is still on its way, and the legs' packets are already queued for it.
    expect(positions).toEqual([]);
    expect(a.recordTap).not.toBeNull();
    expect(b.recordTap).toBe(a.recordTap);
    open();
    const started = await starting;
    expect(positions).toEqual([0]); // the header
    expect(started.startedAt).toBeGreaterThanOrEqual(before);
    expect(started.startedAt).toBeLessThan(before + 100);
    // The file starts at the command: the 120 ms its create took are in it.
    const summary = await room.close();
    expect(summary!.frames).toBeGreaterThanOrEqual(120 / 20);
    expect(a.recordTap).toBeNull();
  });

  it('a create that fails: the start rejects with its error and no leg feeds it', async () => {
    const exists: NodeJS.ErrnoException = Object.assign(new Error('EEXIST: file exists'), {
      code: 'EEXIST',
    });
    const { file, open } = heldFile(exists);
    const room = new WorkerRoom(22, { ...host, createRecordingFile: async () => file });
    const [a, b] = [fakeLeg(1), fakeLeg(2)];
    room.setMembers([member(a, b), member(b, a)], [[a], [b]]);
    const starting = room.startRecording({ path: 'exists.wav', channels: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.recordTap).not.toBeNull();
    open();
    await expect(starting).rejects.toMatchObject({ code: 'EEXIST' });
    expect([a.recordTap, b.recordTap]).toEqual([null, null]);
    expect(room.recording).toBe(false);
    expect(await room.close()).toBeNull();
  });
});

describe('WorkerRoom prompts: played into named legs only, their end reported once', () => {
  interface FakeLeg {
    id: number;
    payloads: PayloadMap;
    mixListener: number;
    sources: FakeLeg[];
    jitter: unknown;
    audio: unknown;
    roomId: number;
    sending: boolean;
    counters: { dropDirection: number };
  }
  const fakeLeg = (id: number): FakeLeg => ({
    id,
    payloads: new PayloadMap([{ name: 'PCMU', payloadType: 0 }], null),
    mixListener: -1,
    sources: [],
    jitter: null,
    audio: null,
    roomId: 0,
    // Not sending: the frame mixes for it but sends nothing (no socket here).
    sending: false,
    counters: { dropDirection: 0 },
  });
  const asLeg = (l: FakeLeg): WorkerLeg => l as unknown as WorkerLeg;
  const ended: string[] = [];
  const promptHost = {
    ...host,
    relay(listener: WorkerLeg, sources: WorkerLeg[]): void {
      (listener as unknown as FakeLeg).sources = sources as unknown as FakeLeg[];
    },
    promptEnded(roomId: number, playId: number, reason: string): void {
      ended.push(`${roomId}/${playId}:${reason}`);
    },
  };
  const pair = (room: WorkerRoom, a: FakeLeg, b: FakeLeg): void =>
    room.setMembers(
      [
        { leg: asLeg(a), hears: [{ leg: asLeg(b), gain: 1 }] },
        { leg: asLeg(b), hears: [{ leg: asLeg(a), gain: 1 }] },
      ],
      [[asLeg(a)], [asLeg(b)]],
    );
  const audio = { sampleRate: 8000 as const, samples: new Int16Array(400).fill(1000) };

  beforeEach(() => {
    ended.length = 0;
  });

  it('a relayed leg is mixed while a prompt plays to it, relayed again after its end', () => {
    const [a, b] = [fakeLeg(1), fakeLeg(2)];
    const room = new WorkerRoom(11, promptHost);
    pair(room, a, b);
    room.playPrompt([asLeg(a)], audio, false, 1);
    // Only a hears it: a mixes (b + the prompt), b is still a relay of a.
    expect([a.mixListener, a.sources, b.sources, room.clocked]).toEqual([0, [], [a], true]);
    // 400 samples: three frames; like a tone, its end is found on the next frame.
    for (let i = 0; i < 3; i++) room.frame(i, performance.now());
    expect(ended).toEqual([]);
    room.frame(3, performance.now());
    expect(ended).toEqual(['11/1:finished']);
    expect([a.mixListener, a.sources, room.clocked]).toEqual([-1, [b], false]);
  });

  it('a loop plays until stopped; a stop of an ended playback does nothing', () => {
    const [a, b] = [fakeLeg(1), fakeLeg(2)];
    const room = new WorkerRoom(12, promptHost);
    pair(room, a, b);
    room.playPrompt([asLeg(a), asLeg(b)], audio, true, 7);
    for (let i = 0; i < 20; i++) room.frame(i, performance.now());
    expect(ended).toEqual([]);
    room.stopPrompt(7);
    room.stopPrompt(7);
    expect(ended).toEqual(['12/7:stopped']);
    expect([a.sources, b.sources, room.clocked]).toEqual([[b], [a], false]);
  });

  it('ends "left" when every leg it plays to has left, "closed" with the room', async () => {
    const [a, b, c] = [fakeLeg(1), fakeLeg(2), fakeLeg(3)];
    const room = new WorkerRoom(13, promptHost);
    room.setMembers([
      { leg: asLeg(a), hears: [{ leg: asLeg(b), gain: 1 }] },
      { leg: asLeg(b), hears: [{ leg: asLeg(a), gain: 1 }] },
      { leg: asLeg(c), hears: [] },
    ]);
    room.playPrompt([asLeg(a), asLeg(c)], audio, true, 1);
    room.playPrompt([asLeg(b)], audio, true, 2);
    room.removeLeg(asLeg(a));
    expect(ended).toEqual([]); // still playing to c
    // c leaves by new routes (not by closing).
    room.setMembers([{ leg: asLeg(b), hears: [] }]);
    expect(ended).toEqual(['13/1:left']);
    await room.close();
    expect(ended).toEqual(['13/1:left', '13/2:closed']);
  });

  it('refuses a leg outside the room and a playback id in use', () => {
    const [a, b, c] = [fakeLeg(1), fakeLeg(2), fakeLeg(3)];
    const room = new WorkerRoom(14, promptHost);
    pair(room, a, b);
    expect(() => room.playPrompt([asLeg(c)], audio, false, 1)).toThrow(/not in room 14/);
    room.playPrompt([asLeg(a)], audio, false, 1);
    expect(() => room.playPrompt([asLeg(b)], audio, false, 1)).toThrow(/already playing/);
    expect(ended).toEqual([]);
  });
});
