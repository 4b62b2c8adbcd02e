/**
 * Overload protection: the monitor's verdict per sample window on a fake clock, which
 * requests may be shed, and the stack's behaviour while overloaded over a real loopback
 * socket: a new REGISTER gets a stateless 503 with Retry-After (RFC 3261 §21.5.4) and never
 * reaches the application; a retransmission of a transaction that started before gets that
 * transaction's response; an in-dialog BYE and an ACK still go through.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import {
  OverloadMonitor,
  isBehind,
  isSheddable,
  type OverloadLimits,
} from '../../../../sip/core/overload.js';
import { buildResponse, parseMessage, type SipRequest } from '../../../../sip/message/index.js';
import { SipStack, type IncomingRequest } from '../../../../sip/stack.js';
import { TransportLayer } from '../../../../sip/transport/transportLayer.js';
import { FakeClock } from '../transaction/fakeClock.js';

const limits: OverloadLimits = {
  maxQueueDelayMs: 200,
  maxLoopDelayMs: 250,
  sampleMs: 200,
  windows: 2,
};

function request(method: string, opts: { toTag?: string; branch?: string; port?: number } = {}) {
  const branch = opts.branch ?? `z9hG4bK-${method}-${Math.random().toString(36).slice(2)}`;
  const port = opts.port ?? 5999;
  const to = `<sip:1001@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`;
  return Buffer.from(
    [
      `${method} sip:1001@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`,
      'Max-Forwards: 70',
      'From: <sip:1001@127.0.0.1>;tag=abc',
      `To: ${to}`,
      `Call-ID: ${branch}@test`,
      `CSeq: 1 ${method}`,
      'Contact: <sip:1001@127.0.0.1:5999>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

function parsed(raw: Buffer): SipRequest {
  const result = parseMessage(raw);
  if (!result.ok || result.message.kind !== 'request') throw new Error('test request');
  return result.message;
}

describe('isBehind', () => {
  it('is behind at or over either limit, not under both', () => {
    expect(isBehind({ queueDelayMs: 5, loopDelayMs: 10 }, limits)).toBe(false);
    expect(isBehind({ queueDelayMs: 199, loopDelayMs: 249 }, limits)).toBe(false);
    expect(isBehind({ queueDelayMs: 200, loopDelayMs: 0 }, limits)).toBe(true);
    expect(isBehind({ queueDelayMs: 0, loopDelayMs: 250 }, limits)).toBe(true);
  });
});

describe('isSheddable', () => {
  it('sheds requests that start work outside a dialog', () => {
    for (const m of ['REGISTER', 'INVITE', 'OPTIONS', 'SUBSCRIBE', 'MESSAGE']) {
      expect(isSheddable(parsed(request(m)))).toBe(true);
    }
  });
  it('never sheds ACK, CANCEL, BYE or PRACK, nor anything inside a dialog', () => {
    for (const m of ['ACK', 'CANCEL', 'BYE', 'PRACK']) {
      expect(isSheddable(parsed(request(m)))).toBe(false);
    }
    expect(isSheddable(parsed(request('INVITE', { toTag: 'x' })))).toBe(false);
    expect(isSheddable(parsed(request('INFO', { toTag: 'x' })))).toBe(false);
  });
  it('never sheds the answer to a challenge (a request with credentials)', () => {
    const withAuth = (header: string) =>
      parsed(
        Buffer.from(
          request('REGISTER')
            .toString('latin1')
            .replace('Max-Forwards: 70', `Max-Forwards: 70\r\n${header}: Digest username="1001"`),
          'latin1',
        ),
      );
    expect(isSheddable(withAuth('Authorization'))).toBe(false);
    expect(isSheddable(withAuth('Proxy-Authorization'))).toBe(false);
  });
});

describe('OverloadMonitor', () => {
  it('sheds after two windows behind in a row, stops after one under, says when it changes', () => {
    const clock = new FakeClock();
    // The first read (at construction) only sends the first probe.
    const windows = [0, 5, 300, 20, 250, 900, 400, 150, 3];
    const changes: boolean[] = [];
    const monitor = new OverloadMonitor(
      clock,
      limits,
      () => windows.shift() ?? 0,
      (behind) => changes.push(behind),
    );
    const seen: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(199);
      seen.push(monitor.overloaded);
      clock.advance(1);
    }
    seen.push(monitor.overloaded);
    // Before each window ends the verdict so far holds: a lone late window (300 ms after
    // 5 ms) is a burst, two in a row a backlog.
    expect(seen).toEqual([false, false, false, false, false, true, true, false, false]);
    expect(changes).toEqual([true, false]);
    monitor.close();
    expect(clock.pending).toBe(0);
  });
});

describe('SipStack while overloaded', () => {
  let stack: SipStack | undefined;
  let peer: dgram.Socket | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    if (peer) await new Promise<void>((r) => peer!.close(() => r()));
    peer = undefined;
  });

  const silent = {
    child: () => silent,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
  };

  it('answers new requests 503 + Retry-After, absorbs retransmissions, passes BYE and ACK', async () => {
    const clock = new FakeClock();
    let overloaded = false;
    const handled: string[] = [];
    const shed: string[] = [];
    stack = await SipStack.open({
      transport: {
        address: '127.0.0.1',
        udpPort: 0,
        tcpPort: null,
        maxMessageBytes: 65535,
        tcpIdleTimeoutMs: 60000,
        clock,
      },
      timers: { t1: 500, t2: 4000, t4: 5000 },
      clock,
      logger: silent,
      overload: { overloaded: () => overloaded, retryAfterSec: 7 },
    });
    stack.on('shed', (req) => shed.push(req.method));
    stack.onRequest((incoming: IncomingRequest) => {
      handled.push(incoming.request.method);
      incoming.respond(buildResponse(incoming.request, 200, { toTag: 'app' }));
    });
    stack.on('ackFor2xx', (req) => handled.push(req.method));

    peer = dgram.createSocket('udp4');
    const socket = peer;
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const answers: string[] = [];
    let waiting: (() => void) | undefined;
    socket.on('message', (data) => {
      answers.push(data.toString('latin1'));
      waiting?.();
    });
    const exchange = async (raw: Buffer): Promise<string> => {
      const got = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no answer within 2 s')), 2000);
        waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
      socket.send(raw, stack!.ports.udp!, '127.0.0.1');
      await got;
      return answers[answers.length - 1]!;
    };
    const port = socket.address().port;

    // Not overloaded: the REGISTER reaches the application.
    const first = request('REGISTER', { port });
    expect(await exchange(first)).toMatch(/^SIP\/2\.0 200 /);

    overloaded = true;
    // A retransmission of that transaction gets its 200 again, not a 503.
    expect(await exchange(first)).toMatch(/^SIP\/2\.0 200 /);
    // A new REGISTER and a new INVITE are refused statelessly with Retry-After.
    const refused = await exchange(request('REGISTER', { port }));
    expect(refused).toMatch(/^SIP\/2\.0 503 /);
    expect(refused).toMatch(/\r\nRetry-After: 7\r\n/);
    expect(refused).toMatch(/\r\nTo: <sip:1001@127\.0\.0\.1>;tag=/);
    expect(await exchange(request('INVITE', { port }))).toMatch(/^SIP\/2\.0 503 /);
    // An in-dialog BYE is handled.
    expect(await exchange(request('BYE', { port, toTag: 'x' }))).toMatch(/^SIP\/2\.0 200 /);
    expect(stack.transactionCounts().server).toBe(2); // the first REGISTER and the BYE
    // An ACK (for a 2xx: no transaction) still reaches the dialog layer.
    socket.send(request('ACK', { port, toTag: 'x' }), stack.ports.udp!, '127.0.0.1');
    const deadline = Date.now() + 2000;
    while (!handled.includes('ACK') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }

    expect(handled).toEqual(['REGISTER', 'BYE', 'ACK']);
    expect(shed).toEqual(['REGISTER', 'INVITE']);

    overloaded = false;
    expect(await exchange(request('OPTIONS', { port }))).toMatch(/^SIP\/2\.0 200 /);
    expect(handled).toEqual(['REGISTER', 'BYE', 'ACK', 'OPTIONS']);
  });
});

describe('the receive-queue probe', () => {
  it('reads how long a datagram waited in the SIP socket’s queue, and is never a message', async () => {
    const clock = new FakeClock();
    const layer = await TransportLayer.open({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: null,
      maxMessageBytes: 65535,
      tcpIdleTimeoutMs: 60000,
      clock,
      queueProbe: true,
    });
    const heard: string[] = [];
    layer.on('request', () => heard.push('request'));
    layer.on('response', () => heard.push('response'));
    layer.on('invalid', (reason) => heard.push(reason));
    const settle = () => new Promise((r) => setTimeout(r, 50));
    try {
      expect(layer.sampleQueueDelay()).toBe(0); // sends the first probe
      // The event loop is not running: the probe waits in the kernel queue for 300 ms of
      // (fake) time; the next sample counts it with its age so far.
      clock.advance(300);
      expect(layer.sampleQueueDelay()).toBe(300);
      clock.advance(200);
      await settle(); // now it is read: it waited 500 ms
      expect(layer.sampleQueueDelay()).toBe(500); // and a new probe goes out
      await settle();
      expect(layer.sampleQueueDelay()).toBe(0); // read at once this time
      expect(heard).toEqual([]);
    } finally {
      await layer.close();
    }
  });
});
