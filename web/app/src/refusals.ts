/**
 * Every refusal the API can answer, in words a person reads (the one table). The server's
 * codes are stable (src/monitoring/refusals.ts, src/http/api/errors.ts); a code missing
 * here falls back to the server's own message, then to a generic sentence.
 */
const SENTENCES: Record<string, string> = {
  'monitoring-disabled': 'Call monitoring is turned off on this server.',
  'unknown-extension': 'That extension does not exist.',
  self: 'You cannot monitor your own call.',
  'not-permitted': 'You are not in a monitoring group for this agent.',
  'member-forbids': 'This agent has opted out of being monitored.',
  'mode-not-allowed': 'Your monitoring groups do not allow this mode for this agent.',
  'no-call': 'The call has ended or has not been answered yet.',
  'queue-waiting': 'The caller is still waiting in a queue: no agent has answered yet.',
  'monitor-busy': 'You are already in a call or monitoring another one.',
  'monitor-not-registered':
    'No phone of yours is registered: neither this browser nor your desk phone.',
  'max-participants': 'The call is full: it already has the most participants allowed.',
  'target-is-monitor': 'This leg is itself a supervisor and cannot be monitored.',
  'taken-over': 'The call was taken over by a supervisor.',
  'media-failed': 'Your phone did not answer or did not set up audio.',
  'monitor-unavailable': 'You are not available. Set yourself to Available to join calls.',
  unauthorized: 'You are signed out. Sign in again.',
  'bad-credentials': 'Wrong extension or password.',
  forbidden: 'Your role does not allow this.',
  'not-found': 'It no longer exists (the call may have ended).',
  'too-many-auth-failures': 'Too many failed sign-ins from this address. Wait and try again.',
  'bad-request': 'The request was not accepted.',
  internal: 'The server failed. Try again.',
};

export function refusalSentence(code: string | undefined, message?: string): string {
  if (code !== undefined && code in SENTENCES) return SENTENCES[code]!;
  if (message) return `Refused: ${message}.`;
  return 'Something went wrong. Try again.';
}

export const KNOWN_REFUSALS: readonly string[] = Object.keys(SENTENCES);
