/** RFC 3261 §12 dialogs: pure state, builders and matching; no sockets, no timers. */
export {
  confirmDialog,
  dialogFromUacResponse,
  dialogFromUasRequest,
  remoteTargetOf,
  terminateDialog,
  type DialogResult,
  type UacDialogOptions,
  type UasDialogOptions,
} from './create.js';
export {
  dialogKey,
  sameDialogId,
  type Dialog,
  type DialogId,
  type DialogParty,
  type DialogState,
} from './dialog.js';
export { DialogError, dialogFailure, type DialogErrorCode, type DialogFailure } from './errors.js';
export {
  canSendReInvite,
  checkIncomingReInvite,
  glareRetryDelay,
  type InviteActivity,
  type RandomSource,
  type ReInviteVerdict,
} from './glare.js';
export { dialogIdOfIncoming, dialogIdOfResponse } from './matching.js';
export { DialogRegistry } from './registry.js';
export {
  createAck,
  createInDialogRequest,
  nextHopUri,
  type InDialogRequestOptions,
} from './request.js';
export { buildDialogResponse, type DialogResponseOptions } from './response.js';
export {
  isLooseRoute,
  parseRouteSet,
  requestUriText,
  targetRequest,
  type RequestTarget,
} from './routeSet.js';
export { checkRemoteCSeq, nextLocalSeq } from './sequence.js';
export { isTargetRefresh, refreshRemoteTarget } from './targetRefresh.js';
