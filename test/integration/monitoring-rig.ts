/**
 * Monitoring over raw SIP (calls-rawRig.ts underneath): the customer is the trunk, the
 * agent is extension 1002 (the rig's callee), and supervisors are extensions that dial
 * feature codes with digest authentication done by the test (INVITE → 407 → INVITE with
 * Proxy-Authorization). Media are FakePhones; each speaker sends its own tone and what a
 * phone heard is judged by tone detection (test/helpers/goertzel.ts).
 *
 *   const rig = await startMonitorRig();
 *   const call = await rig.placeCall(...);                // customer ↔ agent
 *   const sup = await rig.extension('1005');
 *   const m = await sup.invite('*901002', sdp(supPhone.port));
 *   expect(m.final.status).toBe(200);
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { hasTone, lacksTone, analyzeTone, describeTone } from '../helpers/goertzel.js';
import type { ConfigObject, ExtensionSpec, StartServerOptions } from '../helpers/server.js';
import {
  SipClient,
  digestAuthorization,
  parseDigestChallenge,
  randomToken,
  registerWithAuth,
  type SipMessageView,
} from '../helpers/sipClient.js';
import { RawDialog, responseTo, sdp, startRig, type Rig } from './calls-rawRig.js';
import { FakePhone, Tone, sleep } from './media/fakePhone.js';
import { decode } from './media/streamChecks.js';

export const CUSTOMER_HZ = 440;
export const AGENT_HZ = 1000;
export const SUPERVISOR_HZ = 1800;

/** 1002 agent (the DID's callee), 1003/1004 agents, 1005/1006 supervisors. */
export const MONITOR_EXTENSIONS: readonly ExtensionSpec[] = [
  { number: '1002', password: 'pw1002' },
  { number: '1003', password: 'pw1003' },
  { number: '1004', password: 'pw1004' },
  { number: '1005', password: 'pw1005', role: 'supervisor' },
  { number: '1006', password: 'pw1006', role: 'supervisor' },
];

export interface MonitorRig extends Rig {
  /** A raw SIP phone of extension `number` (password pw<number>), closed with the rig. */
  extension(number: string): Promise<ExtensionPhone>;
  /** The server's RTP port range. */
  readonly rtpRange: { min: number; max: number };
}

export async function startMonitorRig(
  overrides: ConfigObject = {},
  extensions: readonly ExtensionSpec[] = MONITOR_EXTENSIONS,
  serverOptions: Omit<StartServerOptions, 'extensions'> = {},
  /** More DIDs of the trunk (a queue's, say) beside the rig's DID → 1002. */
  dids: Readonly<Record<string, string>> = {},
): Promise<MonitorRig> {
  const rig = await startRig(overrides, extensions, serverOptions, '', dids);
  const exts: ExtensionPhone[] = [];
  const media = rig.server.config.media as { portRange: { min: number; max: number } };
  return {
    ...rig,
    rtpRange: media.portRange,
    async extension(number) {
      const e = await ExtensionPhone.open(number, `pw${number}`, rig.server.sipPort);
      exts.push(e);
      return e;
    },
    async close() {
      await Promise.all(exts.map((e) => e.client.close()));
      await rig.close();
    },
  };
}

export interface InviteResult {
  /** The final response to the authenticated INVITE. */
  final: SipMessageView;
  /** The supervisor's dialog, when the final response was a 2xx. */
  dialog?: RawDialog;
}

/** One extension's raw SIP socket: REGISTER and INVITE with digest, answering BYEs. */
export class ExtensionPhone {
  private constructor(
    readonly client: SipClient,
    readonly number: string,
    readonly password: string,
    readonly serverPort: number,
  ) {}

  static async open(number: string, password: string, serverPort: number) {
    return new ExtensionPhone(await SipClient.udp(), number, password, serverPort);
  }

  /** `contactParams`: URI parameters of the Contact, e.g. `;transport=ws` (a browser's). */
  async register(contactParams = ''): Promise<void> {
    const reg = await registerWithAuth(this.client, {
      user: this.number,
      password: this.password,
      port: this.serverPort,
      contacts: [`<sip:${this.number}@127.0.0.1:${this.client.localPort}${contactParams}>`],
      expires: 600,
      algorithm: 'MD5',
    });
    if (reg.final?.status !== 200) throw new Error(`REGISTER failed:\n${reg.final?.raw ?? ''}`);
  }

  /**
   * INVITE sip:<dialled>@server with `offer` (none when undefined), answering the 407;
   * a 2xx is ACKed unless `ack` is false, any other final response is ACKed (§17.1.1.3).
   */
  async invite(
    dialled: string,
    offer: string | undefined,
    opts: { ack?: boolean } = {},
  ): Promise<InviteResult> {
    const uri = `sip:${dialled}@127.0.0.1:${this.serverPort}`;
    const callId = `${randomToken()}@127.0.0.1`;
    const from = `<sip:${this.number}@127.0.0.1>;tag=${randomToken(4)}`;
    const body = offer ?? '';
    const build = (cseq: number, branch: string, extra: string[]): string =>
      [
        `INVITE ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${this.client.localPort};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: ${from}`,
        `To: <sip:${dialled}@127.0.0.1>`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} INVITE`,
        `Contact: <sip:${this.number}@127.0.0.1:${this.client.localPort}>`,
        ...extra,
        ...(body === '' ? [] : ['Content-Type: application/sdp']),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
    const ackNon2xx = (response: SipMessageView, cseq: number, branch: string): void => {
      this.client.send(
        [
          `ACK ${uri} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${this.client.localPort};branch=${branch};rport`,
          'Max-Forwards: 70',
          `From: ${from}`,
          `To: ${response.header('To') ?? ''}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} ACK`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
        this.serverPort,
      );
    };
    const branch1 = `z9hG4bK${randomToken()}`;
    this.client.send(build(1, branch1, []), this.serverPort);
    const challenge = await this.client.waitForResponse(callId, 'INVITE', 5000, 1);
    if (challenge.status !== 407) return { final: challenge };
    ackNon2xx(challenge, 1, branch1);
    const chosen = parseDigestChallenge(challenge.header('Proxy-Authenticate') ?? '');
    const auth = digestAuthorization(
      chosen,
      { username: this.number, password: this.password },
      'INVITE',
      uri,
    );
    const branch2 = `z9hG4bK${randomToken()}`;
    this.client.send(build(2, branch2, [`Proxy-Authorization: ${auth}`]), this.serverPort);
    const final = await this.client.waitForResponse(callId, 'INVITE', 5000, 2);
    if ((final.status ?? 0) >= 300) {
      ackNon2xx(final, 2, branch2);
      return { final };
    }
    const contact = final.header('Contact') ?? '';
    const target = /<([^>]+)>/.exec(contact)?.[1] ?? contact;
    const dialog = new RawDialog(
      this.client,
      this.serverPort,
      callId,
      from,
      final.header('To') as string,
      target,
      2,
    );
    if (opts.ack !== false)
      this.client.send(dialog.request('ACK', { cseq: 2 }).text, this.serverPort);
    return { final, dialog };
  }
}

/**
 * A raw phone answers the next INVITE the server sends it (received after index
 * `after`): 200 with SDP for a new FakePhone of the rig, then waits for the ACK.
 */
export async function answerServerInvite(
  rig: MonitorRig,
  ext: ExtensionPhone,
  after?: number,
): Promise<{ dialog: RawDialog; invite: SipMessageView }> {
  const { client } = ext;
  const invite = await client.nextNewRequest('INVITE', after);
  const media = await rig.phone();
  const tag = randomToken(4);
  client.send(
    responseTo(invite, 200, { toTag: tag, body: sdp(media.port), contactPort: client.localPort }),
    ext.serverPort,
  );
  await client.waitForAck(invite, tag);
  const contact = invite.header('Contact') ?? '';
  const dialog = new RawDialog(
    client,
    ext.serverPort,
    invite.callId as string,
    `${invite.header('To') as string};tag=${tag}`,
    invite.header('From') as string,
    /<([^>]+)>/.exec(contact)?.[1] ?? contact,
    0,
  );
  return { dialog, invite };
}

/** Waits for the server's BYE in `dialog` (received after index `after`) and answers 200. */
export async function answerBye(
  dialog: RawDialog,
  after = 0,
  timeoutMs = 5000,
): Promise<SipMessageView> {
  const bye = await dialog.nextRequest('BYE', after, timeoutMs);
  dialog.client.send(responseTo(bye, 200), dialog.serverPort);
  return bye;
}

/** A FakePhone sending `hz` as PCMU to `port` every 20 ms (drift-free) until stopped. */
export function talk(phone: FakePhone, port: number, hz: number): { stop(): Promise<void> } {
  const tone = new Tone('PCMU', hz);
  let running = true;
  const done = (async () => {
    const start = performance.now();
    for (let i = 0; running; i++) {
      const due = start + i * 20;
      if (due > performance.now()) await sleep(due - performance.now());
      if (running) phone.sendRtp(port, 0, tone.frame(), i === 0);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The PCMU audio a phone received between two performance.now() times. */
export function heardBetween(phone: FakePhone, from: number, to: number): Int16Array {
  return decode(
    phone.rtp.filter((p) => p.pt === 0 && p.at >= from && p.at < to),
    'PCMU',
  );
}

/**
 * Which of `present` are missing and which of `absent` are there, with the detail:
 * expect(toneVerdict(...)).toMatchObject({ missing: [], leaked: [] }).
 */
export function toneVerdict(
  label: string,
  audio: Int16Array,
  present: readonly number[],
  absent: readonly number[],
): { label: string; missing: number[]; leaked: number[]; detail: string[] } {
  return {
    label,
    missing: present.filter((f) => !hasTone(audio, f)),
    leaked: absent.filter((f) => !lacksTone(audio, f)),
    detail: [...present, ...absent].map((f) => describeTone(analyzeTone(audio, f))),
  };
}

/** Polls an async condition every 100 ms; false after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > end) return false;
    await sleep(100);
  }
}

/** A recording's JSON sidecar (recordingTap.ts), the fields the tests read. */
export interface Sidecar {
  callId: string;
  direction: string;
  file: string;
  format: { channels: number };
  parties: Record<'customer' | 'agent', { side: string; number: string; extension: string | null }>;
  startedAt: string | null;
  answeredAt: string | null;
  audioBytes: number | null;
  endedAt: string | null;
  endReason: string | null;
  monitoring: Array<{ supervisor: string; agent: string; modes: Array<{ mode: string }> }>;
}

/** The sidecar of call `callId` once it has been completed (endedAt set). */
export async function completedSidecar(dir: string, callId: string): Promise<Sidecar> {
  let found: Sidecar | undefined;
  await eventually(() => {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const doc = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Sidecar;
      if (doc.callId === callId && doc.endedAt !== null) found = doc;
    }
    return found !== undefined;
  }, 5000);
  if (found === undefined) throw new Error(`no completed sidecar for ${callId} in ${dir}`);
  return found;
}
