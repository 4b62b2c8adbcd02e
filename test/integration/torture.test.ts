/**
 * Every RFC 4475 torture message, sent as raw bytes over UDP to the running server:
 * each gets the response the RFC asks for (or none when none is possible), and the
 * server still answers OPTIONS after every one.
 *
 * Several fixtures share a branch, sent-by and method (RFC 4475 reuses `z9hG4bKkdjuw`):
 * to the server those are retransmissions of one transaction (RFC 3261 §17.2.3), which
 * it rightly absorbs. So each fixture goes to a server that has not seen its key.
 *
 * The fixtures' Vias name example hosts and no rport; the server answers at the
 * `received` address it stamps (where the datagram came from) and the Via's port (5060
 * unless given). So every case sends from sockets of its own, bound to a loopback
 * address no other case (and no other test run) uses, on the Via's port: whatever an
 * earlier case left in flight (the 407 to an INVITE is retransmitted until Timer H,
 * RFC 3261 §17.2.1) lands on the earlier case's address and can never be taken for
 * this case's answer. The answer is also matched to its request by Call-ID, top Via
 * branch and CSeq: a message with no Call-ID (insuf) can only be answered by a 400
 * without one, carrying its Via and CSeq. Responses never leave 127.0.0.0/8.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startServer, type ServerHandle } from '../helpers/server.js';
import { buildRequest, parseSipText, type SipMessageView } from '../helpers/sipClient.js';

interface Expectation {
  file: string;
  name: string;
  section: string;
  kind: 'request' | 'response';
  expect: 'drop' | { parse?: boolean; status?: number; headers?: string[] };
}

const TORTURE = path.join(REPO_ROOT, 'test/fixtures/torture');
const expectations = JSON.parse(
  readFileSync(path.join(TORTURE, 'expectations.json'), 'utf8'),
) as Expectation[];

/** Statuses that mean "this message is malformed": a valid message must never get them. */
const SYNTAX_REJECTIONS = new Set([400, 505, 513]);
/** Methods RFC 3261 defines; a defined method the server does not allow is answered 405. */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER']);

/** Servers, each with the transaction keys it has seen. */
const servers: Array<{ server: ServerHandle; keys: Set<string> }> = [];
let server: ServerHandle;
const sockets: dgram.Socket[] = [];
let allowed = new Set<string>();

/** The head of a raw message, folded lines joined, split into lines. */
function headLines(raw: Buffer): string[] {
  const head = raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
  return head.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
}

/** The first value of a header as the fixture writes it (compact form included). */
function headerOf(raw: Buffer, names: RegExp): string | undefined {
  const line = headLines(raw).find((l) => names.test(l));
  return line?.slice(line.indexOf(':') + 1).trim();
}

function viaPort(raw: Buffer): number {
  const via = headLines(raw).find((l) => /^(via|v)\s*:/i.test(l)) ?? '';
  const port = /^[^;]*?:\s*SIP\s*\/[^;]*?[\s/][^\s;/]+?:(\d+)/i.exec(via)?.[1];
  return port ? Number(port) : 5060;
}

/**
 * What ties an answer to the fixture it answers: the Call-ID (a response to a request
 * without one has none, RFC 3261 §8.2.6.2 copies what is there), the top Via branch and
 * the CSeq number, each compared when the fixture carries a readable one.
 */
function answerMatcher(raw: Buffer): (m: SipMessageView) => boolean {
  const callId = headerOf(raw, /^(call-id|i)\s*:/i);
  const request = parseSipText(raw.toString('latin1'));
  const branch = request.branch;
  const cseq = /^\d{1,9}\s+\S+$/.test(headerOf(raw, /^cseq\s*:/i) ?? '') ? request.cseq : undefined;
  return (m) =>
    m.isResponse &&
    m.callId === callId &&
    (branch === undefined || m.branch === branch) &&
    (cseq === undefined || m.cseq === cseq);
}

/** A loopback address for one case: 127.<run>.<case>.<n>, never 127.0.0.1. */
const RUN_OCTET = 100 + Math.floor(Math.random() * 150);
let addressCounter = 0;
function freshAddress(): string {
  addressCounter += 1;
  return `127.${RUN_OCTET}.${(addressCounter >> 8) & 0xff}.${addressCounter & 0xff || 1}`;
}

/** A UDP socket on a fresh loopback address and the given port, collecting responses. */
async function caseSocket(
  port: number,
): Promise<{ socket: dgram.Socket; inbox: SipMessageView[]; address: string }> {
  for (let attempt = 0; ; attempt += 1) {
    const address = freshAddress();
    const socket = dgram.createSocket('udp4');
    const bound = await new Promise<Error | undefined>((resolve) => {
      socket.once('error', resolve);
      socket.bind(port, address, () => resolve(undefined));
    });
    if (bound) {
      await new Promise<void>((r) => socket.close(() => r()));
      if (attempt >= 20) throw new Error(`no free ${address}:${port}: ${bound.message}`);
      continue;
    }
    const inbox: SipMessageView[] = [];
    socket.on('message', (data) => inbox.push(parseSipText(data.toString('latin1'))));
    sockets.push(socket);
    return { socket, inbox, address };
  }
}

/** Resolves with the first answer in the inbox that matches, or undefined after `ms`. */
async function waitForAnswer(
  inbox: readonly SipMessageView[],
  match: (m: SipMessageView) => boolean,
  ms: number,
): Promise<SipMessageView | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = inbox.find(match);
    if (hit) return hit;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Approximates the server transaction key: top Via branch and sent-by, and the method. */
function transactionKey(raw: Buffer): string {
  const lines = headLines(raw);
  const via = lines.find((l) => /^(via|v)\s*:/i.test(l)) ?? '';
  const method = lines[0]?.split(' ')[0] ?? '';
  return `${method} ${via.replace(/\s+/g, '')}`;
}

async function serverFor(raw: Buffer): Promise<ServerHandle> {
  const key = transactionKey(raw);
  let slot = servers.find((s) => !s.keys.has(key));
  if (!slot) {
    slot = { server: await startServer(), keys: new Set() };
    servers.push(slot);
  }
  slot.keys.add(key);
  return slot.server;
}

/** OPTIONS from a fresh socket gets its 200 (matched by Call-ID and branch). */
async function options(to: ServerHandle, timeoutMs = 2000): Promise<SipMessageView | undefined> {
  const { socket, inbox } = await caseSocket(0);
  const req = buildRequest({
    method: 'OPTIONS',
    target: `127.0.0.1:${to.sipPort}`,
    transport: 'UDP',
    localPort: socket.address().port,
  });
  socket.send(Buffer.from(req.text), to.sipPort, '127.0.0.1');
  return waitForAnswer(
    inbox,
    (m) => m.isResponse && m.callId === req.callId && m.branch === req.branch,
    timeoutMs,
  );
}

beforeAll(async () => {
  server = await startServer();
  servers.push({ server, keys: new Set() });
  // The Allow list decides what several cases expect (405 first): without it they would
  // all fail for a misleading reason. A server just started on a loaded machine (its
  // media workers still warming up) may take more than the usual 2 s for its first answer.
  const res = await options(server, 10000);
  if (res?.status !== 200) {
    throw new Error(`the first OPTIONS got ${res ? res.status : 'no answer within 10 s'}`);
  }
  allowed = new Set(res.headerValues('allow').map((m) => m.toUpperCase()));
});

afterAll(async () => {
  for (const socket of sockets) await new Promise<void>((r) => socket.close(() => r()));
  for (const slot of servers) await slot.server.stop();
});

function readFixture(e: Expectation): Buffer {
  return readFileSync(path.join(TORTURE, e.file));
}

describe('RFC 4475 torture messages against the running server', () => {
  it('has every fixture listed once', () => {
    expect(expectations.length).toBeGreaterThanOrEqual(45);
    expect(new Set(expectations.map((e) => e.file)).size).toBe(expectations.length);
  });

  for (const e of expectations) {
    it(`${e.section} ${e.name}: ${JSON.stringify(e.expect)}`, async () => {
      const raw = readFixture(e);
      const target = await serverFor(raw);
      const { socket, inbox } = await caseSocket(viaPort(raw));
      socket.send(raw, target.sipPort, '127.0.0.1');
      const answered = answerMatcher(raw);

      if (e.expect === 'drop' || e.kind === 'response' || e.expect.status === undefined) {
        if (e.expect === 'drop' || e.kind === 'response') {
          // Nothing can or may be answered: a stray or broken response is dropped. Only
          // this case sends from this address, so anything at all arriving is an answer.
          await new Promise((r) => setTimeout(r, e.kind === 'request' ? 1500 : 300));
          expect(inbox.map((m) => m.raw.split('\r\n')[0])).toEqual([]);
        } else {
          // Valid: whatever the server's routing says, never a syntax rejection.
          const answer = await waitForAnswer(inbox, answered, 2000);
          expect(answer).toBeDefined();
          expect(SYNTAX_REJECTIONS.has(answer!.status!)).toBe(false);
        }
      } else {
        let status = e.expect.status;
        let headers = e.expect.headers ?? [];
        // RFC 3261 §8.2.1 inspects the method first: a defined method this server does not
        // implement yet is answered 405 before the checks that follow it (416, 420, 415).
        const method = raw.toString('latin1').split(' ')[0] ?? '';
        if (
          !SYNTAX_REJECTIONS.has(status) &&
          status !== 501 &&
          KNOWN_METHODS.has(method) &&
          !allowed.has(method)
        ) {
          status = 405;
          headers = ['Allow'];
        }
        const answer = await waitForAnswer(inbox, answered, 2000);
        expect(answer?.status).toBe(status);
        for (const h of headers) expect(answer?.header(h)).toBeDefined();
      }
      expect((await options(target))?.status).toBe(200);
    });
  }
});
