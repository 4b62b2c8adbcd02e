/**
 * Warms the SIP hot paths before the SIP sockets open (docs/architecture.md §8.5): a
 * fresh process compiles its parser, digest check, transaction layer and registrar while
 * the first second of traffic waits, and a restart under a registration storm then starts
 * with a backlog. So the server first plays synthetic exchanges through the same code —
 * REGISTER challenged then authorized, a retransmission, un-REGISTER, and an INVITE with
 * SDP, challenged, answered, ACKed and ended with BYE — on throwaway instances of its own
 * classes: a digest authenticator, transaction layer, registrar and location service that
 * nobody else sees, a virtual clock that arms no real timer, a `send` that only
 * serializes. No socket, event, metric, log line or audit entry comes out of it.
 *
 * Bounded by a wall-clock budget, checked between exchanges.
 */
import { performance } from 'node:perf_hooks';
import { DigestAuthenticator } from '../../sip/auth/authenticator.js';
import { parseAuthHeader } from '../../sip/auth/authParams.js';
import {
  computeDigestResponse,
  computeHa1,
  hashFunctionOf,
  parseDigestAlgorithm,
} from '../../sip/auth/digest.js';
import { credentialsHeaderName } from '../../sip/auth/authResult.js';
import { checkRequest, type RequestCheckOptions } from '../../sip/core/requestChecks.js';
import { newTag } from '../../sip/ids.js';
import { topVia } from '../../sip/message/accessors.js';
import type { SipMessage, SipRequest, SipResponse } from '../../sip/message/message.js';
import { parseMessage } from '../../sip/message/parse.js';
import { buildResponse } from '../../sip/message/response.js';
import { serializeMessage } from '../../sip/message/serialize.js';
import { formatVia, parseVia } from '../../sip/message/via.js';
import { negotiateAudio, parseSdp, type AudioCodecName } from '../../sip/sdp/index.js';
import { TransactionLayer } from '../../sip/transaction/layer.js';
import {
  needsReceivedStamp,
  responseDestination,
  stampReceived,
} from '../../sip/transport/responseRouting.js';
import type { Source } from '../../sip/transport/types.js';
import type { DigestAlgorithm } from '../../sip/auth/digest.js';
import { LocationService } from '../registrar/locationService.js';
import { RegisterService } from '../registrar/registerService.js';
import { Registrar, type RegistrarOptions } from '../registrar/registrar.js';
import { VirtualClock } from './virtualClock.js';
import type { Config } from '../config/schema.js';

export interface SipWarmupOptions {
  /** Wall-clock budget in ms; 0 does nothing. */
  budgetMs: number;
  realm: string;
  algorithms: readonly DigestAlgorithm[];
  registrar: RegistrarOptions;
  timers: { t1: number; t2: number; t4: number };
  requestChecks: RequestCheckOptions;
  codecs: readonly AudioCodecName[];
  /** Domain in the synthetic Request-URIs (one the server serves). */
  domain: string;
  /** Upper bound on rounds, whatever the budget (tests). */
  maxRounds?: number;
  /** The budget's clock (default performance.now). */
  now?: () => number;
}

/**
 * The warm-up a server with `config` runs (its budget, realm, algorithms, registrar,
 * timers and codecs), with the request checks it applies and `address` its SIP listen
 * address (the synthetic domain when the config names none).
 */
export function sipWarmupOptions(
  config: Config,
  requestChecks: RequestCheckOptions,
  address: string,
): SipWarmupOptions {
  return {
    budgetMs: config.sip.warmup.budgetMs,
    realm: config.auth.realm,
    algorithms: config.auth.algorithms,
    registrar: config.registrar,
    timers: {
      t1: config.sip.timers.t1Ms,
      t2: config.sip.timers.t2Ms,
      t4: config.sip.timers.t4Ms,
    },
    requestChecks,
    codecs: config.calls.codecs,
    domain: config.sip.domains[0] ?? config.sip.advertisedAddress ?? address,
  };
}

export interface SipWarmupReport {
  rounds: number;
  /** Requests the throwaway stack handled (REGISTER, INVITE, ACK, BYE). */
  requests: number;
  elapsedMs: number;
  /** Bindings, transactions and virtual timers left in the throwaway instances: 0. */
  leftover: { bindings: number; transactions: number; timers: number };
}

const USERS = 32;
const PASSWORD = 'warm-up';
const PEER: Source = { protocol: 'udp', address: '192.0.2.10', port: 5060 };
/** A documentation address (RFC 5737) as the phone's: it is never sent anything. */
const PHONE_HOST = `${PEER.address}:${PEER.port}`;
const OFFER_SDP = [
  'v=0',
  'o=phone 8000 8000 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8 9 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

/** Plays synthetic exchanges through throwaway instances until the budget is spent. */
export function warmSipPaths(options: SipWarmupOptions): SipWarmupReport {
  if (options.budgetMs <= 0) {
    return {
      rounds: 0,
      requests: 0,
      elapsedMs: 0,
      leftover: { bindings: 0, transactions: 0, timers: 0 },
    };
  }
  const now = options.now ?? (() => performance.now());
  const started = now();
  const clock = new VirtualClock();
  const location = new LocationService(() => undefined);
  const users = Array.from({ length: USERS }, (_, i) => `warm${i}`);
  const userSet = new Set(users);
  const authenticator = new DigestAuthenticator({
    realm: options.realm,
    algorithms: options.algorithms,
    lookupCredentials: (user) => (userSet.has(user) ? { password: PASSWORD } : undefined),
    clock,
  });
  const registerService = new RegisterService({
    authenticator,
    registrar: new Registrar(location, options.registrar),
    isExtension: (n) => userSet.has(n),
    domains: [],
    now: () => clock.now(),
  });
  let lastSent: Buffer | undefined;
  const transactions = new TransactionLayer({
    clock,
    timers: options.timers,
    send: (message: SipMessage, _destination: Source, bytes?: Buffer) => {
      lastSent = bytes ?? serializeMessage(message);
    },
  });
  const ha1 = new Map<string, string>();
  const report: SipWarmupReport = {
    rounds: 0,
    requests: 0,
    elapsedMs: 0,
    leftover: { bindings: 0, transactions: 0, timers: 0 },
  };

  /** The transport's and stack's receive path, then `answer` as the application. */
  const receive = (
    bytes: Buffer,
    answer: (request: SipRequest) => SipResponse | undefined,
  ): SipResponse | undefined => {
    lastSent = undefined;
    report.requests++;
    const parsed = parseMessage(bytes);
    if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('warm-up: bad request');
    const request = parsed.message;
    if (needsReceivedStamp(topVia(request), PEER)) {
      const via = parseVia(request.headers.get('Via') as string);
      stampReceived(via, PEER);
      request.headers.replaceFirst('Via', formatVia(via));
    }
    const received = transactions.receiveRequest(
      request,
      PEER,
      responseDestination(topVia(request), PEER),
    );
    if (received.kind === 'new') {
      const refusal = checkRequest(request, options.requestChecks);
      const response =
        refusal !== undefined ? buildResponse(request, refusal.status) : answer(request);
      if (response !== undefined) {
        received.tx.respond(response);
        if (response.status >= 200) request.headers.dropParsed();
      }
    }
    return readSent();
  };
  /** The phone's side: what the stack sent, parsed back. */
  const readSent = (): SipResponse | undefined => {
    if (lastSent === undefined) return undefined;
    const parsed = parseMessage(lastSent);
    if (!parsed.ok || parsed.message.kind !== 'response') throw new Error('warm-up: bad response');
    return parsed.message;
  };
  const authorization = (
    challenge: SipResponse,
    kind: 'www' | 'proxy',
    user: string,
    method: string,
    uri: string,
  ): string => {
    const header = challenge.headers.get(
      kind === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate',
    );
    const parsed = header === undefined ? undefined : parseAuthHeader(header);
    if (parsed === undefined || !parsed.ok) throw new Error('warm-up: no challenge');
    const params = parsed.value.params;
    const algorithm = parseDigestAlgorithm(params.get('algorithm')) ?? 'MD5';
    const key = `${algorithm}:${user}`;
    let userHa1 = ha1.get(key);
    if (userHa1 === undefined) {
      userHa1 = computeHa1(hashFunctionOf(algorithm), user, options.realm, PASSWORD);
      ha1.set(key, userHa1);
    }
    const nonce = params.get('nonce') ?? '';
    const cnonce = newTag();
    const response = computeDigestResponse({
      algorithm,
      ha1: userHa1,
      method,
      uri,
      nonce,
      qop: 'auth',
      nc: '00000001',
      cnonce,
    });
    return (
      `Digest username="${user}", realm="${options.realm}", nonce="${nonce}", uri="${uri}", ` +
      `response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", qop=auth, nc=00000001`
    );
  };
  const register = (user: string, round: number): void => {
    const uri = `sip:${options.domain}`;
    const callId = `warm-reg-${user}`;
    const message = (cseq: number, auth: string | undefined, contact: string, expires: number) =>
      Buffer.from(
        [
          `REGISTER ${uri} SIP/2.0`,
          `Via: SIP/2.0/UDP ${PHONE_HOST};branch=z9hG4bK-${newTag()};rport`,
          'Max-Forwards: 70',
          `From: <sip:${user}@${options.domain}>;tag=${user}-tag`,
          `To: <sip:${user}@${options.domain}>`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} REGISTER`,
          `Contact: ${contact}`,
          ...(auth !== undefined ? [`Authorization: ${auth}`] : []),
          `Expires: ${expires}`,
          'User-Agent: callwatch-warm-up',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
    const handle = (r: SipRequest) => registerService.handle(r, PEER);
    const contact = `<sip:${user}@${PHONE_HOST};transport=udp>;+sip.instance="<urn:uuid:${user}>"`;
    const cseq = round * 3 + 1;
    const challenge = receive(message(cseq, undefined, contact, 3600), handle);
    if (challenge?.status !== 401) throw new Error(`warm-up: REGISTER got ${challenge?.status}`);
    const auth = authorization(challenge, 'www', user, 'REGISTER', uri);
    const authorized = message(cseq + 1, auth, contact, 3600);
    const ok = receive(authorized, handle);
    if (ok?.status !== 200) throw new Error(`warm-up: REGISTER got ${ok?.status}`);
    // A retransmission the transaction absorbs (its last response resent).
    receive(authorized, handle);
    if (round % 4 === 3) {
      const wildcard = message(
        cseq + 2,
        authorization(challenge, 'www', user, 'REGISTER', uri),
        '*',
        0,
      );
      receive(wildcard, handle);
    }
  };
  const call = (user: string, round: number): void => {
    const target = users[(round + 1) % USERS] as string;
    const uri = `sip:${target}@${options.domain}`;
    const callId = `warm-call-${round}-${newTag()}`;
    const fromTag = newTag();
    const request = (
      method: string,
      cseq: number,
      branch: string,
      extra: string[],
      toTag?: string,
      body = '',
    ) =>
      Buffer.from(
        [
          `${method} ${uri} SIP/2.0`,
          `Via: SIP/2.0/UDP ${PHONE_HOST};branch=${branch};rport`,
          'Max-Forwards: 70',
          `From: <sip:${user}@${options.domain}>;tag=${fromTag}`,
          `To: <${uri}>${toTag !== undefined ? `;tag=${toTag}` : ''}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} ${method}`,
          `Contact: <sip:${user}@${PHONE_HOST}>`,
          ...extra,
          ...(body !== '' ? ['Content-Type: application/sdp'] : []),
          `Content-Length: ${Buffer.byteLength(body)}`,
          '',
          body,
        ].join('\r\n'),
      );
    // The call path's first step: identify the caller with a 407 challenge (RFC 3261 §22.3).
    const proxyHeader = credentialsHeaderName('proxy');
    const identify = (r: SipRequest): SipResponse | undefined => {
      const auth = authenticator.verify({
        method: r.method,
        authorizationHeaderValues: r.headers.getAll(proxyHeader),
        sourceAddress: PEER.address,
        via: r.headers.getAll('Via'),
        requestUri: r.uri,
      });
      if (auth.outcome !== 'ok') {
        return buildResponse(r, 407, {
          toTag: newTag(),
          headers: authenticator
            .challenge()
            .map((c): [string, string] => ['Proxy-Authenticate', c]),
        });
      }
      const offer = parseSdp(r.body);
      if (!offer.ok) return buildResponse(r, 488, { toTag: newTag() });
      const negotiated = negotiateAudio(offer.session.audio, options.codecs, {
        telephoneEvent: true,
      });
      if (!negotiated.ok) return buildResponse(r, 488, { toTag: newTag() });
      return buildResponse(r, 200, {
        toTag: newTag(),
        headers: [
          ['Contact', `<sip:${target}@${options.domain}>`],
          ['Content-Type', 'application/sdp'],
        ],
        body: Buffer.from(OFFER_SDP),
      });
    };
    const firstBranch = `z9hG4bK-${newTag()}`;
    const challenged = receive(
      request('INVITE', 1, firstBranch, [], undefined, OFFER_SDP),
      identify,
    );
    if (challenged?.status !== 407) throw new Error(`warm-up: INVITE got ${challenged?.status}`);
    // The ACK for the 407 belongs to the INVITE transaction (§17.1.1.3): absorbed.
    const challengeTag = /;tag=([^;>\s]+)/.exec(challenged.headers.get('To') ?? '')?.[1];
    receive(request('ACK', 1, firstBranch, [], challengeTag), () => undefined);
    const auth = authorization(challenged, 'proxy', user, 'INVITE', uri);
    const answered = receive(
      request(
        'INVITE',
        2,
        `z9hG4bK-${newTag()}`,
        [`${proxyHeader}: ${auth}`],
        undefined,
        OFFER_SDP,
      ),
      identify,
    );
    if (answered?.status !== 200) throw new Error(`warm-up: INVITE got ${answered?.status}`);
    const toTag = /;tag=([^;>\s]+)/.exec(answered.headers.get('To') ?? '')?.[1];
    if (parseSdp(answered.body).ok !== true) throw new Error('warm-up: bad answer SDP');
    receive(request('ACK', 2, `z9hG4bK-${newTag()}`, [], toTag), () => undefined);
    receive(request('BYE', 3, `z9hG4bK-${newTag()}`, [], toTag), (r) => buildResponse(r, 200, {}));
  };

  try {
    const maxRounds = options.maxRounds ?? Number.POSITIVE_INFINITY;
    while (report.rounds < maxRounds && now() - started < options.budgetMs) {
      const round = report.rounds++;
      const user = users[round % USERS] as string;
      register(user, round);
      if (round % 4 === 1) call(user, round);
      // Transactions end as they do in service (Timer J, K, the INVITE linger).
      if (round % 16 === 15) clock.advance(40_000);
    }
    for (const user of users) location.removeAll(user, 'removed');
    clock.advance(3_600_000);
    report.leftover = {
      bindings: location.size,
      transactions: transactions.size,
      timers: clock.pending,
    };
  } finally {
    transactions.close();
    clock.clear();
    authenticator.sweep();
    location.removeAllListeners();
  }
  report.elapsedMs = now() - started;
  return report;
}
