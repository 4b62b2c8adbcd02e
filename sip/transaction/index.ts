/** The RFC 3261 §17 transaction layer: pure state machines and the layer that runs them. */
export { buildAckForFailure } from './ack.js';
export { buildCancel } from './cancel.js';
export {
  ClientTransaction,
  type ClientState,
  type ClientTransactionHandlers,
} from './clientTransaction.js';
export { TypedEmitter, type EventMap } from '../util/typedEmitter.js';
export { InvalidStateError, TransactionError, type TransactionErrorCode } from './errors.js';
export type {
  Action,
  ClientContext,
  Machine,
  MachineEvent,
  ServerContext,
  ServerEvent,
  TimerEvent,
  Transition,
  TransportErrorEvent,
} from './fsm.js';
export {
  inviteClientMachine,
  type InviteClientEvent,
  type InviteClientState,
  type InviteClientTimer,
} from './inviteClient.js';
export {
  inviteServerMachine,
  type InviteServerState,
  type InviteServerTimer,
} from './inviteServer.js';
export {
  TransactionLayer,
  type ReceiveRequestResult,
  type Transaction,
  type TransactionLayerObserverEvents,
  type TransactionLayerOptions,
} from './layer.js';
export type { TransactionLogger } from './logger.js';
export { clientKey, isRfc3261Branch, responseKey, serverKey } from './matching.js';
export {
  nonInviteClientMachine,
  type NonInviteClientEvent,
  type NonInviteClientState,
  type NonInviteClientTimer,
} from './nonInviteClient.js';
export {
  nonInviteServerMachine,
  type NonInviteServerState,
  type NonInviteServerTimer,
} from './nonInviteServer.js';
export {
  ServerTransaction,
  type ServerState,
  type ServerTransactionEvents,
} from './serverTransaction.js';
export {
  DEFAULT_TIMER_CONFIG,
  DEFAULT_TRYING_DELAY,
  timerValues,
  type TimerConfig,
  type TimerValues,
} from './timers.js';
export type { TerminationReason } from './transaction.js';
export { addVia, type SentBy } from './via.js';
