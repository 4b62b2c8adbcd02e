/**
 * Publishes the registrar's and the call service's events on the bus: registration
 * changes (a contact added or gone; refreshes are not changes) and each call's created,
 * answered and ended. Each function returns the detach function.
 */
import type { CallRecord } from '../calls/callRecord.js';
import type { CallService } from '../calls/callService.js';
import type { LocationService } from '../registrar/locationService.js';
import type { EventBus } from './eventBus.js';
import type { CallEventBody } from './eventTypes.js';

export function publishRegistrations(location: LocationService, bus: EventBus): () => void {
  const changed = (b: { extension: string }): void => {
    const contacts = location.bindingsOf(b.extension).length;
    bus.publish({
      type: 'registration.changed',
      extension: b.extension,
      registered: contacts > 0,
      contacts,
    });
  };
  location.on('registered', changed);
  location.on('unregistered', changed);
  return () => {
    location.off('registered', changed);
    location.off('unregistered', changed);
  };
}

/** The extension side of a call (who took an inbound or internal call, who placed an
 * outbound one) and the other party. */
export function callParties(record: CallRecord): CallEventBody {
  const outbound = record.direction === 'outbound';
  const queue = record.queue;
  return {
    callId: record.id,
    // A queue call's agent is the member who answered (the queue's number until then).
    agent: outbound ? record.caller : (queue?.agent ?? record.callee),
    remote: outbound ? record.callee : record.caller,
    direction: record.direction,
    ...(queue !== undefined ? { queue: queue.number } : {}),
    ...(queue?.waitMs !== undefined ? { waitMs: Math.round(queue.waitMs) } : {}),
  };
}

export function publishCalls(calls: CallService, bus: EventBus): () => void {
  const created = (r: CallRecord): void => {
    bus.publish({ type: 'call.created', ...callParties(r) });
  };
  const answered = (r: CallRecord): void => {
    bus.publish({ type: 'call.answered', ...callParties(r) });
  };
  const ended = (r: CallRecord): void => {
    bus.publish({
      type: 'call.ended',
      ...callParties(r),
      ...(r.endReason !== undefined ? { endReason: r.endReason } : {}),
    });
  };
  calls.on('callStarted', created);
  calls.on('answered', answered);
  calls.on('ended', ended);
  return () => {
    calls.off('callStarted', created);
    calls.off('answered', answered);
    calls.off('ended', ended);
  };
}
