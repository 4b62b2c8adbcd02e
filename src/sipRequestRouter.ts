/**
 * Dispatches requests that reached the application (after the stack's transaction
 * handling and RFC 3261 §8.2 checks) to the service for their method.
 */
import type { SipResponse } from '../sip/message/message.js';
import { buildResponse } from '../sip/message/response.js';
import { newTag } from '../sip/ids.js';
import type { IncomingRequest } from '../sip/stack.js';
import type { RegisterService } from './registrar/registerService.js';
import type { CallService } from './calls/callService.js';
import type { PresenceService } from './presence/presenceService.js';
import { DIALOG_EVENT } from './presence/presenceService.js';
import { toTag } from '../sip/message/accessors.js';

/**
 * Methods this server implements (PRACK, RFC 3262, is not supported). REFER (RFC 3515)
 * is taken inside a call's dialog only (blind transfer, src/calls/transfer.ts); the
 * NOTIFYs it implies are ours to send, so NOTIFY itself is not accepted. SUBSCRIBE
 * (RFC 6665) is the dialog event package's for BLF keys (src/presence/).
 */
export const ALLOWED_METHODS = [
  'REGISTER',
  'OPTIONS',
  'INVITE',
  'ACK',
  'CANCEL',
  'BYE',
  'UPDATE',
  'INFO',
  'REFER',
  'SUBSCRIBE',
] as const;
export const ACCEPTED_BODIES = ['application/sdp'] as const;

export interface SipRequestRouterDeps {
  registerService: RegisterService;
  calls: CallService;
  presence: PresenceService;
  userAgent: string;
}

export class SipRequestRouter {
  constructor(private readonly deps: SipRequestRouterDeps) {}

  route(incoming: IncomingRequest): void {
    const { request, source } = incoming;
    let response: SipResponse;
    switch (request.method) {
      case 'INVITE':
      case 'BYE':
      case 'UPDATE':
      case 'INFO':
      case 'REFER':
      case 'CANCEL':
        this.deps.calls.handle(incoming);
        return;
      case 'SUBSCRIBE':
        this.deps.presence.handle(incoming);
        return;
      case 'REGISTER':
        response = this.deps.registerService.handle(request, source);
        break;
      case 'OPTIONS':
        if (toTag(request) !== undefined) {
          // In a call's dialog (RFC 3261 §11: answered like outside, within the dialog).
          this.deps.calls.handle(incoming);
          return;
        }
        // RFC 3261 §11.2: capabilities, whoever the request is addressed to.
        response = buildResponse(request, 200, {
          toTag: newTag(),
          headers: [
            ['Allow', ALLOWED_METHODS.join(', ')],
            ['Accept', ACCEPTED_BODIES.join(', ')],
            ['Accept-Encoding', 'identity'],
            ['Accept-Language', 'en'],
            // RFC 6665 §4.4.4: the event packages we notify.
            ['Allow-Events', DIALOG_EVENT],
          ],
        });
        break;
      default:
        response = buildResponse(request, 405, {
          toTag: newTag(),
          headers: [['Allow', ALLOWED_METHODS.join(', ')]],
        });
    }
    response.headers.append('Server', this.deps.userAgent);
    incoming.respond(response);
  }
}
