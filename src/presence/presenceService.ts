/**
 * BLF keys: the notifier of the dialog event package (RFC 4235) over RFC 6665
 * subscriptions (docs/architecture.md §9.4).
 *
 * A SUBSCRIBE outside a dialog, in order (each refusal is final):
 *   its own headers and body (subscribeChecks.ts: 489, 400, 415, 406);
 *   the Request-URI not a served domain or not an extension → 404;
 *   digest (401; 403 when locked out; the From user must be the authenticated one);
 *   the watcher may not watch the extension → 403 (watchPolicy.ts);
 *   Expires below the minimum → 423 with Min-Expires (RFC 6665 §4.2.1.1);
 *   a bound of limits.ts reached → 503 with Retry-After;
 * then 200 with Expires (RFC 6665 §4.2.1.1: 202 is deprecated, §8.3.1), a dialog with
 * the watcher (RFC 6665 §4.1.2.2, state confirmed) and the initial NOTIFY at once.
 *
 * A SUBSCRIBE in that dialog refreshes it or, with Expires 0, ends it (§4.2.1.2, 4.2.1.4);
 * it needs no new challenge but must come from the same address; an unknown dialog is
 * 481. NOTIFYs carry the watched extension's full dialog state (RFC 4235 §4, `version`
 * one higher each time), one at a time (sip/subscription/fsm.ts); a 481 or a timeout
 * ends the subscription.
 */
import type { AuthResult } from '../../sip/auth/authResult.js';
import type { DigestAuthenticator } from '../../sip/auth/authenticator.js';
import type { Clock } from '../../sip/clock.js';
import {
  buildDialogResponse,
  checkRemoteCSeq,
  createInDialogRequest,
  dialogFromUasRequest,
  dialogIdOfIncoming,
  dialogKey,
  type Dialog,
} from '../../sip/dialog/index.js';
import {
  attempt,
  buildResponse,
  fromOf,
  isSipUri,
  requestUriOf,
  unescapeUri,
  type SipRequest,
} from '../../sip/message/index.js';
import { newTag } from '../../sip/ids.js';
import type { IncomingRequest } from '../../sip/stack.js';
import {
  decideExpires,
  formatEventHeader,
  formatSubscriptionState,
  Subscription,
  type EventHeader,
  type ExpiresPolicy,
  type NotifyState,
} from '../../sip/subscription/index.js';
import { sameFlow, type Endpoint, type Source } from '../../sip/transport/types.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { SipOut } from '../calls/sipOut.js';
import type { Logger } from '../logging.js';
import type { Permissions } from '../monitoring/permissions.js';
import { waitAtMost } from '../util/waitAtMost.js';
import { buildDialogInfo, DIALOG_INFO_CONTENT_TYPE, type DialogView } from './dialogInfo.js';
import type { ExtensionDialogs } from './extensionDialogs.js';
import { SubscriptionCounts, type LimitBounds } from './limits.js';
import { readSubscribe, refusal, type Refusal, type RefusalReason } from './subscribeChecks.js';
import { mayWatch, type BlfScope } from './watchPolicy.js';

export { DIALOG_EVENT } from './subscribeChecks.js';

export type PresenceEvents = {
  subscribed: [watcher: string, watched: string];
  ended: [watcher: string, watched: string];
  notifySent: [state: NotifyState['state']];
  refused: [reason: RefusalReason, status: number];
};

export interface PresenceConfig extends LimitBounds {
  readonly blf: BlfScope;
  readonly minExpiresSec: number;
  readonly maxExpiresSec: number;
  readonly defaultExpiresSec: number;
  readonly retryAfterSec: number;
}

export interface PresenceServiceDeps {
  config: PresenceConfig;
  authenticator: DigestAuthenticator;
  permissions: Permissions;
  dialogs: ExtensionDialogs;
  out: SipOut;
  clock: Clock;
  logger: Logger;
  userAgent: string;
  /** Domains served; empty serves any. */
  domains: readonly string[];
  /** `sip:<number>@<our domain>`, the entity of the documents. */
  uriOf(number: string): string;
  onAuthResult?(result: AuthResult, request: SipRequest, source: Source): void;
}

interface Watch {
  readonly key: string;
  readonly watcher: string;
  readonly watched: string;
  readonly source: string;
  readonly event: EventHeader;
  readonly dialog: Dialog;
  destination: Endpoint;
  /** The connection the SUBSCRIBE came over (connection-oriented transports). */
  connectionId: number | undefined;
  runner: Subscription | undefined;
  /** The next document's version (RFC 4235 §4.1.2). */
  version: number;
  /** Dialogs shown in the last document sent, by id. */
  shown: Set<string>;
  /** Shown dialogs that ended since: reported once as terminated. */
  endedSince: Map<string, DialogView>;
}

/** How long close() waits for the last NOTIFYs' answers. */
const CLOSE_GRACE_MS = 1000;

export class PresenceService extends TypedEmitter<PresenceEvents> {
  private readonly watches = new Map<string, Watch>();
  private readonly byWatched = new Map<string, Set<Watch>>();
  private readonly counts: SubscriptionCounts;
  private readonly expires: ExpiresPolicy;
  private readonly domains: Set<string>;
  private readonly detach: () => void;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: PresenceServiceDeps) {
    super((err, event) => deps.logger.error({ err, event }, 'presence listener failed'));
    const c = deps.config;
    this.counts = new SubscriptionCounts(c);
    this.expires = {
      minSec: c.minExpiresSec,
      maxSec: c.maxExpiresSec,
      defaultSec: c.defaultExpiresSec,
    };
    this.domains = new Set(deps.domains.map((d) => d.toLowerCase()));
    const changed = (extension: string, view: DialogView): void => this.changed(extension, view);
    deps.dialogs.on('changed', changed);
    this.detach = () => deps.dialogs.off('changed', changed);
  }

  /** Subscriptions running now. */
  get active(): number {
    return this.watches.size;
  }

  /** A SUBSCRIBE, in a dialog or not. */
  handle(incoming: IncomingRequest): void {
    const { request } = incoming;
    if (this.closing !== undefined) {
      this.refuse(
        incoming,
        refusal('shutting-down', 503, undefined, [
          ['Retry-After', String(this.deps.config.retryAfterSec)],
        ]),
      );
      return;
    }
    const id = dialogIdOfIncoming(request);
    if (id !== undefined) {
      this.inDialog(incoming, dialogKey(id));
      return;
    }
    this.newSubscription(incoming);
  }

  private newSubscription(incoming: IncomingRequest): void {
    const { request, source } = incoming;
    const read = readSubscribe(request);
    if (!read.ok) return this.refuse(incoming, read);
    const { event, expires: requested } = read;
    const uri = requestUriOf(request);
    if (!isSipUri(uri) || uri.user === undefined)
      return this.refuse(incoming, refusal('not-found', 404, 'No Such User'));
    if (this.domains.size > 0 && !this.domains.has(uri.host.toLowerCase())) {
      return this.refuse(incoming, refusal('not-found', 404, 'Domain Not Served'));
    }
    const watched = unescapeUri(uri.user);
    if (!this.deps.permissions.isExtension(watched))
      return this.refuse(incoming, refusal('not-found', 404, 'No Such User'));

    const auth = this.deps.authenticator.verify({
      method: request.method,
      authorizationHeaderValues: request.headers.getAll('Authorization'),
      sourceAddress: source.address,
      via: request.headers.getAll('Via'),
      requestUri: request.uri,
    });
    if (auth.outcome !== 'ok') this.deps.onAuthResult?.(auth, request, source);
    switch (auth.outcome) {
      case 'challenge':
        incoming.respond(
          this.response(request, 401, undefined, [
            ...this.deps.authenticator
              .challenge({ stale: auth.stale })
              .map((c): [string, string] => ['WWW-Authenticate', c]),
          ]),
        );
        return;
      case 'forbidden':
        return this.refuse(incoming, refusal('forbidden', 403, 'Too Many Failed Attempts'));
      case 'bad-request':
        return this.refuse(
          incoming,
          refusal('bad-request', 400, `Bad Authorization (${auth.reason})`),
        );
      case 'ok':
        break;
    }
    const watcher = auth.username;
    const from = attempt(() => fromOf(request).uri);
    const fromUser =
      from !== undefined && isSipUri(from) && from.user !== undefined
        ? unescapeUri(from.user)
        : undefined;
    if (fromUser !== watcher || !this.deps.permissions.isExtension(watcher)) {
      return this.refuse(incoming, refusal('forbidden', 403, 'From Is Not The Authenticated User'));
    }
    if (!mayWatch(this.deps.config.blf, this.deps.permissions, watcher, watched)) {
      return this.refuse(
        incoming,
        refusal('not-permitted', 403, 'Not Allowed To Watch This Extension'),
      );
    }
    const duration = decideExpires(requested, this.expires);
    if (!duration.ok) {
      return this.refuse(
        incoming,
        refusal('interval-too-brief', 423, undefined, [
          ['Min-Expires', String(duration.minExpiresSec)],
        ]),
      );
    }
    const holder = { watcher, watched, source: source.address };
    const limit = this.counts.check(holder);
    if (limit !== undefined) {
      this.deps.logger.info(
        { watcher, watched, source: source.address, limit },
        'SUBSCRIBE refused: limit reached',
      );
      return this.refuse(
        incoming,
        refusal(`limit-${limit}`, 503, 'Too Many Subscriptions', [
          ['Retry-After', String(this.deps.config.retryAfterSec)],
        ]),
      );
    }
    const created = dialogFromUasRequest(request, {
      localTag: newTag(),
      localContact: `<${this.deps.out.contact(source)}>`,
      state: 'confirmed',
      overTls: false,
    });
    if (!created.ok)
      return this.refuse(incoming, refusal('bad-request', created.status ?? 400, created.reason));
    const dialog = created.dialog;
    incoming.respond(
      buildDialogResponse(request, 200, dialog, {
        headers: [
          ['Expires', String(duration.expiresSec)],
          ['Server', this.deps.userAgent],
        ],
      }),
    );
    const watch: Watch = {
      key: dialogKey(dialog.id),
      ...holder,
      event,
      dialog,
      destination: endpointOf(source),
      connectionId: source.connectionId,
      runner: undefined,
      version: 0,
      shown: new Set(),
      endedSince: new Map(),
    };
    this.watches.set(watch.key, watch);
    let set = this.byWatched.get(watched);
    if (set === undefined) this.byWatched.set(watched, (set = new Set()));
    set.add(watch);
    this.counts.add(holder);
    this.emit('subscribed', watcher, watched);
    this.deps.logger.info(
      { watcher, watched, expires: duration.expiresSec },
      'BLF subscription started',
    );
    watch.runner = new Subscription(this.deps.clock, duration.expiresSec, {
      notify: (state, answered) => this.notify(watch, state, answered),
      ended: () => this.forget(watch),
    });
  }

  private inDialog(incoming: IncomingRequest, key: string): void {
    const { request, source } = incoming;
    const watch = this.watches.get(key);
    if (watch === undefined || watch.runner === undefined || watch.runner.phase !== 'active') {
      return this.refuse(incoming, refusal('no-subscription', 481, 'Subscription Does Not Exist'));
    }
    const read = readSubscribe(request);
    if (!read.ok) return this.refuse(incoming, read);
    if (read.event.id !== watch.event.id) {
      // RFC 6665 §4.2.1.2: another id would be a second subscription in this dialog.
      return this.refuse(incoming, refusal('forbidden', 403, 'One Subscription Per Dialog'));
    }
    if (source.address !== watch.source)
      return this.refuse(incoming, refusal('forbidden', 403, 'Not From The Subscriber'));
    const duration = decideExpires(read.expires, this.expires);
    if (!duration.ok) {
      return this.refuse(
        incoming,
        refusal('interval-too-brief', 423, undefined, [
          ['Min-Expires', String(duration.minExpiresSec)],
        ]),
      );
    }
    const order = checkRemoteCSeq(watch.dialog, request);
    if (!order.ok)
      return this.refuse(incoming, refusal('bad-request', order.status ?? 400, order.reason));
    watch.destination = endpointOf(source);
    watch.connectionId = source.connectionId;
    incoming.respond(
      buildDialogResponse(request, 200, watch.dialog, {
        headers: [
          ['Expires', String(duration.expiresSec)],
          ['Server', this.deps.userAgent],
        ],
      }),
    );
    watch.runner.refresh(duration.expiresSec);
  }

  private refuse(incoming: IncomingRequest, r: Refusal): void {
    this.emit('refused', r.reason, r.status);
    incoming.respond(this.response(incoming.request, r.status, r.phrase, r.headers));
  }

  private response(
    request: SipRequest,
    status: number,
    phrase: string | undefined,
    headers: Array<[string, string]>,
  ) {
    return buildResponse(request, status, {
      toTag: newTag(),
      headers: [...headers, ['Server', this.deps.userAgent]],
      ...(phrase !== undefined ? { reason: phrase } : {}),
    });
  }

  /** A watched extension's dialog changed: every subscription to it gets a NOTIFY. */
  private changed(extension: string, view: DialogView): void {
    const set = this.byWatched.get(extension);
    if (set === undefined) return;
    for (const watch of set) {
      if (view.state === 'terminated' && watch.shown.has(view.id))
        watch.endedSince.set(view.id, view);
      watch.runner?.changed();
    }
  }

  /** The document of this moment: live dialogs, and shown ones that ended since. */
  private body(watch: Watch): string {
    const live = this.deps.dialogs.dialogsOf(watch.watched);
    const dialogs = [
      ...live,
      ...[...watch.endedSince.values()].filter((v) => !live.some((l) => l.id === v.id)),
    ];
    watch.shown = new Set(live.map((d) => d.id));
    watch.endedSince.clear();
    const xml = buildDialogInfo({
      version: watch.version,
      state: 'full',
      entity: this.deps.uriOf(watch.watched),
      dialogs,
    });
    watch.version += 1;
    return xml;
  }

  private notify(watch: Watch, state: NotifyState, answered: (status: number) => void): void {
    if (watch.dialog.state === 'terminated') {
      queueMicrotask(() => answered(481));
      return;
    }
    const request = createInDialogRequest(watch.dialog, 'NOTIFY', {
      body: this.body(watch),
      contentType: DIALOG_INFO_CONTENT_TYPE,
      headers: [
        ['Event', formatEventHeader(watch.event)],
        ['Subscription-State', formatSubscriptionState(state)],
        ['User-Agent', this.deps.userAgent],
      ],
    });
    this.emit('notifySent', state.state);
    this.deps.out.send(request, watch.destination, {
      onResponse: (r) => {
        if (r.status < 200) return;
        if (r.status >= 300) {
          this.deps.logger.info(
            { watcher: watch.watcher, watched: watch.watched, status: r.status },
            'BLF NOTIFY refused',
          );
        }
        answered(r.status);
      },
      onFailure: (status) => answered(status),
    });
  }

  /**
   * A connection closed (a browser's WebSocket, RFC 7118 §5): the subscriptions whose
   * NOTIFYs went over it end with it, as the bindings registered over it do (RFC 5626
   * §3): nothing can reach the watcher there any more, so no last NOTIFY is sent. The
   * number ended.
   */
  flowClosed(flow: Source): number {
    let ended = 0;
    for (const watch of [...this.watches.values()]) {
      if (!sameFlow(watch.destination, flow)) continue;
      if (
        flow.connectionId !== undefined &&
        watch.connectionId !== undefined &&
        watch.connectionId !== flow.connectionId
      ) {
        continue;
      }
      this.forget(watch, 'flow-closed');
      ended++;
    }
    return ended;
  }

  private forget(watch: Watch, reason: 'ended' | 'flow-closed' = 'ended'): void {
    if (this.watches.get(watch.key) !== watch) return;
    this.watches.delete(watch.key);
    const set = this.byWatched.get(watch.watched);
    set?.delete(watch);
    if (set?.size === 0) this.byWatched.delete(watch.watched);
    this.counts.remove(watch);
    watch.runner?.stop();
    watch.dialog.state = 'terminated';
    this.emit('ended', watch.watcher, watch.watched);
    this.deps.logger.info(
      { watcher: watch.watcher, watched: watch.watched, reason },
      'BLF subscription ended',
    );
  }

  /** Ends every subscription (a last NOTIFY each, `deactivated`), waits a bounded time. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const emptied = new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.watches.size === 0) resolve();
        };
        this.on('ended', check);
        for (const watch of [...this.watches.values()]) watch.runner?.shutdown();
        check();
      });
      await waitAtMost(emptied, CLOSE_GRACE_MS);
      this.detach();
      for (const watch of [...this.watches.values()]) this.forget(watch);
      this.removeAllListeners();
    })();
    return this.closing;
  }
}

function endpointOf(source: Source): Endpoint {
  return { protocol: source.protocol, address: source.address, port: source.port };
}
