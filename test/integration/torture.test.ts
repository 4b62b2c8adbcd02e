/**
 * Every RFC 4475 torture message, sent as raw bytes over UDP to the running server:
 * each gets the response the RFC asks for (or none when none is possible), and the
 * server still answers OPTIONS after every one.
 *
 * Several fixtures share a branch, sent-by and method (RFC 4475 reuses `z9hG4bKkdjuw`):
 * to the server those are retransmissions of one transaction (RFC 3261 §17.2.3), which
 * it rightly absorbs. So each fixture goes to a server that has not seen its key.
 *
 * The fixtures' Vias name example hosts; the server answers at the `received` address
 * it stamps (127.0.0.1, where the datagram came from) and the Via's port (5060 unless
 * given), so the test listens on those loopback ports. Responses never leave loopback.
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
const sockets = new Map<number, dgram.Socket>();
const inbox: Array<{ port: number; message: SipMessageView }> = [];
let allowed = new Set<string>();

function viaPort(raw: Buffer): number {
  const head = raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
  const via = unfolded.split('\r\n').find((l) => /^(via|v)\s*:/i.test(l)) ?? '';
  const port = /^[^;]*?:\s*SIP\s*\/[^;]*?[\s/][^\s;/]+?:(\d+)/i.exec(via)?.[1];
  return port ? Number(port) : 5060;
}

async function listen(port: number): Promise<void> {
  if (sockets.has(port)) return;
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) =>
      reject(new Error(`the torture test needs UDP 127.0.0.1:${port} free: ${err.message}`)),
    );
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  socket.on('message', (data) =>
    inbox.push({ port, message: parseSipText(data.toString('latin1')) }),
  );
  sockets.set(port, socket);
}

function send(port: number, data: Buffer, to: ServerHandle = server): void {
  (sockets.get(port) ?? sockets.get(5060))!.send(data, to.sipPort, '127.0.0.1');
}

/** Approximates the server transaction key: top Via branch and sent-by, and the method. */
function transactionKey(raw: Buffer): string {
  const head = (raw.toString('latin1').split('\r\n\r\n')[0] ?? '').replace(/\r\n[ \t]+/g, ' ');
  const lines = head.split('\r\n');
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

async function waitForAnswer(
  match: (m: SipMessageView) => boolean,
  ms: number,
): Promise<SipMessageView | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = inbox.find((r) => match(r.message));
    if (hit) return hit.message;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The Call-ID as the fixture writes it (compact `i:` included), to match its answer. */
function callIdOf(raw: Buffer): string | undefined {
  const head = raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
  const line = head.split('\r\n').find((l) => /^(call-id|i)\s*:/i.test(l));
  return line?.slice(line.indexOf(':') + 1).trim();
}

async function optionsStillAnswered(to: ServerHandle): Promise<void> {
  const req = buildRequest({
    method: 'OPTIONS',
    target: `127.0.0.1:${to.sipPort}`,
    transport: 'UDP',
    localPort: 5060,
  });
  send(5060, Buffer.from(req.text), to);
  const res = await waitForAnswer((m) => m.isResponse && m.callId === req.callId, 2000);
  expect(res?.status).toBe(200);
}

beforeAll(async () => {
  server = await startServer();
  servers.push({ server, keys: new Set() });
  const ports = new Set([5060, ...expectations.map((e) => viaPort(readFixture(e)))]);
  for (const port of ports) await listen(port);
  const req = buildRequest({
    method: 'OPTIONS',
    target: `127.0.0.1:${server.sipPort}`,
    transport: 'UDP',
    localPort: 5060,
  });
  send(5060, Buffer.from(req.text));
  const res = await waitForAnswer((m) => m.callId === req.callId, 2000);
  allowed = new Set((res?.headerValues('allow') ?? []).map((m) => m.toUpperCase()));
});

afterAll(async () => {
  for (const socket of sockets.values()) await new Promise<void>((r) => socket.close(() => r()));
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
      const port = viaPort(raw);
      const callId = callIdOf(raw);
      const target = await serverFor(raw);
      inbox.length = 0;
      send(port, raw, target);
      const answered = (m: SipMessageView) =>
        m.isResponse && (callId === undefined || m.callId === callId);

      if (e.expect === 'drop' || e.kind === 'response' || e.expect.status === undefined) {
        const answer = await waitForAnswer(answered, e.kind === 'request' ? 1500 : 300);
        if (e.expect === 'drop' || e.kind === 'response') {
          // Nothing can or may be answered: a stray or broken response is dropped.
          expect(answer).toBeUndefined();
        } else {
          // Valid: whatever the server's routing says, never a syntax rejection.
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
        const answer = await waitForAnswer(answered, 2000);
        expect(answer?.status).toBe(status);
        for (const h of headers) expect(answer?.header(h)).toBeDefined();
      }
      await optionsStillAnswered(target);
    });
  }
});
