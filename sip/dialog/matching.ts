/**
 * Which dialog a message belongs to (RFC 3261 §12.2.2, §12.1.2). Ids are always from our
 * side: for a request we receive, our tag is in To and the peer's in From; for a
 * response to our request, ours is in From and the peer's in To.
 */
import {
  attempt,
  callIdOf,
  fromTag,
  toTag,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { DialogId } from './dialog.js';

/**
 * The id of the dialog a request we received is in; undefined when the To header has no
 * tag (the request is not inside a dialog: an initial INVITE, a CANCEL) or the headers
 * cannot be read. A missing From tag (RFC 2543) is an empty remote tag.
 */
export function dialogIdOfIncoming(request: SipRequest): DialogId | undefined {
  return attempt(() => {
    const localTag = toTag(request);
    if (localTag === undefined || localTag === '') return undefined;
    return { callId: callIdOf(request), localTag, remoteTag: fromTag(request) ?? '' };
  });
}

/**
 * The id of the dialog a response to our request belongs to; undefined without a From
 * tag (not one of our requests) or with unreadable headers. A response without To tag
 * gives an empty remote tag (RFC 2543 2xx, §12.1.2); provisional ones make no dialog.
 */
export function dialogIdOfResponse(response: SipResponse): DialogId | undefined {
  return attempt(() => {
    const localTag = fromTag(response);
    if (localTag === undefined || localTag === '') return undefined;
    return { callId: callIdOf(response), localTag, remoteTag: toTag(response) ?? '' };
  });
}
