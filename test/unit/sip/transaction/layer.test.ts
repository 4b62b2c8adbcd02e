import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  InvalidStateError,
  TransactionError,
  TransactionLayer,
  type TerminationReason,
  type Transaction,
} from '../../../../sip/transaction/index.js';
import { FakeClock } from './fakeClock.js';
import {
  TCP_PEER,
  UDP_PEER,
  ackFor,
  created,
  recorder,
  request,
  response,
  setup,
} from './harness.js';

describe('TransactionLayer', () => {
  it('reports created and terminated transactions to the observer', () => {
    const { clock, layer } = setup();
    const seen: string[] = [];
    layer.observer.on('transactionCreated', (tx) => seen.push(`+${tx.kind} ${tx.method}`));
    layer.observer.on('transactionTerminated', (tx, reason) =>
      seen.push(`-${tx.kind} ${tx.method} ${reason}`),
    );
    const register = request({ method: 'REGISTER' });
    created(layer.receiveRequest(register, UDP_PEER)).respond(response(register, 200));
    layer.sendRequest(
      request({ method: 'OPTIONS', branch: 'z9hG4bKout' }),
      UDP_PEER,
      recorder().handlers,
    );
    expect(layer.counts).toEqual({ client: 1, server: 1 });
    clock.advance(32_000);
    expect(seen).toEqual([
      '+server REGISTER',
      '+client OPTIONS',
      // Timer J was armed first, so at 32 s it fires first.
      '-server REGISTER completed',
      '-client OPTIONS timeout',
    ]);
    expect(layer.size).toBe(0);
  });

  it('leaves no timer once every transaction has ended', () => {
    const { clock, layer } = setup();
    const invite = request({ branch: 'z9hG4bKa' });
    const inTx = created(layer.receiveRequest(invite, UDP_PEER));
    const busy = response(invite, 486);
    inTx.respond(busy);
    const reg = request({ method: 'REGISTER', branch: 'z9hG4bKb' });
    created(layer.receiveRequest(reg, UDP_PEER)).respond(response(reg, 200));
    const out = request({ branch: 'z9hG4bKc' });
    layer.sendRequest(out, UDP_PEER, recorder().handlers);
    layer.receiveResponse(response(out, 503), UDP_PEER);
    const opt = request({ method: 'OPTIONS', branch: 'z9hG4bKd' });
    layer.sendRequest(opt, UDP_PEER, recorder().handlers);
    layer.receiveResponse(response(opt, 200), UDP_PEER);
    layer.receiveRequest(ackFor(invite, busy), UDP_PEER);
    expect(clock.pending).toBeGreaterThan(0);
    clock.advance(60_000);
    expect(layer.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('close() cancels every timer, drops every transaction, is idempotent, then refuses', () => {
    const { clock, layer, sent } = setup();
    const ended: [Transaction, TerminationReason][] = [];
    layer.observer.on('transactionTerminated', (tx, reason) => ended.push([tx, reason]));
    const tx = created(layer.receiveRequest(request(), UDP_PEER));
    const serverReasons: TerminationReason[] = [];
    tx.on('terminated', (reason) => serverReasons.push(reason));
    const tu = recorder();
    layer.sendRequest(request({ branch: 'z9hG4bKout' }), UDP_PEER, tu.handlers);
    layer.sendRequest(request({ method: 'BYE', branch: 'z9hG4bKbye' }), UDP_PEER, tu.handlers);
    expect(clock.pending).toBeGreaterThan(0);
    layer.close();
    layer.close();
    expect(layer.isClosed).toBe(true);
    expect(clock.pending).toBe(0);
    expect(layer.size).toBe(0);
    expect(ended.map(([, reason]) => reason)).toEqual(['closed', 'closed', 'closed']);
    expect(serverReasons).toEqual(['closed']);
    const before = sent.length;
    clock.advance(100_000);
    expect(sent).toHaveLength(before);
    expect(tu.events).toEqual([]);
    expect(() => layer.receiveRequest(request(), UDP_PEER)).toThrow(InvalidStateError);
    expect(() => layer.receiveResponse(response(request(), 200), UDP_PEER)).toThrow(
      InvalidStateError,
    );
    expect(() => layer.sendRequest(request(), UDP_PEER, tu.handlers)).toThrow(InvalidStateError);
    expect(() => tx.respond(response(tx.request, 200))).toThrow(InvalidStateError);
  });

  it('survives close() called from inside a TU callback', () => {
    const { clock, layer } = setup();
    const invite = request();
    layer.sendRequest(invite, UDP_PEER, {
      onResponse: () => layer.close(),
      onTimeout: () => undefined,
    });
    layer.receiveResponse(response(invite, 486), UDP_PEER);
    expect(layer.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('refuses requests it cannot run as a client transaction', () => {
    const { layer } = setup();
    const { handlers } = recorder();
    const noBranch = request({ branch: null });
    expect(() => layer.sendRequest(noBranch, UDP_PEER, handlers)).toThrow(
      expect.objectContaining({ code: 'ERR_NO_BRANCH' }),
    );
    expect(() => layer.sendRequest(request({ method: 'ACK' }), UDP_PEER, handlers)).toThrow(
      TransactionError,
    );
    layer.sendRequest(request(), UDP_PEER, handlers);
    expect(() => layer.sendRequest(request(), UDP_PEER, handlers)).toThrow(
      expect.objectContaining({ code: 'ERR_DUPLICATE_TRANSACTION' }),
    );
  });

  it('turns a throwing send into a transport error for the TU (falling back to onTimeout)', () => {
    const clock = new FakeClock();
    const layer = new TransactionLayer({
      clock,
      send: () => {
        throw new Error('ECONNREFUSED');
      },
    });
    const tu = recorder();
    const tx = layer.sendRequest(request(), TCP_PEER, tu.handlers);
    expect(tu.events).toEqual(['transportError']);
    expect(tx.state).toBe('terminated');
    const timeouts: string[] = [];
    layer.sendRequest(request({ method: 'OPTIONS' }), TCP_PEER, {
      onResponse: () => undefined,
      onTimeout: () => timeouts.push('timeout'),
    });
    expect(timeouts).toEqual(['timeout']);

    const register = request({ method: 'REGISTER' });
    const server = created(layer.receiveRequest(register, TCP_PEER));
    const errors: unknown[] = [];
    const reasons: TerminationReason[] = [];
    server.on('transportError', (e) => errors.push(e));
    server.on('terminated', (r) => reasons.push(r));
    server.respond(response(register, 200));
    expect(errors).toHaveLength(1);
    expect(reasons).toEqual(['transportError']);
    expect(layer.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('turns a rejected send promise into a transport error', async () => {
    const clock = new FakeClock();
    const layer = new TransactionLayer({
      clock,
      send: () => Promise.reject(new Error('connection reset')),
    });
    const tu = recorder();
    const tx = layer.sendRequest(request({ method: 'OPTIONS' }), TCP_PEER, tu.handlers);
    expect(tx.state).toBe('trying');
    await Promise.resolve();
    await Promise.resolve();
    expect(tu.events).toEqual(['transportError']);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('logs a throwing listener through the logger and keeps going', () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const clock = new FakeClock();
    const layer = new TransactionLayer({
      clock,
      send: () => undefined,
      logger: pino({ level: 'debug' }, stream),
    });
    const invite = request();
    const tx = layer.sendRequest(invite, UDP_PEER, {
      onResponse: () => {
        throw new Error('TU bug');
      },
      onTimeout: () => undefined,
    });
    layer.receiveResponse(response(invite, 180), UDP_PEER);
    expect(tx.state).toBe('proceeding');
    const failure = lines.find((l) => l.msg === 'transaction listener threw');
    expect(failure).toMatchObject({ module: 'transaction', where: 'onResponse', level: 50 });
    expect(lines.some((l) => l.msg === 'state' && l.to === 'proceeding' && l.tx === tx.id)).toBe(
      true,
    );
  });

  it('derives every timer from custom T1/T2/T4', () => {
    const { clock, layer, requestTimes, responseTimes } = setup({
      timers: { t1: 100, t2: 1000, t4: 2000 },
    });
    const invite = layer.sendRequest(
      request({ branch: 'z9hG4bKa' }),
      UDP_PEER,
      recorder().handlers,
    );
    const options = layer.sendRequest(
      request({ method: 'OPTIONS', branch: 'z9hG4bKe' }),
      UDP_PEER,
      recorder().handlers,
    );
    const incoming = request({ branch: 'z9hG4bKg' });
    const server = created(layer.receiveRequest(incoming, UDP_PEER));
    server.respond(response(incoming, 480));
    const reg = request({ method: 'REGISTER', branch: 'z9hG4bKj' });
    const nonInvite = created(layer.receiveRequest(reg, UDP_PEER));
    nonInvite.respond(response(reg, 200));

    clock.advance(6399);
    // A: 100, 300, 700, 1500, 3100 (then 6300); B = 6400.
    expect(requestTimes('INVITE')).toEqual([0, 100, 300, 700, 1500, 3100, 6300]);
    // E: doubles to T2 = 1000.
    expect(requestTimes('OPTIONS')).toEqual([0, 100, 300, 700, 1500, 2500, 3500, 4500, 5500]);
    // G: doubles to T2.
    expect(responseTimes(480)).toEqual([0, 100, 300, 700, 1500, 2500, 3500, 4500, 5500]);
    expect([invite.state, options.state, server.state, nonInvite.state]).toEqual([
      'calling',
      'trying',
      'completed',
      'completed',
    ]);
    clock.advance(1); // B, F, H and J all at 64·T1 = 6400
    expect([invite.state, options.state, server.state, nonInvite.state]).toEqual([
      'terminated',
      'terminated',
      'terminated',
      'terminated',
    ]);

    // K = T4 = 2000.
    const opt2 = request({ method: 'OPTIONS', branch: 'z9hG4bKk' });
    const k = layer.sendRequest(opt2, UDP_PEER, recorder().handlers);
    layer.receiveResponse(response(opt2, 200), UDP_PEER);
    clock.advance(1999);
    expect(k.state).toBe('completed');
    clock.advance(1);
    expect(k.state).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('rejects a bad timer configuration', () => {
    const make = (timers: { t1?: number; t2?: number; t4?: number }) => () =>
      new TransactionLayer({ clock: new FakeClock(), send: () => undefined, timers });
    expect(make({ t1: 0 })).toThrow(expect.objectContaining({ code: 'ERR_BAD_TIMERS' }));
    expect(make({ t1: 5000, t2: 4000 })).toThrow(TransactionError);
  });

  it('uses the reliable() option to decide on retransmissions', () => {
    const { clock, layer, sent } = setup({ reliable: () => true });
    layer.sendRequest(request(), UDP_PEER, recorder().handlers);
    clock.advance(10_000);
    expect(sent).toHaveLength(1);
  });

  it('fails the client transactions sent down a flow that closed, and only those', () => {
    const { clock, layer } = setup();
    const flow = { protocol: 'ws' as const, address: '127.0.0.1', port: 40000 };
    const other = { protocol: 'ws' as const, address: '127.0.0.1', port: 40002 };
    const onFlow = recorder();
    const onOther = recorder();
    layer.sendRequest(request({ branch: 'z9hG4bKws1' }), flow, onFlow.handlers);
    layer.sendRequest(request({ branch: 'z9hG4bKws2' }), other, onOther.handlers);
    layer.flowClosed(flow, new Error('gone'));
    expect(onFlow.events).toEqual(['transportError']);
    expect(onOther.events).toEqual([]);
    expect(layer.counts.client).toBe(1);
    clock.advance(1000);
    expect(onFlow.events).toEqual(['transportError']);
  });
});
