/**
 * A fork once settled: the INVITE client transaction keeps its response handler for
 * 64·T1 (RFC 6026 Accepted, Timer D), so a retransmitted 2xx must still be ACKed then,
 * but that handler must keep neither the call's handlers (and through them the ended
 * call) nor the fork itself (its dialog, INVITE and logger).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import {
  serializeMessage,
  type SipRequest,
  type SipResponse,
} from '../../../../sip/message/index.js';
import type { Endpoint } from '../../../../sip/transport/types.js';
import { Fork } from '../../../../src/calls/fork.js';
import type { ForkHandlers } from '../../../../src/calls/fork.js';
import type { SipOut } from '../../../../src/calls/sipOut.js';
import { createLogger } from '../../../../src/logging.js';
import { inviteToBob, responseFromBob } from '../../sip/dialog/helpers.js';

// V8's gc function, exposed at run time without a command-line flag.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const bob: Endpoint = { protocol: 'udp', address: '10.0.0.2', port: 5060 };

interface Transaction {
  onResponse(response: SipResponse): void;
  onFailure(status: 408 | 480 | 503): void;
}

/**
 * A fork on a fake SipOut: the transaction's handlers it was given, its ACKs, and the
 * fork itself known to the test only through a WeakRef (as the ended call lets it go).
 */
function fork(handlers: ForkHandlers): {
  transaction: Transaction;
  acks: SipRequest[];
  forkRef: WeakRef<Fork>;
} {
  let transaction: Transaction | undefined;
  const acks: SipRequest[] = [];
  const out = {
    send: (_request: SipRequest, _to: Endpoint, h: Transaction) => (transaction = h),
    sendDirect: (request: SipRequest) => acks.push(request),
  } as unknown as SipOut;
  const made = new Fork(inviteToBob(), bob, out, handlers, createLogger('silent'));
  made.start();
  return { transaction: transaction!, acks, forkRef: new WeakRef(made) };
}

/** Handlers that count their calls, known to the test only through a WeakRef. */
function weakHandlers(): {
  ref: WeakRef<ForkHandlers>;
  counts: { answers: number; failures: number };
} {
  const counts = { answers: 0, failures: 0 };
  const handlers: ForkHandlers = {
    onProvisional: () => {},
    onAnswer: () => {
      counts.answers++;
      return true;
    },
    onFailure: () => {
      counts.failures++;
    },
  };
  return { ref: new WeakRef(handlers), counts };
}

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 3 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    collect();
  }
  return ref.deref() === undefined;
}

describe('Fork', () => {
  it('ACKs every 2xx, tells the call once, then lets the call go while the transaction lingers', async () => {
    const { ref, counts } = weakHandlers();
    const { transaction, acks, forkRef } = fork(ref.deref()!);
    const ok = responseFromBob('200 OK', 'bob-tag', 'Contact: <sip:1002@10.0.0.2:5060>');
    transaction.onResponse(ok);
    expect(counts.answers).toBe(1);
    expect(acks).toHaveLength(1);
    const firstAck = serializeMessage(acks[0]!).toString('latin1');

    // Only the transaction's handler is left, as in Accepted (RFC 6026): it holds
    // neither the call's handlers nor the fork.
    expect(await collected(ref)).toBe(true);
    expect(await collected(forkRef)).toBe(true);
    transaction.onResponse(ok); // a retransmitted 2xx: the same ACK again (§13.2.2.4)
    expect(acks).toHaveLength(2);
    expect(serializeMessage(acks[1]!).toString('latin1')).toBe(firstAck);
    // Not for anything but a 2xx.
    transaction.onResponse(responseFromBob('486 Busy Here', 'bob-tag'));
    expect(acks).toHaveLength(2);
    expect(counts.answers).toBe(1);
  });

  it('tells the call of a failure once, then lets it go', async () => {
    const { ref, counts } = weakHandlers();
    const { transaction, acks, forkRef } = fork(ref.deref()!);
    transaction.onResponse(responseFromBob('486 Busy Here', 'bob-tag'));
    transaction.onFailure(408);
    expect(counts.failures).toBe(1);
    expect(await collected(ref)).toBe(true);
    expect(await collected(forkRef)).toBe(true);
    transaction.onResponse(responseFromBob('200 OK', 'bob-tag'));
    expect(acks).toHaveLength(0);
  });
});
