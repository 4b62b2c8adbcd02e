/**
 * The stack answers a malformed request itself, before any application processing: the
 * handler (where the application challenges with digest, RFC 3261 §22) never sees it.
 * RFC 4475 §3.1.2.17 (mismatch01, an OPTIONS whose CSeq says INVITE) must get 400, not
 * the 407 an application that challenges everything would give. Driven over a real
 * loopback UDP socket with a fake clock (no timer fires during the test), on the SIP
 * UDP socket CALLWATCH_SIP_IO names (test/helpers/sipIo.ts).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkRequest } from '../../../sip/core/index.js';
import { buildResponse } from '../../../sip/message/index.js';
import { SipStack, type IncomingRequest } from '../../../sip/stack.js';
import { layerIoOptions } from '../../helpers/sipIo.js';
import { FakeClock } from './transaction/fakeClock.js';

const dir = fileURLToPath(new URL('../../fixtures/torture/', import.meta.url));
interface Expectation {
  file: string;
  name: string;
  kind: 'request' | 'response';
  expect: 'drop' | { parse?: boolean; status?: number };
}
const table = JSON.parse(readFileSync(`${dir}expectations.json`, 'utf8')) as Expectation[];

const silent = {
  child: () => silent,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

let stack: SipStack | undefined;
let peer: dgram.Socket | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (peer) await new Promise<void>((r) => peer!.close(() => r()));
  peer = undefined;
});

/** A stack whose application challenges every request it is handed (407). */
async function challengingStack(): Promise<{ stack: SipStack; handled: string[] }> {
  const handled: string[] = [];
  const s = await SipStack.open({
    transport: {
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: null,
      maxMessageBytes: 65535,
      tcpIdleTimeoutMs: 60000,
      clock: new FakeClock(),
      ...layerIoOptions(),
    },
    timers: { t1: 500, t2: 4000, t4: 5000 },
    clock: new FakeClock(),
    logger: silent,
    checkRequest: (request) =>
      checkRequest(request, {
        allowedMethods: ['REGISTER', 'OPTIONS', 'INVITE', 'ACK', 'CANCEL', 'BYE'],
        forwardedMethods: ['INVITE'],
        supportedExtensions: [],
        uriSchemes: ['sip', 'sips'],
      }),
  });
  s.onRequest((incoming: IncomingRequest) => {
    handled.push(incoming.request.method);
    incoming.respond(buildResponse(incoming.request, 407, { toTag: 'app' }));
  });
  stack = s;
  return { stack: s, handled };
}

/** The port a UDP top Via names (5060 when none), or undefined for other transports. */
function udpViaPort(raw: Buffer): number | undefined {
  const m = /\r\nVia:[ \t]*SIP\/2\.0\/UDP [^;:\r]+(?::(\d+))?;/i.exec(raw.toString('latin1'));
  return m ? Number(m[1] ?? 5060) : undefined;
}

/**
 * Sends raw bytes from a socket bound to the port the message's Via names (it has no
 * rport, so the answer goes there), on a loopback address of this test's own; resolves
 * with the answer's status.
 */
async function exchange(s: SipStack, raw: Buffer): Promise<number> {
  peer = dgram.createSocket('udp4');
  const socket = peer;
  const address = `127.${100 + Math.floor(Math.random() * 150)}.1.${1 + Math.floor(Math.random() * 250)}`;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(udpViaPort(raw), address, () => resolve());
  });
  const answer = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2000);
    socket.on('message', (data) => {
      clearTimeout(timer);
      resolve(Number(data.toString('latin1').split(' ')[1]));
    });
  });
  socket.send(raw, s.ports.udp!, '127.0.0.1');
  return answer;
}

describe('SipStack answers malformed requests before the application', () => {
  it('answers mismatch01 (OPTIONS with CSeq INVITE) 400, never handing it on', async () => {
    const { stack: s, handled } = await challengingStack();
    expect(await exchange(s, readFileSync(`${dir}invalid/mismatch01.sip`))).toBe(400);
    expect(handled).toEqual([]);
  });

  const refused = table.filter(
    (e) =>
      e.kind === 'request' &&
      e.expect !== 'drop' &&
      e.expect.status !== undefined &&
      [400, 505].includes(e.expect.status) &&
      udpViaPort(readFileSync(`${dir}${e.file}`)) !== undefined,
  );

  it.each(refused.map((e) => [e.name, e] as const))(
    '%s gets its syntax refusal, not the application’s 407',
    async (_name, e) => {
      const { stack: s, handled } = await challengingStack();
      const status = (e.expect as { status: number }).status;
      expect(await exchange(s, readFileSync(`${dir}${e.file}`))).toBe(status);
      expect(handled).toEqual([]);
    },
  );
});
