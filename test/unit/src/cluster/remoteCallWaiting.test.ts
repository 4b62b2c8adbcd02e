import { describe, expect, it } from '@jest/globals';
import { EventBus } from '../../../../src/events/eventBus.js';
import type { EventBody } from '../../../../src/events/eventTypes.js';
import {
  answeredExtensions,
  followRemoteAnswers,
} from '../../../../src/cluster/remoteCallWaiting.js';
import { createLogger } from '../../../../src/logging.js';

function setup(opts: { sharing?: boolean; elsewhere?: string[] } = {}) {
  const events = new EventBus();
  const monitoringHere = new Set(['1005']);
  const ended: string[] = [];
  const warnings: unknown[] = [];
  const logger = createLogger('silent');
  logger.warn = ((obj: unknown) => {
    warnings.push(obj);
  }) as typeof logger.warn;
  const stop = followRemoteAnswers({
    events,
    monitoring: {
      isMonitoring: (ext) => monitoringHere.has(ext),
      supervisorAnsweredCall: (ext) => {
        ended.push(ext);
        monitoringHere.delete(ext);
        return Promise.resolve();
      },
    },
    monitoringElsewhere: (ext) => (opts.elsewhere ?? []).includes(ext),
    sharing: () => opts.sharing ?? true,
    logger,
  });
  const answered = (
    agent: string,
    remote: string,
    direction: 'internal' | 'inbound' | 'outbound',
    instance?: string,
  ) =>
    events.publish({
      type: 'call.answered',
      callId: 'c9',
      agent,
      remote,
      direction,
      ...(instance !== undefined ? { instance } : {}),
    } as unknown as EventBody);
  return { ended, warnings, answered, stop };
}

describe('answeredExtensions', () => {
  it('names both parties of an internal call, only the extension of a trunk call', () => {
    expect(answeredExtensions({ agent: '1005', remote: '1003', direction: 'internal' })).toEqual([
      '1005',
      '1003',
    ]);
    expect(answeredExtensions({ agent: '1001', remote: '1005', direction: 'inbound' })).toEqual([
      '1001',
    ]);
    expect(answeredExtensions({ agent: '1005', remote: '5550100', direction: 'outbound' })).toEqual(
      ['1005'],
    );
  });
});

describe('followRemoteAnswers: call waiting across instances', () => {
  it('ends the sessions here of a supervisor who answered on another instance, as callee or caller', () => {
    const callee = setup();
    callee.answered('1005', '1003', 'internal', 'b');
    expect(callee.ended).toEqual(['1005']);
    callee.stop();
    const caller = setup();
    caller.answered('1003', '1005', 'internal', 'b');
    expect(caller.ended).toEqual(['1005']);
    caller.stop();
  });

  it('leaves alone local answers (supervision.ts ends those), other extensions, and trunk numbers', () => {
    const s = setup();
    s.answered('1005', '1003', 'internal'); // this instance's own call
    s.answered('1001', '1003', 'internal', 'b');
    s.answered('1001', '1005', 'inbound', 'b'); // a customer number that looks like 1005
    expect(s.ended).toEqual([]);
    s.stop();
    s.answered('1005', '1003', 'internal', 'b');
    expect(s.ended).toEqual([]);
  });

  it('Redis down: a local answer of a supervisor monitoring elsewhere is logged as not shared', () => {
    const down = setup({ sharing: false, elsewhere: ['1007'] });
    down.answered('1007', '1003', 'internal');
    expect(down.warnings).toEqual([{ callId: 'c9', supervisor: '1007' }]);
    down.stop();
    const up = setup({ sharing: true, elsewhere: ['1007'] });
    up.answered('1007', '1003', 'internal');
    expect(up.warnings).toEqual([]);
    up.stop();
  });
});
