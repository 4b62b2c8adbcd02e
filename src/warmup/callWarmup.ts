/**
 * Warms the call path before the SIP sockets open (docs/architecture.md §8.5). The SIP
 * warm-up compiles the parser, transactions and registrar; a call set-up runs far more
 * code besides (the B2BUA's call and fork, SDP answer and relay, the media engine's
 * requests, and in each media worker its legs and rooms, an isolate of its own). Until
 * V8 has compiled that, the first seconds of a call storm cost twice what later ones do,
 * and the set-ups queue.
 *
 * So the server first places calls through throwaway instances of its call code: a SIP
 * stack on an ephemeral 127.0.0.1 port, a call service with a config of its own (one
 * trunk, one extension, no queue, no recording, no prompt), a location service holding
 * one binding, and the real media engine (whose legs are real: that is the point). The
 * trunk and the phone are two loopback sockets speaking plain SIP: INVITE with SDP,
 * 180, 200 with SDP, ACK on both legs, BYE from either side. No event, metric, log
 * line, registration or audit entry of the server's comes out of it, and no RTP flows.
 *
 * Bounded by a wall-clock budget: calls start while it lasts, those in flight are
 * finished (or ended by the call service's close), then everything is closed.
 */
import { performance } from 'node:perf_hooks';
import { DigestAuthenticator } from '../../sip/auth/authenticator.js';
import type { Clock } from '../../sip/clock.js';
import { newTag } from '../../sip/ids.js';
import {
  buildResponse,
  callIdOf,
  cseqOf,
  serializeMessage,
  type SipMessage,
  type SipResponse,
} from '../../sip/message/index.js';
import { SipStack } from '../../sip/stack.js';
import type { NativeSipAddon } from '../../sip/transport/nativeSipSocket.js';
import type { MediaEngine } from '../../media/engine/index.js';
import { CallService } from '../calls/callService.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import { contactKey } from '../registrar/contactKey.js';
import { LocationService } from '../registrar/locationService.js';
import { parseUri } from '../../sip/message/uri.js';
import { LOOPBACK, LoopbackPeer } from './loopbackPeer.js';

export interface CallWarmupOptions {
  /** Wall-clock budget in ms for starting calls; 0 does nothing. */
  budgetMs: number;
  config: Config;
  engine: MediaEngine;
  /** The address written in our SDP (the server's). */
  mediaAddress: string;
  clock: Clock;
  /** Methods we allow (the server's). */
  allow: readonly string[];
  /** The native addon when the server's SIP socket uses it (same receive path). */
  udpNative?: NativeSipAddon;
  /** Silenced here: a throwaway call logs nothing. */
  logger: Logger;
  /** Calls in flight at once (default: warmupConcurrency of the port range). */
  concurrency?: number;
  /** Upper bound on calls, whatever the budget (tests). */
  maxCalls?: number;
  /** The budget's clock (default performance.now). */
  now?: () => number;
}

export interface CallWarmupReport {
  /** Calls that went from INVITE to the 200 of their BYE. */
  calls: number;
  elapsedMs: number;
  /** Why the warm-up stopped early (a call that did not complete), if it did. */
  error?: string;
}

/** The warm-up's own names: a trunk DID ringing an extension no config can hold. */
const EXTENSION = 'warm-up.agent';
const DID = 'warm-up.did';
const TRUNK = 'warm-up';
/** The trunk's caller user when the phone is to hang up (the B2BUA keeps it in From). */
const PHONE_HANGS_UP = 'phone-hangs-up';
const callerOf = (call: { trunkHangsUp: boolean }) =>
  call.trunkHangsUp ? 'trunk-hangs-up' : PHONE_HANGS_UP;
/** How long a call may take before the warm-up gives up on it (and stops). */
const CALL_TIMEOUT_MS = 3000;
/** A warm-up call's talk time: long enough for both legs' media to be applied. */
const HOLD_MS = 30;
/** How long the in-flight calls may take to finish once the budget is spent. */
const DRAIN_MS = 3000;

type Codec = Config['calls']['codecs'][number];

/** Each codec the config may list, as a loopback party offers it (RFC 3551, RFC 7587). */
const FORMATS: Record<Codec, { pt: number; rtpmap: string; fmtp?: string }> = {
  PCMU: { pt: 0, rtpmap: 'PCMU/8000' },
  PCMA: { pt: 8, rtpmap: 'PCMA/8000' },
  G722: { pt: 9, rtpmap: 'G722/8000' },
  opus: { pt: 111, rtpmap: 'opus/48000/2', fmtp: 'useinbandfec=1' },
};

/** SDP from a loopback party: RTP to the discard port, where nothing is ever sent. */
function sdp(codec: Codec, session: number): string {
  const { pt, rtpmap, fmtp } = FORMATS[codec];
  return [
    'v=0',
    `o=warm-up ${session} ${session} IN IP4 ${LOOPBACK}`,
    's=-',
    `c=IN IP4 ${LOOPBACK}`,
    't=0 0',
    `m=audio 9 RTP/AVP ${pt} 101`,
    `a=rtpmap:${pt} ${rtpmap}`,
    ...(fmtp !== undefined ? [`a=fmtp:${pt} ${fmtp}`] : []),
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The codec of an offer's first audio format, which the phone answers with. */
function firstCodec(offer: string): Codec | undefined {
  const pt = /^m=audio \d+ [A-Z/]+ (\d+)/m.exec(offer)?.[1];
  const name = new RegExp(`^a=rtpmap:${pt} ([^/\\s]+)/`, 'm').exec(offer)?.[1]?.toLowerCase();
  return (Object.keys(FORMATS) as Codec[]).find((c) => c.toLowerCase() === name);
}

/** The `<uri>` of a Contact header value. */
const contactUri = (message: SipMessage): string | undefined =>
  /<([^>]+)>/.exec(message.headers.get('Contact') ?? '')?.[1];

const toTagOf = (message: SipMessage): string | undefined =>
  /;tag=([^;>\s]+)/.exec(message.headers.get('To') ?? '')?.[1];

function request(
  lines: { method: string; uri: string; via: string; from: string; to: string },
  callId: string,
  cseq: number,
  contact: string,
  body = '',
): string {
  return [
    `${lines.method} ${lines.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${lines.via};branch=z9hG4bK-${newTag()};rport`,
    'Max-Forwards: 70',
    `From: ${lines.from}`,
    `To: ${lines.to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${lines.method}`,
    `Contact: <${contact}>`,
    ...(body !== '' ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** One warm-up call as the trunk sees it; `done` settles at its end. */
interface TrunkCall {
  readonly fromTag: string;
  /** Whether the trunk (else the phone) hangs up. */
  readonly trunkHangsUp: boolean;
  state: 'inviting' | 'talking' | 'byeing' | 'done';
  toTag?: string;
  target?: string;
  done(): void;
  failed(reason: string): void;
}

/** The throwaway instances of one warm-up, and its two loopback parties. */
class WarmupScene {
  private readonly calls = new Map<string, TrunkCall>();
  private readonly phoneDialogs = new Map<
    string,
    { from: string; to: string; target: string; hangsUp: boolean }
  >();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly stack: SipStack,
    private readonly trunk: LoopbackPeer,
    private readonly phone: LoopbackPeer,
    /** The server's codecs: the calls offer each in turn. */
    private readonly codecs: readonly Codec[],
  ) {
    trunk.onMessage((m) => this.onTrunkMessage(m));
    phone.onMessage((m, fromPort) => this.onPhoneMessage(m, fromPort));
  }

  private get stackPort(): number {
    return this.stack.ports.udp as number;
  }

  /** Places call number `n` from the trunk; settles when its BYE is answered. */
  place(n: number): Promise<void> {
    const callId = `warm-up-${n}-${newTag()}`;
    const uri = `sip:${DID}@${LOOPBACK}:${this.stackPort}`;
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.timers.delete(timeout);
        call.failed(`call ${n} did not complete within ${CALL_TIMEOUT_MS} ms`);
      }, CALL_TIMEOUT_MS);
      this.timers.add(timeout);
      const settle = () => {
        clearTimeout(timeout);
        this.timers.delete(timeout);
        this.calls.delete(callId);
        call.state = 'done';
      };
      const call: TrunkCall = {
        fromTag: newTag(),
        trunkHangsUp: n % 2 === 0,
        state: 'inviting',
        done: () => {
          settle();
          resolve();
        },
        failed: (reason) => {
          settle();
          reject(new Error(reason));
        },
      };
      this.calls.set(callId, call);
      this.trunk.send(
        request(
          {
            method: 'INVITE',
            uri,
            via: `${LOOPBACK}:${this.trunk.port}`,
            from: `<sip:${callerOf(call)}@${LOOPBACK}>;tag=${call.fromTag}`,
            to: `<sip:${DID}@${LOOPBACK}>`,
          },
          callId,
          1,
          `sip:customer@${LOOPBACK}:${this.trunk.port}`,
          sdp(this.codecs[n % this.codecs.length] as Codec, n),
        ),
        this.stackPort,
      );
    });
  }

  private onTrunkMessage(message: SipMessage): void {
    const callId = callIdOf(message);
    const call = this.calls.get(callId);
    if (call === undefined) return;
    if (message.kind === 'request') {
      // The phone hung up: our BYE's twin comes from the server.
      this.trunk.send(serializeMessage(buildResponse(message, 200)).toString(), this.stackPort);
      if (message.method === 'BYE') call.done();
      return;
    }
    const { method } = cseqOf(message);
    if (method === 'INVITE' && message.status >= 300) {
      call.failed(`INVITE got ${message.status}`);
    } else if (method === 'INVITE' && message.status >= 200 && call.state === 'inviting') {
      call.state = 'talking';
      call.toTag = toTagOf(message);
      call.target = contactUri(message) ?? `sip:${LOOPBACK}:${this.stackPort}`;
      this.trunk.send(this.trunkRequest('ACK', callId, call, 1), this.stackPort);
      if (call.trunkHangsUp) {
        this.later(() => {
          if (call.state !== 'talking') return;
          call.state = 'byeing';
          this.trunk.send(this.trunkRequest('BYE', callId, call, 2), this.stackPort);
        });
      }
    } else if (method === 'BYE' && message.status >= 200) {
      if (message.status >= 300) call.failed(`BYE got ${message.status}`);
      else call.done();
    }
  }

  private trunkRequest(method: string, callId: string, call: TrunkCall, cseq: number): string {
    return request(
      {
        method,
        uri: call.target as string,
        via: `${LOOPBACK}:${this.trunk.port}`,
        from: `<sip:${callerOf(call)}@${LOOPBACK}>;tag=${call.fromTag}`,
        to: `<sip:${DID}@${LOOPBACK}>;tag=${call.toTag ?? ''}`,
      },
      callId,
      cseq,
      `sip:customer@${LOOPBACK}:${this.trunk.port}`,
    );
  }

  /** The phone: rings, answers, and hangs up itself when its call says so. */
  private onPhoneMessage(message: SipMessage, fromPort: number): void {
    if (message.kind !== 'request') return; // the 200 to its own BYE: nothing to do
    const callId = callIdOf(message);
    const reply = (response: SipResponse) =>
      this.phone.send(serializeMessage(response).toString(), fromPort);
    switch (message.method) {
      case 'INVITE': {
        if (toTagOf(message) !== undefined) {
          reply(buildResponse(message, 488)); // no re-INVITE in a warm-up call
          return;
        }
        const codec = firstCodec(message.body.toString());
        if (codec === undefined) {
          reply(buildResponse(message, 488, { toTag: newTag() }));
          return;
        }
        const tag = this.phoneDialogs.get(callId)?.to ?? newTag();
        const contact = `sip:${EXTENSION}@${LOOPBACK}:${this.phone.port}`;
        reply(buildResponse(message, 180, { toTag: tag }));
        reply(
          buildResponse(message, 200, {
            toTag: tag,
            headers: [
              ['Contact', `<${contact}>`],
              ['Content-Type', 'application/sdp'],
            ],
            body: Buffer.from(sdp(codec, 1)),
          }),
        );
        const from = message.headers.get('From') ?? '';
        this.phoneDialogs.set(callId, {
          to: tag,
          from,
          target: contactUri(message) ?? `sip:${LOOPBACK}:${fromPort}`,
          // Leg B has a Call-ID of its own; the caller's identity says who hangs up.
          hangsUp: from.includes(`sip:${PHONE_HANGS_UP}@`),
        });
        return;
      }
      case 'ACK': {
        const dialog = this.phoneDialogs.get(callId);
        if (dialog === undefined || !dialog.hangsUp) return;
        this.later(() => {
          if (!this.phoneDialogs.has(callId)) return;
          this.phone.send(
            request(
              {
                method: 'BYE',
                uri: dialog.target,
                via: `${LOOPBACK}:${this.phone.port}`,
                from: `<sip:${EXTENSION}@${LOOPBACK}>;tag=${dialog.to}`,
                to: dialog.from,
              },
              callId,
              1,
              `sip:${EXTENSION}@${LOOPBACK}:${this.phone.port}`,
            ),
            fromPort,
          );
          this.phoneDialogs.delete(callId);
        });
        return;
      }
      case 'BYE':
        this.phoneDialogs.delete(callId);
        reply(buildResponse(message, 200));
        return;
      default:
        reply(buildResponse(message, 200));
    }
  }

  private later(fire: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fire();
    }, HOLD_MS);
    this.timers.add(timer);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const call of [...this.calls.values()]) call.failed('warm-up closed');
  }
}

/**
 * Calls in flight at once: 8, or fewer when the media port range is small, so that the
 * warm-up never takes more than half of it (a call holds two legs of an RTP and an RTCP
 * port each; a busy range would answer the warm-up's calls 503).
 */
export function warmupConcurrency(range: { min: number; max: number }): number {
  const portsPerCall = 4;
  return Math.max(1, Math.min(8, Math.floor((range.max - range.min + 1) / 2 / portsPerCall)));
}

/** The config the throwaway call service runs: the server's, with its own parties. */
function warmupConfig(config: Config, trunkPort: number): Config {
  return {
    ...config,
    trunks: [
      {
        name: TRUNK,
        host: LOOPBACK,
        port: trunkPort,
        transport: 'udp',
        sourcePort: trunkPort,
        extraSourceAddresses: [],
        inboundAuth: null,
        prefixes: [],
        stripPrefix: false,
        dids: { [DID]: EXTENSION },
      },
    ],
    extensions: [
      {
        number: EXTENSION,
        password: newTag(),
        role: 'agent',
        record: false,
        allowMonitoring: false,
        callMonitorAccess: false,
      },
    ],
    queues: [],
    recording: { ...config.recording, enabled: false },
  };
}

/** Places synthetic calls through throwaway call code until the budget is spent. */
export async function warmCallPaths(options: CallWarmupOptions): Promise<CallWarmupReport> {
  const report: CallWarmupReport = { calls: 0, elapsedMs: 0 };
  if (options.budgetMs <= 0) return report;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const logger = options.logger.child({ module: 'warm-up' }, { level: 'silent' });
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const trunk = await LoopbackPeer.open();
    closers.push(() => trunk.close());
    const phone = await LoopbackPeer.open();
    closers.push(() => phone.close());
    const config = warmupConfig(options.config, trunk.port);
    const { t1Ms, t2Ms, t4Ms } = config.sip.timers;
    const stack = await SipStack.open({
      transport: {
        address: LOOPBACK,
        udpPort: 0,
        tcpPort: null,
        maxMessageBytes: config.sip.maxMessageBytes,
        tcpIdleTimeoutMs: config.sip.tcpIdleTimeoutSec * 1000,
        clock: options.clock,
        ...(options.udpNative !== undefined ? { udpNative: options.udpNative } : {}),
      },
      timers: { t1: t1Ms, t2: t2Ms, t4: t4Ms },
      clock: options.clock,
      logger,
    });
    closers.push(() => stack.close());
    const location = new LocationService(() => undefined);
    closers.push(() => location.removeAllListeners());
    const calls = new CallService({
      stack,
      engine: options.engine,
      location,
      authenticator: new DigestAuthenticator({
        realm: config.auth.realm,
        algorithms: config.auth.algorithms,
        lookupCredentials: () => undefined,
        clock: options.clock,
      }),
      config,
      clock: options.clock,
      logger,
      mediaAddress: options.mediaAddress,
      allow: options.allow,
      callerAnnouncement: null,
    });
    // Closed before the stack (its BYEs still go out), after the scene's own timers.
    closers.push(() => calls.close());
    stack.onRequest((incoming) => calls.handle(incoming));
    stack.on('ackFor2xx', (ack) => calls.onAck(ack));
    const contact = `sip:${EXTENSION}@${LOOPBACK}:${phone.port}`;
    const at = options.clock.now();
    location.upsert({
      extension: EXTENSION,
      contact: `<${contact}>`,
      uri: contact,
      key: contactKey(parseUri(contact)),
      callId: newTag(),
      cseq: 1,
      expiresAt: at + 3_600_000,
      registeredAt: at,
      source: { protocol: 'udp', address: LOOPBACK, port: phone.port },
    });
    const scene = new WarmupScene(stack, trunk, phone, config.calls.codecs);
    closers.push(() => scene.close());

    const concurrency = options.concurrency ?? warmupConcurrency(config.media.portRange);
    const maxCalls = options.maxCalls ?? Number.POSITIVE_INFINITY;
    let placed = 0;
    let stop = false;
    const lane = async (): Promise<void> => {
      while (!stop && placed < maxCalls && now() - started < options.budgetMs) {
        const n = placed++;
        try {
          await scene.place(n);
          report.calls++;
        } catch (err) {
          stop = true;
          report.error ??= (err as Error).message;
        }
      }
    };
    const lanes = Promise.all(Array.from({ length: concurrency }, lane));
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = new Promise<void>((resolve) => {
      drainTimer = setTimeout(resolve, options.budgetMs + DRAIN_MS);
    });
    const finished = await Promise.race([lanes.then(() => true), drained.then(() => false)]);
    clearTimeout(drainTimer);
    stop = true;
    if (!finished) report.error ??= `calls still in flight ${DRAIN_MS} ms after the budget`;
  } catch (err) {
    report.error ??= (err as Error).message;
  } finally {
    // Last opened, first closed: the scene's timers, the calls (BYEs while the stack and
    // the parties are up), the stack, the location's listeners, the sockets.
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        report.error ??= `closing: ${(err as Error).message}`;
      }
    }
  }
  report.elapsedMs = now() - started;
  return report;
}
