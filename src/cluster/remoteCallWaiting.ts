/**
 * Supervisor call waiting across instances (docs/architecture.md §4.6 and "Several
 * instances"): an answered call of a supervisor who is monitoring ends the monitoring,
 * also when the call is anchored on one instance and the monitor session on another.
 *
 * No new message: every instance already republishes the other instances' `call.*`
 * events on its own bus (sharedEvents.ts, the Redis `events` channel), so a
 * `call.answered` with `instance` set names the extensions of a call answered elsewhere.
 * For each of them this instance is monitoring with, it ends their sessions exactly as
 * for a local answer (`MonitoringService.supervisorAnsweredCall`: reason
 * `supervisor-answered-call`, its audit entry and `monitor.ended`).
 *
 * Redis down: the answer is not shared (pub/sub keeps nothing), so the monitoring on the
 * other instance goes on; calls are untouched. The instance that anchors the answered
 * call logs it when it knows the extension is monitoring elsewhere (remoteMonitors.ts).
 */
import type { EventBus } from '../events/eventBus.js';
import type { ApiEvent, CallAnswered } from '../events/eventTypes.js';
import type { Logger } from '../logging.js';
import type { MonitoringService } from '../monitoring/monitoringService.js';
import { inBackground } from '../util/background.js';

/**
 * Pure: the extensions that are parties of an answered call. An internal call names
 * two (`agent` and `remote`); inbound and outbound calls one (`remote` is the
 * customer's number there, which may look like an extension).
 */
export function answeredExtensions(
  e: Pick<CallAnswered, 'agent' | 'remote' | 'direction'>,
): string[] {
  return e.direction === 'internal' && e.remote !== e.agent ? [e.agent, e.remote] : [e.agent];
}

export interface RemoteCallWaitingDeps {
  events: EventBus;
  monitoring: Pick<MonitoringService, 'isMonitoring' | 'supervisorAnsweredCall'>;
  /** Whether an extension has a monitor session on another instance (remoteMonitors.ts). */
  monitoringElsewhere: (extension: string) => boolean;
  /** Whether Redis takes commands now (redisConnection.ts). */
  sharing: () => boolean;
  logger: Logger;
}

/** Starts following answered calls of the other instances; returns the stop function. */
export function followRemoteAnswers(deps: RemoteCallWaitingDeps): () => void {
  const { events, monitoring, logger } = deps;
  const isAnswer = (e: ApiEvent): e is ApiEvent & CallAnswered => e.type === 'call.answered';
  return events.subscribe(isAnswer, (e) => {
    if (!isAnswer(e)) return;
    for (const extension of answeredExtensions(e)) {
      if (e.instance !== undefined) {
        // Answered elsewhere: end the sessions held here.
        if (!monitoring.isMonitoring(extension)) continue;
        logger.info(
          { callId: e.callId, supervisor: extension, instance: e.instance },
          'supervisor answered a call on another instance: ending their monitoring here',
        );
        inBackground(
          monitoring.supervisorAnsweredCall(extension),
          logger,
          'ending monitoring for a call answered elsewhere failed',
          { callId: e.callId, supervisor: extension },
        );
      } else if (!deps.sharing() && deps.monitoringElsewhere(extension)) {
        // Answered here while Redis is down: the other instance cannot learn it.
        logger.warn(
          { callId: e.callId, supervisor: extension },
          'supervisor answered a call while monitoring on another instance: not shared, redis unreachable (their monitoring goes on)',
        );
      }
    }
  });
}
