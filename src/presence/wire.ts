/**
 * Puts BLF together (docs/architecture.md §9.4): extensions' dialogs fed from the call
 * service's lifecycle events, and the SUBSCRIBE/NOTIFY service over them. The phone-side
 * dialog ids (Call-ID and tags) are read from answered calls, where the call layer has
 * them; before the answer the caller's side shows its Call-ID only.
 */
import type { AuthResult } from '../../sip/auth/authResult.js';
import type { DigestAuthenticator } from '../../sip/auth/authenticator.js';
import type { Clock } from '../../sip/clock.js';
import type { SipRequest } from '../../sip/message/index.js';
import type { SipStack } from '../../sip/stack.js';
import type { Source } from '../../sip/transport/types.js';
import type { CallRecord } from '../calls/callRecord.js';
import type { CallService, LiveCall } from '../calls/callService.js';
import { SipOut } from '../calls/sipOut.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import { Permissions } from '../monitoring/permissions.js';
import { ExtensionDialogs, type PhoneDialogIds, type Side } from './extensionDialogs.js';
import { PresenceService } from './presenceService.js';

export interface PresenceWiring {
  config: Config;
  calls: CallService;
  stack: SipStack;
  authenticator: DigestAuthenticator;
  clock: Clock;
  logger: Logger;
  onAuthResult?(result: AuthResult, request: SipRequest, source: Source): void;
}

export interface RunningPresence {
  readonly service: PresenceService;
  close(): Promise<void>;
}

export function startPresence(w: PresenceWiring): RunningPresence {
  const logger = w.logger.child({ module: 'presence' });
  const host = w.config.sip.domains[0] ?? w.stack.transport.sentBy('udp').host;
  const uriOf = (n: string): string => `sip:${n}@${host}`;
  const names = new Map(w.config.extensions.map((e) => [e.number, e.displayName]));
  const phoneDialog = (callId: string, side: Side): PhoneDialogIds | undefined => {
    const answered = w.calls.answeredCall(callId);
    if (answered === undefined) return undefined;
    // Our dialog ids, turned round: the phone's tag is our remote tag.
    const id = side === 'a' ? answered.call.dialogA.id : answered.call.winner?.dialog?.id;
    return id === undefined
      ? undefined
      : { callId: id.callId, localTag: id.remoteTag, remoteTag: id.localTag };
  };
  const dialogs = new ExtensionDialogs(
    { uriOf, displayNameOf: (n) => names.get(n), phoneDialog },
    (err, event) => logger.error({ err, event }, 'presence listener failed'),
  );
  const started = (r: CallRecord): void =>
    dialogs.started(r, w.calls.liveCall(r.id)?.extensions ?? {});
  const early = (r: CallRecord): void => dialogs.early(r);
  const answered = (r: CallRecord): void => dialogs.answered(r);
  const ended = (r: CallRecord): void => dialogs.ended(r);
  const transferred = (
    live: LiveCall,
    side: Side,
    from: string | undefined,
    to: string | undefined,
  ): void => dialogs.transferred(live.record.id, side, from, to);
  w.calls.on('callStarted', started);
  w.calls.on('early', early);
  w.calls.on('answered', answered);
  w.calls.on('ended', ended);
  w.calls.on('transferred', transferred);

  const service = new PresenceService({
    config: w.config.presence,
    authenticator: w.authenticator,
    permissions: new Permissions(w.config),
    dialogs,
    out: new SipOut(w.stack),
    clock: w.clock,
    logger,
    userAgent: w.config.sip.userAgent,
    domains: w.config.sip.domains,
    uriOf,
    ...(w.onAuthResult !== undefined ? { onAuthResult: w.onAuthResult } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    service,
    close() {
      closing ??= (async () => {
        w.calls.off('callStarted', started);
        w.calls.off('early', early);
        w.calls.off('answered', answered);
        w.calls.off('ended', ended);
        w.calls.off('transferred', transferred);
        await service.close();
        dialogs.clear();
      })();
      return closing;
    },
  };
}
