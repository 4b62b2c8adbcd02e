/**
 * CallMedia's room updates under the interleaving a monitored internal call produces: the
 * recording tap's setRoles (at answer), monitoring's role swap (prepareRoles, not awaited
 * by MonitoringService.start), the supervisor's attach (setMonitor) and a PATCH to barge,
 * all issued before the room has acknowledged the first membership. The room is a fake
 * whose setRoutes the test completes one at a time, in an explicit order.
 */
import { describe, expect, it } from '@jest/globals';
import type { Leg, MediaEngine, RoomRoutesSpec } from '../../../../media/engine/index.js';
import { CallMedia, applyLegMedia } from '../../../../src/calls/callMedia.js';
import type { LegSecurity } from '../../../../src/calls/callMedia.js';
import { createLogger } from '../../../../src/logging.js';
import type { LegMedia } from '../../../../sip/sdp/index.js';

/** Routes by leg name: who hears whom (and at which gain), and the recording's tracks. */
interface Snapshot {
  members: Array<{ leg: string; hears: Array<{ leg: string; gain: number }> }>;
  recordingTracks: [string[], string[]];
}

interface Pending {
  routes: Snapshot;
  done: () => void;
}

function scene(): {
  engine: MediaEngine;
  pending: Pending[];
  applied: Snapshot[];
  maxInFlight: () => number;
  /** What the room was asked, in order ('setRoutes', 'startRecording'). */
  asked: string[];
  /** Ends each prompt played so far (with a reason), oldest first. */
  prompts: ((reason: string) => void)[];
} {
  const asked: string[] = [];
  const pending: Pending[] = [];
  const applied: Snapshot[] = [];
  const prompts: ((reason: string) => void)[] = [];
  let inFlight = 0;
  let max = 0;
  let legs = 0;
  const leg = (): Leg => {
    const name = ['a', 'b', 'supervisor'][legs++]!;
    return { name, closed: false, on() {}, close: async () => {} } as unknown as Leg;
  };
  const room = {
    setRoutes(routes: RoomRoutesSpec): Promise<void> {
      asked.push('setRoutes');
      inFlight++;
      max = Math.max(max, inFlight);
      const name = (leg: Leg): string => (leg as unknown as { name: string }).name;
      const snapshot: Snapshot = {
        members: routes.members.map((m) => ({
          leg: name(m.leg),
          hears: m.hears.map((h) => ({ leg: name(h.leg), gain: h.gain })),
        })),
        recordingTracks: [routes.recordingTracks[0].map(name), routes.recordingTracks[1].map(name)],
      };
      return new Promise<void>((resolve) => {
        pending.push({
          routes: snapshot,
          done: () => {
            inFlight--;
            applied.push(snapshot);
            resolve();
          },
        });
      });
    },
    startRecording: async () => {
      asked.push('startRecording');
      return { format: 'wav', sampleRate: 8000, encoding: 'pcm16' };
    },
    close: async () => null,
    playPrompt: async (legs: Leg[]) => {
      const to = legs.map((l) => (l as unknown as { name: string }).name).join(',');
      asked.push(`playPrompt ${to}`);
      let finish: (reason: string) => void = () => {};
      const done = new Promise<string>((resolve) => (finish = resolve));
      prompts.push(finish);
      return { done };
    },
  };
  const engine = {
    createLeg: async () => leg(),
    createRoom: async () => room,
  } as unknown as MediaEngine;
  return { engine, pending, applied, maxInFlight: () => max, asked, prompts };
}

/** Completes the room's pending updates one at a time, oldest first, until none is left. */
async function drain(pending: Pending[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setImmediate(r));
    const next = pending.shift();
    if (next === undefined) return;
    next.done();
  }
}

describe('CallMedia room updates', () => {
  it('the last membership applied has the last roles and mode, both parties in every one', async () => {
    const { engine, pending, applied, maxInFlight } = scene();
    const media = await CallMedia.create(engine, 'c1', ['PCMU'], createLogger('silent'));
    const supervisor = await media.createMonitorLeg();
    const connected = media.connect();
    // Not awaited, in the order an agent-calls-customer internal call issues them: the
    // tap's roles at answer (the callee is the agent), monitoring's swap (the supervisor
    // targets the caller), the attach in whisper and the PATCH to barge.
    const steps = [
      media.setRoles({ a: 'customer', b: 'agent' }),
      media.setRoles({ a: 'agent', b: 'customer' }),
      media.setMonitor(supervisor, 'whisper'),
      media.setMonitor(supervisor, 'barge'),
    ];
    await drain(pending);
    await Promise.all([connected, ...steps]);

    expect(maxInFlight()).toBe(1);
    for (const routes of applied) {
      expect(routes.members.map((m) => m.leg).slice(0, 2)).toEqual(['a', 'b']);
    }
    // The last roles (b the customer, a the agent) and mode (barge): everyone hears
    // everyone else, the customer is recorded left, the agent right.
    const unity = (...legs: string[]) => legs.map((leg) => ({ leg, gain: 1 }));
    expect(applied[applied.length - 1]).toEqual({
      members: [
        { leg: 'a', hears: unity('b', 'supervisor') },
        { leg: 'b', hears: unity('a', 'supervisor') },
        { leg: 'supervisor', hears: unity('a', 'b') },
      ],
      recordingTracks: [['b'], ['a']],
    });
  });

  it("asks the recording's start right behind the first routes, before they are answered", async () => {
    // The engine sends the commands of one event-loop turn in one message to the worker,
    // which runs them in order: the start then finds the parties' tracks set.
    const { engine, pending, asked } = scene();
    const media = await CallMedia.create(engine, 'c2', ['PCMU'], createLogger('silent'));
    const started = media.startRecording({ path: '/nowhere/x.wav', channels: 2 });
    const connected = media.connect();
    await new Promise((r) => setImmediate(r)); // one turn: the routes are still unanswered
    expect(pending).toHaveLength(1);
    expect(asked).toEqual(['setRoutes', 'startRecording']);
    await drain(pending);
    await connected;
    await expect(started).resolves.toEqual({ format: 'wav', sampleRate: 8000, encoding: 'pcm16' });
  });

  it('starts no recording once the media closed before the room was routed', async () => {
    const { engine, asked } = scene();
    const media = await CallMedia.create(engine, 'c3', ['PCMU'], createLogger('silent'));
    const started = media.startRecording({ path: '/nowhere/y.wav', channels: 2 });
    await media.close();
    await expect(started).resolves.toBeNull();
    expect(asked).toEqual([]);
  });
});

describe('the caller announcement', () => {
  const prompt = { id: 1, sampleRate: 8000 as const, durationMs: 2000 };
  const routesOf = (s: Snapshot) =>
    s.members.map((m) => `${m.leg}<-[${m.hears.map((h) => h.leg).join(',')}]`);

  it('after early media: parks both parties, plays to the caller, connects them at its end; the recording waits', async () => {
    const { engine, pending, applied, asked, prompts } = scene();
    const media = await CallMedia.create(engine, 'c5', ['PCMU'], createLogger('silent'));
    // Early media connected the parties (the 183), then the call is answered.
    const early = media.connect();
    await drain(pending);
    await early;
    const announced = media.announce(prompt);
    const started = media.startRecording({ path: '/nowhere/z.wav', channels: 2 });
    const connected = media.connect(); // the 200's answer applied: waits for the prompt
    await drain(pending);
    expect(asked).toEqual(['setRoutes', 'setRoutes', 'playPrompt a']);
    expect(routesOf(applied[1]!)).toEqual(['a<-[]', 'b<-[]']);
    expect(applied[1]!.recordingTracks).toEqual([[], []]);
    expect(media.isConnected).toBe(false);

    prompts[0]!('finished');
    await new Promise((r) => setImmediate(r));
    await drain(pending);
    await Promise.all([announced, connected]);
    expect(routesOf(applied[2]!)).toEqual(['a<-[b]', 'b<-[a]']);
    expect(applied[2]!.recordingTracks).toEqual([['a'], ['b']]);
    expect(media.isConnected).toBe(true);
    await expect(started).resolves.toEqual({ format: 'wav', sampleRate: 8000, encoding: 'pcm16' });
    expect(asked).toEqual([
      'setRoutes',
      'setRoutes',
      'playPrompt a',
      'setRoutes',
      'startRecording',
    ]);
  });

  it('the call ending during the announcement connects nobody and records nothing', async () => {
    const { engine, pending, asked, prompts } = scene();
    const media = await CallMedia.create(engine, 'c6', ['PCMU'], createLogger('silent'));
    const announced = media.announce(prompt);
    const started = media.startRecording({ path: '/nowhere/w.wav', channels: 2 });
    await drain(pending);
    expect(asked).toEqual(['setRoutes', 'playPrompt a']);
    await media.close();
    prompts[0]!('closed'); // what the room's close does to its playbacks
    await announced;
    await expect(started).resolves.toBeNull();
    expect(asked).toEqual(['setRoutes', 'playPrompt a']);
  });
});

describe('the negotiated codec of a leg', () => {
  it('is what the latest offer/answer applied chose for each side', async () => {
    const { engine } = scene();
    const media = await CallMedia.create(engine, 'c1', ['PCMU', 'G722'], createLogger('silent'));
    expect(media.negotiatedCodec('a')).toBeUndefined();
    const internals = media as unknown as { legs: Record<'a' | 'b', Record<string, unknown>> };
    for (const leg of Object.values(internals.legs)) leg.applyMedia = async () => {};
    const answer = (name: 'PCMU' | 'G722', pt: number): LegMedia => {
      const codec = { name, clockRate: 8000, payloadType: pt, sendPayloadType: pt };
      return {
        remote: { address: '127.0.0.1', port: 4000 },
        rtcpMux: false,
        codec,
        codecs: [codec],
        direction: 'sendrecv',
      } as unknown as LegMedia;
    };
    await media.apply('a', answer('PCMU', 0));
    await media.apply('b', answer('G722', 9));
    expect([media.negotiatedCodec('a'), media.negotiatedCodec('b')]).toEqual(['PCMU', 'G722']);
    // A re-INVITE's answer moves side a to G.722.
    await media.apply('a', answer('G722', 9));
    expect(media.negotiatedCodec('a')).toBe('G722');
  });
});

describe('an answer applied to a leg', () => {
  /** A leg that records what it was asked, in order. */
  function recordingLeg(): { leg: Leg; asked: Array<[string, unknown]> } {
    const asked: Array<[string, unknown]> = [];
    const leg = {
      applyMedia: async (spec: unknown) => void asked.push(['applyMedia', spec]),
      secure: async (...args: unknown[]) => void asked.push(['secure', args[1]]),
      setCodecs: async () => void asked.push(['setCodecs', null]),
      setRemote: async () => void asked.push(['setRemote', null]),
      setDirection: async () => void asked.push(['setDirection', null]),
    } as unknown as Leg;
    return { leg, asked };
  }
  const pcma = { name: 'PCMA', clockRate: 8000, payloadType: 8, sendPayloadType: 8 };
  const answer = (address: string): LegMedia =>
    ({
      remote: { address, port: 4000, rtcp: { port: 4005 } },
      rtcpMux: false,
      codec: pcma,
      codecs: [pcma],
      telephoneEvent: { payloadType: 101, sendPayloadType: 96, clockRate: 8000 },
      direction: 'recvonly',
    }) as unknown as LegMedia;

  it('is one command: codecs, remote and direction together (one wake-up of the worker)', async () => {
    const { leg, asked } = recordingLeg();
    await applyLegMedia(leg, answer('192.0.2.7'));
    expect(asked).toEqual([
      [
        'applyMedia',
        {
          codecs: [{ name: 'PCMA', payloadType: 8 }],
          telephoneEvent: { payloadType: 96, clockRate: 8000 },
          remote: { address: '192.0.2.7', port: 4000, rtcpPort: 4005, rtcpMux: false },
          direction: 'recvonly',
        },
      ],
    ]);
  });

  it('leaves the remote out for a hold to 0.0.0.0 (the leg keeps its address)', async () => {
    const { leg, asked } = recordingLeg();
    await applyLegMedia(leg, answer('0.0.0.0'));
    expect(asked).toHaveLength(1);
    expect(asked[0]![0]).toBe('applyMedia');
    expect(asked[0]![1]).not.toHaveProperty('remote');
  });

  it("sends a WebRTC leg its peer's side in the same turn, and no address", async () => {
    const { leg, asked } = recordingLeg();
    const media = {
      ...answer('192.0.2.7'),
      webrtc: { remote: { ice: { ufrag: 'u', pwd: 'p' }, fingerprints: [] }, dtlsRole: 'server' },
    } as unknown as LegMedia;
    const security = {
      ice: { ufrag: 'lu', pwd: 'lp' },
      identity: { certificate: { certPem: 'c', keyPem: 'k' } },
    } as unknown as LegSecurity;
    const done = applyLegMedia(leg, media, security);
    expect(asked.map(([what]) => what)).toEqual(['applyMedia', 'secure']);
    await done;
    expect(asked[0]![1]).not.toHaveProperty('remote');
    expect(asked[1]![1]).toEqual({
      ice: { ufrag: 'u', pwd: 'p' },
      fingerprints: [],
      dtlsRole: 'server',
    });
  });
});

describe("creating a call's media", () => {
  it('asks for both legs and the room in one turn (one message to the worker)', async () => {
    const asked: string[] = [];
    const engine = {
      createLeg: async () => {
        asked.push('createLeg');
        return { on() {}, close: async () => {} } as unknown as Leg;
      },
      createRoom: async () => {
        asked.push('createRoom');
        return { close: async () => null };
      },
    } as unknown as MediaEngine;
    const creating = CallMedia.create(engine, 'c1', ['PCMU'], createLogger('silent'));
    expect(asked).toEqual(['createLeg', 'createLeg', 'createRoom']); // before any answer
    await creating;
  });

  it('closes what was made when one of the three fails, and rejects with its error', async () => {
    const closed: string[] = [];
    let legs = 0;
    const engine = {
      createLeg: async () => {
        const name = `leg${++legs}`;
        if (name === 'leg2') throw new Error('no ports');
        return { name, on() {}, close: async () => void closed.push(name) } as unknown as Leg;
      },
      createRoom: async () => ({ close: async () => void closed.push('room') }),
    } as unknown as MediaEngine;
    await expect(CallMedia.create(engine, 'c1', ['PCMU'], createLogger('silent'))).rejects.toThrow(
      'no ports',
    );
    expect(closed.sort()).toEqual(['leg1', 'room']);
  });
});

describe("a call's media, answered and ended, in as few messages to the worker as it can", () => {
  /** Legs and a room that log what they are asked; nothing is answered until `answer()`. */
  function recorder(): { engine: MediaEngine; asked: string[]; answer: () => void } {
    const asked: string[] = [];
    const waiting: Array<() => void> = [];
    const later = <T>(what: string, value: T): Promise<T> => {
      asked.push(what);
      return new Promise<T>((resolve) => waiting.push(() => resolve(value)));
    };
    let legs = 0;
    const leg = (): Leg => {
      const name = ['a', 'b'][legs++]!;
      return {
        name,
        closed: false,
        on() {},
        applyMedia: () => later(`applyMedia ${name}`, undefined),
        close: () => later(`closeLeg ${name}`, undefined),
      } as unknown as Leg;
    };
    const room = {
      setRoutes: () => later('setRoutes', undefined),
      startRecording: () =>
        later('startRecording', { format: 'wav', sampleRate: 8000, encoding: 'pcm16' }),
      close: () => later('closeRoom', null),
    };
    const engine = {
      createLeg: async () => leg(),
      createRoom: async () => room,
    } as unknown as MediaEngine;
    return { engine, asked, answer: () => waiting.splice(0).forEach((done) => done()) };
  }

  const pcma: LegMedia = {
    codec: { name: 'PCMA', payloadType: 8, sendPayloadType: 8, clockRate: 8000 },
    codecs: [],
    remote: { address: '192.0.2.1', port: 4000 },
    direction: 'sendrecv',
    rtcpMux: false,
  } as unknown as LegMedia;

  it("sends the answer's media, the routes and the recording's start in one turn", async () => {
    const { engine, asked, answer } = recorder();
    const media = await CallMedia.create(engine, 'c1', ['PCMA'], createLogger('silent'));
    // As Call.answer and the recording tap issue them when the callee answers.
    const applied = Promise.all([media.apply('a', pcma), media.apply('b', pcma), media.connect()]);
    const roles = media.setRoles({ a: 'customer', b: 'agent' }); // the roles it had: no routes
    const started = media.startRecording({ path: '/nowhere/z.wav', channels: 2 });
    await new Promise((r) => setImmediate(r)); // one turn, nothing answered yet
    expect(asked).toEqual(['applyMedia a', 'applyMedia b', 'setRoutes', 'startRecording']);
    answer();
    await Promise.all([applied, roles]);
    await expect(started).resolves.toEqual({ format: 'wav', sampleRate: 8000, encoding: 'pcm16' });
  });

  it('closes the room and both legs in one turn, with the recording summary of the room', async () => {
    const { engine, asked, answer } = recorder();
    const media = await CallMedia.create(engine, 'c2', ['PCMA'], createLogger('silent'));
    const closed = media.close();
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual(['closeRoom', 'closeLeg a', 'closeLeg b']);
    answer();
    await closed;
    await expect(media.ended).resolves.toBeNull();
  });
});
