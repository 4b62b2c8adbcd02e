/** RFC 6665 subscriptions, notifier side: Event header, duration, state machine, runner. */
export {
  formatEventHeader,
  parseEventHeader,
  type EventHeader,
  type EventHeaderResult,
} from './eventHeader.js';
export { decideExpires, type ExpiresDecision, type ExpiresPolicy } from './expires.js';
export {
  isFatalNotifyAnswer,
  startSubscription,
  step,
  type SubscriptionAction,
  type SubscriptionEvent,
  type SubscriptionPhase,
  type SubscriptionState,
} from './fsm.js';
export { Subscription, type SubscriptionHooks } from './subscription.js';
export {
  formatSubscriptionState,
  type NotifyState,
  type TerminationReason,
} from './subscriptionState.js';
