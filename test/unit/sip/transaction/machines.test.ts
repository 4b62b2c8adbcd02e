/** The machines are data: (state, event, context) → { state, actions }, no clock, no I/O. */
import { describe, expect, it } from '@jest/globals';
import {
  inviteClientMachine,
  inviteServerMachine,
  nonInviteClientMachine,
  nonInviteServerMachine,
  timerValues,
  DEFAULT_TIMER_CONFIG,
  type ServerContext,
} from '../../../../sip/transaction/index.js';
import { request, response } from './harness.js';

const udp = timerValues(DEFAULT_TIMER_CONFIG, false);
const tcp = timerValues(DEFAULT_TIMER_CONFIG, true);
const invite = request();
const ctx: ServerContext = { timers: udp, request: invite, lastResponse: undefined };

describe('transaction machines as data', () => {
  it('INVITE client: initial actions and Timer A doubling', () => {
    expect(inviteClientMachine.initial(ctx)).toEqual({
      state: 'calling',
      actions: [
        { type: 'send', message: invite },
        { type: 'startTimer', timer: 'A', ms: 500 },
        { type: 'startTimer', timer: 'B', ms: 32_000 },
      ],
    });
    expect(
      inviteClientMachine.step('calling', { type: 'timer', timer: 'A', after: 8000 }, ctx),
    ).toEqual({
      state: 'calling',
      actions: [
        { type: 'send', message: invite },
        { type: 'startTimer', timer: 'A', ms: 16_000 },
      ],
    });
    expect(
      inviteClientMachine.step('calling', { type: 'timer', timer: 'B', after: 32_000 }, ctx),
    ).toEqual({ state: 'terminated', actions: [{ type: 'timeout' }] });
  });

  it('INVITE client: a failure over TCP ACKs and terminates in one step (D = 0)', () => {
    const busy = response(invite, 486);
    const t = inviteClientMachine.step(
      'proceeding',
      { type: 'response', response: busy },
      { ...ctx, timers: tcp },
    );
    expect(t.state).toBe('terminated');
    expect(t.actions.map((a) => a.type)).toEqual([
      'cancelTimer',
      'cancelTimer',
      'cancelTimer',
      'send',
      'deliver',
    ]);
  });

  it('non-INVITE client: E is capped at T2, and reset to T2 in Proceeding', () => {
    const trying = nonInviteClientMachine.step(
      'trying',
      { type: 'timer', timer: 'E', after: 4000 },
      ctx,
    );
    expect(trying.actions[1]).toEqual({ type: 'startTimer', timer: 'E', ms: 4000 });
    const proceeding = nonInviteClientMachine.step(
      'proceeding',
      { type: 'timer', timer: 'E', after: 500 },
      ctx,
    );
    expect(proceeding.actions[1]).toEqual({ type: 'startTimer', timer: 'E', ms: 4000 });
  });

  it('INVITE server: the Trying timer sends 100 only while nothing was sent', () => {
    const fired = { type: 'timer', timer: 'Trying', after: 200 } as const;
    const t = inviteServerMachine.step('proceeding', fired, ctx);
    expect(t.actions).toHaveLength(1);
    expect(t.actions[0]).toMatchObject({
      type: 'send',
      message: { kind: 'response', status: 100 },
    });
    const answered = { ...ctx, lastResponse: response(invite, 180) };
    expect(inviteServerMachine.step('proceeding', fired, answered).actions).toEqual([]);
  });

  it('INVITE server: G doubles up to T2 and resends the last response', () => {
    const busy = response(invite, 486);
    const t = inviteServerMachine.step(
      'completed',
      { type: 'timer', timer: 'G', after: 2000 },
      { ...ctx, lastResponse: busy },
    );
    expect(t).toEqual({
      state: 'completed',
      actions: [
        { type: 'send', message: busy },
        { type: 'startTimer', timer: 'G', ms: 4000 },
      ],
    });
  });

  it('non-INVITE server: a bad status is rejected without a state change', () => {
    const t = nonInviteServerMachine.step(
      'trying',
      { type: 'respond', response: response(invite, 99) },
      ctx,
    );
    expect(t.state).toBe('trying');
    expect(t.actions).toEqual([{ type: 'reject', reason: 'bad status 99' }]);
  });
});
