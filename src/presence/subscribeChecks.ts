/**
 * The checks on a SUBSCRIBE's own headers and body, before anything is looked up, first
 * failure first (docs/architecture.md §9.4):
 *
 *   Event missing or not `dialog`         489 with Allow-Events (RFC 6665 §8.3.2)
 *   Event unreadable or given twice       400
 *   a body without Content-Type           400
 *   a body (a filter, RFC 4235 §3.2)      415 (we apply no filters; Accept lists none)
 *   Accept unreadable                     400
 *   Accept without dialog-info+xml        406 with Accept
 *   Expires unreadable                    400
 *
 * RFC 6665 §4.1.2 asks for exactly one Event header. A missing one names no package we
 * serve, even if read as the `presence` that pre-RFC 3265 peers meant by it, so it is
 * 489 like an unknown package. Pure.
 */
import {
  attempt,
  expiresOf,
  parseMediaRange,
  rangesAccept,
  splitOutside,
  trimLws,
  type SipRequest,
} from '../../sip/message/index.js';
import { parseEventHeader, type EventHeader } from '../../sip/subscription/index.js';
import { DIALOG_INFO_CONTENT_TYPE } from './dialogInfo.js';
import type { LimitKind } from './limits.js';

/** The one event package served (RFC 4235 §3.1). */
export const DIALOG_EVENT = 'dialog';

/** Why a SUBSCRIBE was refused (the metrics' label). */
export type RefusalReason =
  | 'bad-event'
  | 'bad-request'
  | 'unsupported-body'
  | 'not-acceptable'
  | 'not-found'
  | 'forbidden'
  | 'not-permitted'
  | 'interval-too-brief'
  | 'no-subscription'
  | 'shutting-down'
  | `limit-${LimitKind}`;

export interface Refusal {
  readonly ok: false;
  readonly reason: RefusalReason;
  readonly status: number;
  readonly phrase?: string;
  readonly headers: Array<[string, string]>;
}

export type SubscribeRead =
  | {
      readonly ok: true;
      readonly event: EventHeader;
      /** The Expires header, undefined when absent. */
      readonly expires: number | undefined;
    }
  | Refusal;

export function refusal(
  reason: RefusalReason,
  status: number,
  phrase?: string,
  headers: Array<[string, string]> = [],
): Refusal {
  return { ok: false, reason, status, ...(phrase !== undefined ? { phrase } : {}), headers };
}

export function readSubscribe(request: SipRequest): SubscribeRead {
  const parsed = parseEventHeader(request.headers.getAll('Event'));
  if (!parsed.ok && parsed.reason !== 'missing') {
    return refusal('bad-request', 400, 'Bad Event Header');
  }
  if (!parsed.ok || parsed.event.type !== DIALOG_EVENT) {
    return refusal('bad-event', 489, undefined, [['Allow-Events', DIALOG_EVENT]]);
  }
  if (request.body.length > 0) {
    return request.headers.get('Content-Type') === undefined
      ? refusal('bad-request', 400, 'Body Without Content-Type')
      : refusal('unsupported-body', 415, 'Filters Not Supported', [['Accept', '']]);
  }
  const accept = request.headers.getAll('Accept');
  if (accept.length > 0) {
    const ranges = attempt(() =>
      accept
        .flatMap((v) => splitOutside(v, ',').map(trimLws))
        .filter((s) => s.length > 0)
        .map(parseMediaRange),
    );
    if (ranges === undefined) return refusal('bad-request', 400, 'Bad Accept');
    // An empty Accept accepts no body at all (RFC 3261 §20.1).
    if (!rangesAccept(ranges, 'application', 'dialog-info+xml')) {
      return refusal('not-acceptable', 406, undefined, [['Accept', DIALOG_INFO_CONTENT_TYPE]]);
    }
  }
  const expires = attempt(() => expiresOf(request));
  if (expires === undefined && request.headers.get('Expires') !== undefined) {
    return refusal('bad-request', 400, 'Bad Expires');
  }
  return { ok: true, event: parsed.event, expires };
}
