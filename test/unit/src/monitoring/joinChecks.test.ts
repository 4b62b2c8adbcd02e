import { describe, expect, it } from '@jest/globals';
import {
  evaluateJoin,
  joinEligibility,
  type CallFacts,
  type JoinRules,
  type SupervisorFacts,
} from '../../../../src/monitoring/joinChecks.js';
import type { MonitorMode } from '../../../../src/monitoring/modes.js';
import type { RefusalCode } from '../../../../src/monitoring/refusals.js';

/** A call every check passes: answered, 1002's, two legs, nobody monitoring it. */
const CALL: CallFacts = {
  agent: '1002',
  call: { takenOver: false, legs: 2 },
  agentMonitoring: false,
};
/** A supervisor every check passes: available, idle, a phone registered. */
const SUPERVISOR: SupervisorFacts = {
  presence: 'available',
  busy: false,
  contacts: { registered: true },
};

const rules = (
  permission: JoinRules['permission'] = () => undefined,
  maxParticipants = 4,
): JoinRules => ({ permission, maxParticipants });

describe('evaluateJoin: the checks of a monitoring start, over facts', () => {
  it('passes when every fact allows it', () => {
    expect(evaluateJoin('listen', CALL, SUPERVISOR, rules())).toBeUndefined();
  });

  it('refuses first failure first, in the documented order', () => {
    // Every fact wrong at once; each step fixes the one refused, and the next shows.
    let call: CallFacts = {
      unanswered: { code: 'queue-waiting', message: 'still waiting' },
      agentMonitoring: true,
    };
    let supervisor: SupervisorFacts = {
      presence: 'away',
      busy: true,
      contacts: { registered: false },
    };
    let denied: RefusalCode | undefined = 'not-permitted';
    const seen: string[] = [];
    const next = (fix: () => void): void => {
      seen.push(
        evaluateJoin(
          'listen',
          call,
          supervisor,
          rules(() => denied),
        )?.code ?? 'ok',
      );
      fix();
    };
    next(() => (call = { agentMonitoring: true }));
    next(() => (call = { ...call, agent: '1002' }));
    next(() => (denied = undefined));
    next(() => (supervisor = { ...supervisor, presence: 'dnd' }));
    next(() => (supervisor = { ...supervisor, presence: 'available' }));
    next(() => (call = { ...call, agentMonitoring: false }));
    next(() => (supervisor = { ...supervisor, busy: false }));
    next(() => (call = { ...call, call: { takenOver: true, legs: 4 } }));
    next(() => (call = { ...call, call: { takenOver: false, legs: 4 } }));
    next(() => (call = { ...call, call: { takenOver: false, legs: 3 } }));
    next(() => (supervisor = { ...supervisor, contacts: { registered: true } }));
    next(() => undefined);
    expect(seen).toEqual([
      'queue-waiting',
      'unknown-extension',
      'not-permitted',
      'monitor-unavailable',
      'monitor-unavailable',
      'target-is-monitor',
      'monitor-busy',
      'no-call',
      'taken-over',
      'max-participants',
      'monitor-not-registered',
      'ok',
    ]);
  });

  it('answers a call not answered with the reason its facts give, before the permissions', () => {
    const permission = () => 'monitoring-disabled' as const;
    for (const code of ['queue-waiting', 'no-call'] as const) {
      const unanswered = { code, message: `why ${code}` };
      expect(
        evaluateJoin(
          'listen',
          { unanswered, agentMonitoring: false },
          SUPERVISOR,
          rules(permission),
        ),
      ).toEqual(unanswered);
    }
  });

  it("gives every permission code as the rules' check returns it", () => {
    const codes: RefusalCode[] = [
      'monitoring-disabled',
      'unknown-extension',
      'self',
      'not-permitted',
      'member-forbids',
      'mode-not-allowed',
    ];
    for (const code of codes) {
      expect(
        evaluateJoin(
          'barge',
          CALL,
          SUPERVISOR,
          rules(() => code),
        )?.code,
      ).toBe(code);
    }
  });

  it("asks the permission for the agent, the mode and the call's queue", () => {
    const asked: unknown[] = [];
    const permission: JoinRules['permission'] = (agent, mode, queue) => {
      asked.push([agent, mode, queue]);
      return undefined;
    };
    evaluateJoin('whisper', CALL, SUPERVISOR, rules(permission));
    const queued = { ...CALL, call: { queue: '600', takenOver: false, legs: 2 } };
    evaluateJoin('listen', queued, SUPERVISOR, rules(permission));
    expect(asked).toEqual([
      ['1002', 'whisper', undefined],
      ['1002', 'listen', '600'],
    ]);
  });

  it('counts the new leg against maxParticipants', () => {
    const withLegs = (legs: number): CallFacts => ({
      ...CALL,
      call: { takenOver: false, legs },
    });
    expect(evaluateJoin('listen', withLegs(3), SUPERVISOR, rules(undefined, 4))).toBeUndefined();
    expect(evaluateJoin('listen', withLegs(4), SUPERVISOR, rules(undefined, 4))?.code).toBe(
      'max-participants',
    );
  });

  it("says which contact is missing; a feature code's supervisor needs none", () => {
    const missing = (device?: 'browser' | 'phone') =>
      evaluateJoin(
        'listen',
        CALL,
        { ...SUPERVISOR, contacts: { registered: false, ...(device ? { device } : {}) } },
        rules(),
      );
    expect(missing()).toEqual({
      code: 'monitor-not-registered',
      message: 'the monitor has no registered phone',
    });
    expect(missing('browser')?.message).toBe('the monitor has no registered browser contact');
    expect(missing('phone')?.message).toBe('the monitor has no registered phone contact');
    const { contacts: _none, ...featureCode } = SUPERVISOR;
    expect(evaluateJoin('listen', CALL, featureCode, rules())).toBeUndefined();
  });

  it('returns plain data, never an Error (no stack is captured per check)', () => {
    const refusal = evaluateJoin('listen', CALL, { ...SUPERVISOR, busy: true }, rules());
    expect(refusal).toEqual({ code: 'monitor-busy', message: 'the monitor is not idle' });
    expect(refusal).not.toBeInstanceOf(Error);
  });
});

describe('joinEligibility: every mode at once, for the live-call listing', () => {
  const only =
    (...allowed: MonitorMode[]): JoinRules['permission'] =>
    (_agent, mode) =>
      allowed.includes(mode) ? undefined : 'mode-not-allowed';

  it('lists the modes that pass, with no refusal', () => {
    expect(joinEligibility(CALL, SUPERVISOR, rules(only('listen', 'whisper')))).toEqual({
      modes: ['listen', 'whisper'],
      refusal: null,
    });
    expect(joinEligibility(CALL, SUPERVISOR, rules())).toEqual({
      modes: ['listen', 'whisper', 'barge', 'takeover'],
      refusal: null,
    });
  });

  it('when none passes: the first refusal that is not mode-not-allowed', () => {
    const busy = { ...SUPERVISOR, busy: true };
    expect(joinEligibility(CALL, busy, rules(only('barge')))).toEqual({
      modes: [],
      refusal: { code: 'monitor-busy', message: 'the monitor is not idle' },
    });
  });

  it('mode-not-allowed only when every mode is refused for it', () => {
    expect(joinEligibility(CALL, SUPERVISOR, rules(only()))).toEqual({
      modes: [],
      refusal: { code: 'mode-not-allowed', message: expect.any(String) },
    });
  });
});
