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
import { cseqOf, toTag, type SipRequest, type SipResponse } from '../../sip/message/index.js';
import { buildCancel } from '../../sip/transaction/cancel.js';
import type { Endpoint } from '../../sip/transport/types.js';
import type { Logger } from '../logging.js';
import type { SipOut } from './sipOut.js';
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
 * A settled fork's handlers: it tells the call nothing more. The INVITE client transaction
 * keeps the fork (its response handler) for 64·T1 after a 2xx (RFC 6026 Accepted: a
 * retransmitted 2xx is ACKed again) or after a failure (Timer D); through the handlers it
 * kept the whole ended call too — its media handles, room, legs, logger, parsed messages —
 * which the garbage collector copied and marked for those 32 s (docs/architecture.md §9.2).
 */
const SETTLED: ForkHandlers = {
  onProvisional: () => {},
  onAnswer: () => true,
  onFailure: () => {},
};

export class Fork {
  /** The early, then confirmed dialog with this callee. */
  dialog: Dialog | undefined;
  private provisional = false;
  private final = false;
  private cancelWanted = false;
  private ack: SipRequest | undefined;
  private answered = false;

  constructor(
    readonly invite: SipRequest,
    readonly destination: Endpoint,
    private readonly out: SipOut,
    private handlers: ForkHandlers,
    private readonly logger: Logger,
  ) {}

  get done(): boolean {
    return this.final;
  }

  start(): void {
    this.out.send(this.invite, this.destination, {
      onResponse: (r) => this.onResponse(r),
      onFailure: (status) => this.fail(status, FAILURE_REASONS[status]),
    });
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
    return new Promise((resolve) => {
      this.out.send(request, this.destination, {
        onResponse: (r) => {
          if (r.status >= 200) resolve();
        },
        onFailure: () => resolve(),
      });
    });
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
    if (this.ack !== undefined) {
      // A retransmitted 2xx: the same ACK again (§13.2.2.4). A 2xx of another
      // downstream fork (other To tag) is not expected from a phone; ACK it the same.
      this.out.sendDirect(this.ack, this.destination);
      return;
    }
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
    this.ack = createAck(confirmed, cseqOf(this.invite).seq);
    this.out.sendDirect(this.ack, this.destination);
    if (this.answered) return;
    this.answered = true;
    const unwanted = this.cancelWanted || !this.handlers.onAnswer(this, response);
    this.handlers = SETTLED; // from here on only a retransmitted 2xx comes: ACKed above
    if (unwanted) inBackground(this.bye(), this.logger, 'BYE to an unwanted answer failed');
  }

  private fail(status: number, reason: string): void {
    if (this.final) return;
    this.final = true;
    if (this.dialog !== undefined) terminateDialog(this.dialog);
    const handlers = this.handlers;
    this.handlers = SETTLED;
    handlers.onFailure(this, status, reason);
  }
}
