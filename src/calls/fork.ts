/**
 * One branch of a call toward the callee: our INVITE to one registered contact (or the
 * trunk), its early dialog, and what must happen to it whatever the call does meanwhile
 * (RFC 3261 §9.1, §13.2.2.4):
 * - cancel(): CANCEL once a provisional response has arrived (not before, §9.1);
 * - every 2xx is ACKed (again for a retransmission, with the same ACK);
 * - a 2xx that arrives after the call no longer wants this fork is ACKed and BYEd.
 */
import {
  confirmDialog,
  createAck,
  createInDialogRequest,
  dialogFromUacResponse,
  terminateDialog,
  type Dialog,
} from '../../sip/dialog/index.js';
import {
  cseqOf,
  toTag,
  toWire,
  type SipRequest,
  type SipResponse,
} from '../../sip/message/index.js';
import { buildCancel } from '../../sip/transaction/cancel.js';
import type { Endpoint } from '../../sip/transport/types.js';
import type { Logger } from '../logging.js';
import type { RequestHandlers, SipOut } from './sipOut.js';
import { inBackground } from '../util/background.js';

export interface ForkHandlers {
  /** 101–199 (the fork's early dialog, if the response had a To tag, is `fork.dialog`). */
  onProvisional(fork: Fork, response: SipResponse): void;
  /** The first 2xx of this fork; the ACK is already sent. Return false to hang it up. */
  onAnswer(fork: Fork, response: SipResponse): boolean;
  /** A final failure (or 408/503 for timeout / transport error). */
  onFailure(fork: Fork, status: number, reason: string): void;
}

const FAILURE_REASONS = {
  408: 'Request Timeout',
  480: 'Temporarily Unavailable',
  503: 'Service Unavailable',
} as const;

/**
 * What the INVITE's client transaction holds of its fork. That transaction lingers 64·T1
 * after a 2xx (RFC 6026 Accepted, where each retransmitted 2xx must be ACKed again,
 * §13.2.2.4) and after a failure (Timer D). Until the fork's final response it reaches
 * the fork; from then on only the ACK to send again (a 2xx), or nothing (a failure). Held
 * for those 32 s, the fork would keep its dialog (slices of the callee's 180 and 200),
 * its INVITE and its logger long after the call: memory the garbage collector marks
 * over and over at hundreds of calls a second (docs/architecture.md §9.2).
 */
interface InviteLink {
  fork: Fork | undefined;
  /** The ACK of the first 2xx, as its bytes (nothing sliced from the 2xx is kept). */
  ack: SipRequest | undefined;
  readonly destination: Endpoint;
  readonly out: SipOut;
}

/** Handlers that resolve on the request's final response or failure. */
function resolveOnFinal(resolve: () => void): RequestHandlers {
  return {
    onResponse: (r) => {
      if (r.status >= 200) resolve();
    },
    onFailure: () => resolve(),
  };
}

export class Fork {
  /** The early, then confirmed dialog with this callee. */
  dialog: Dialog | undefined;
  private provisional = false;
  private final = false;
  private cancelWanted = false;
  private readonly link: InviteLink;

  constructor(
    readonly invite: SipRequest,
    readonly destination: Endpoint,
    private readonly out: SipOut,
    private readonly handlers: ForkHandlers,
    private readonly logger: Logger,
  ) {
    this.link = { fork: this, ack: undefined, destination, out };
  }

  get done(): boolean {
    return this.final;
  }

  start(): void {
    this.out.send(this.invite, this.destination, Fork.inviteHandlers(this.link));
  }

  /** The INVITE transaction's handlers: they close over the link only, never the fork. */
  private static inviteHandlers(link: InviteLink): RequestHandlers {
    return {
      onResponse: (response) => {
        if (link.fork !== undefined) link.fork.onResponse(response);
        else if (link.ack !== undefined && response.status >= 200 && response.status < 300) {
          // A retransmitted 2xx: the same ACK again (§13.2.2.4). A 2xx of another
          // downstream fork (other To tag) is not expected from a phone; ACK it the same.
          link.out.sendDirect(link.ack, link.destination);
        }
      },
      onFailure: (status) => link.fork?.fail(status, FAILURE_REASONS[status]),
    };
  }

  /** §9.1: CANCEL now if a provisional response came, else as soon as one does. */
  cancel(): void {
    if (this.final || this.cancelWanted) return;
    this.cancelWanted = true;
    if (this.provisional) this.sendCancel();
  }

  /** Ends the confirmed dialog with this callee (BYE). Resolves when answered or failed. */
  bye(): Promise<void> {
    const dialog = this.dialog;
    if (dialog === undefined || dialog.state !== 'confirmed') return Promise.resolve();
    const request = createInDialogRequest(dialog, 'BYE');
    terminateDialog(dialog);
    // The BYE's transaction lingers (Timer K) with these handlers: they close over
    // `resolve` only, not the fork (locals, so no closure here captures `this`).
    const { out, destination } = this;
    return new Promise((resolve) => out.send(request, destination, resolveOnFinal(resolve)));
  }

  private sendCancel(): void {
    this.out.send(buildCancel(this.invite), this.destination, {
      onResponse: () => {},
      onFailure: () => {},
    });
  }

  private onResponse(response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      if (status === 100) return;
      this.provisional = true;
      if (this.cancelWanted) {
        this.sendCancel();
        this.cancelWanted = false;
        return;
      }
      if (this.dialog === undefined && toTag(response) !== undefined) {
        const created = dialogFromUacResponse(this.invite, response);
        if (created.ok) this.dialog = created.dialog;
      }
      this.handlers.onProvisional(this, response);
      return;
    }
    if (status >= 300) {
      this.fail(status, response.reason);
      return;
    }
    this.onSuccess(response);
  }

  private onSuccess(response: SipResponse): void {
    this.final = true;
    const dialog =
      this.dialog !== undefined && toTag(response) === this.dialog.id.remoteTag
        ? this.dialog
        : undefined;
    if (dialog !== undefined) {
      confirmDialog(dialog, response);
    } else {
      const created = dialogFromUacResponse(this.invite, response);
      if (!created.ok) {
        this.logger.warn({ reason: created.reason }, 'unusable 2xx from callee');
        return;
      }
      this.dialog = created.dialog;
    }
    const confirmed = this.dialog as Dialog;
    const ack = createAck(confirmed, cseqOf(this.invite).seq);
    this.out.sendDirect(ack, this.destination);
    // From here on the transaction only hands over retransmitted 2xx: the link ACKs them.
    this.link.fork = undefined;
    this.link.ack = toWire(ack);
    const unwanted = this.cancelWanted || !this.handlers.onAnswer(this, response);
    if (unwanted) inBackground(this.bye(), this.logger, 'BYE to an unwanted answer failed');
  }

  private fail(status: number, reason: string): void {
    if (this.final) return;
    this.final = true;
    this.link.fork = undefined;
    if (this.dialog !== undefined) terminateDialog(this.dialog);
    this.handlers.onFailure(this, status, reason);
  }
}
