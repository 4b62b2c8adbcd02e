/**
 * A stand-in for the monitoring service behind the API adapters (CTI, Yeastar), for the
 * route unit tests: it records every start request and refuses or fails as told.
 *
 *   const { monitoring, started } = monitoringStub((r) => REFUSAL_BY_AGENT[r.agent ?? '']);
 *   registerCtiRoutes(app, { monitoring });
 */
import type { MonitoringStarter } from '../../src/http/api/yeastarRoutes.js';
import type { StartRequest } from '../../src/monitoring/monitoringService.js';
import type { MonitorSessionRecord } from '../../src/monitoring/monitorSession.js';
import { MonitorRefusal, type RefusalCode } from '../../src/monitoring/refusals.js';

/**
 * `outcome` per request: a refusal code (thrown as a MonitorRefusal), an Error (thrown),
 * or undefined: started, as session `m<n>` (n counts the requests so far).
 */
export function monitoringStub(outcome: (r: StartRequest) => RefusalCode | Error | undefined): {
  monitoring: MonitoringStarter;
  started: StartRequest[];
} {
  const started: StartRequest[] = [];
  const monitoring: MonitoringStarter = {
    async start(request) {
      started.push(request);
      const o = outcome(request);
      if (typeof o === 'string') throw new MonitorRefusal(o);
      if (o instanceof Error) throw o;
      return { id: `m${started.length}` } as MonitorSessionRecord;
    },
  };
  return { monitoring, started };
}

/** A refusal for each of these agents (any other agent: started), to map to replies. */
export const REFUSAL_BY_AGENT: Readonly<Record<string, RefusalCode>> = {
  '9999': 'unknown-extension',
  '1002': 'no-call',
  '1003': 'member-forbids',
  '1004': 'mode-not-allowed',
  '1006': 'monitor-busy',
};

/** The stub outcome that refuses the agents of REFUSAL_BY_AGENT. */
export const refuseByAgent = (r: StartRequest): RefusalCode | undefined =>
  REFUSAL_BY_AGENT[r.agent ?? ''];
