/**
 * Responses a UAS sends within its dialog (RFC 3261 §12.1.1, §13.3.1.4): our tag in To,
 * our Contact on 101–299 responses to dialog-creating and target-refresh requests, and
 * the Record-Route copied onto responses that create the dialog.
 */
import {
  buildResponse,
  toTag,
  attempt,
  type ResponseOptions,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Dialog } from './dialog.js';
import { isTargetRefresh } from './targetRefresh.js';

export interface DialogResponseOptions {
  reason?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  /** Content-Type of the body (`application/sdp`). */
  contentType?: string;
}

export function buildDialogResponse(
  request: SipRequest,
  status: number,
  dialog: Dialog,
  options: DialogResponseOptions = {},
): SipResponse {
  const headers: Array<[string, string]> = [];
  const establishing = attempt(() => toTag(request)) === undefined;
  const success = status > 100 && status < 300;
  if (success && establishing) {
    // §12.1.1: "copy all Record-Route header field values from the request".
    for (const rr of request.headers.getAll('Record-Route')) headers.push(['Record-Route', rr]);
  }
  if (success && isTargetRefresh(request.method)) headers.push(['Contact', dialog.localContact]);
  for (const [name, value] of options.headers ?? []) headers.push([name, value]);
  const body = options.body;
  if (body !== undefined && options.contentType !== undefined) {
    headers.push(['Content-Type', options.contentType]);
  }
  const init: ResponseOptions = { toTag: dialog.id.localTag, headers };
  if (options.reason !== undefined) init.reason = options.reason;
  if (body !== undefined) init.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return buildResponse(request, status, init);
}
