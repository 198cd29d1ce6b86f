/**
 * Parley's SIP transport: the `SipTransport` interface, the embedded stack, dialogs, the
 * registrar and reg events, trusted peers, request checks. The pure codec has its own index,
 * `codec.ts`.
 */
export type {
  SipTransport, IncomingRequest, OutgoingRequest, RespondOptions, SendRequestOptions, SipEndpoint, SipTransportProtocol, AckTimeout,
} from './transport.js';
export { createSipStack, SipStack, type SipStackOptions } from './stack.js';
export {
  createUasDialog, createUacDialog, buildInDialogRequest, onRemoteRequest, onRefreshResponse, dialogIdOf, dialogIdOfRequest,
  dialogIdOfResponse, dialogKey, type DialogId, type DialogState, type InDialogOptions,
} from './dialog.js';
export { Registrar, RegistrationEvents, requestToContact, type RegistrarOptions, type RegistrationEvent, type RegisterResult } from './registrar.js';
export { RegistrationStore, type Binding, type RegisteredContact, type BindingWriter } from './registrationStore.js';
export { parseReginfo, reginfoFromNotify, RegEventTracker, defaultReginfoLimits, type Reginfo, type ReginfoContact, type ReginfoRegistration, type ReginfoLimits } from './regEvent.js';
export { parseTrustList, isTrusted, type TrustList } from './trust.js';
export { checkRequest, optionsHeaders, defaultMethodPolicy, type MethodPolicy, type Rejection } from './methods.js';
export { defaultSipTimers, type SipTimerConfig } from './transaction/timers.js';
export { newBranch, newTag, newCallId } from './transaction/branch.js';
export {
  acceptSubscribe, refreshSubscription, acceptRefer, buildNotify, expireSubscription, terminateSubscription, activateSubscription,
  onNotifyResponse, isExpired, remainingSeconds, subscriptionStateValue, nextDocumentVersion, parseEventHeader, formatEventHeader,
  eventOfRequest, grantExpires, negotiateContentType, matchesSubscription, subscriptionKey, subscriptionDialogKey,
  CONFERENCE_EVENT, MESSAGE_SUMMARY_EVENT, REFER_EVENT, DEFAULT_SUBSCRIPTION_LIMITS,
  type EventPackage, type EventHeader, type Subscription, type SubscribeAnswer, type SubscribeDecision, type SubscriptionLimits,
  type TerminationReason, type AcceptSubscribeOptions, type RefreshOptions, type NotifyOptions, type AcceptReferOptions,
} from './subscription.js';
export { inviteBodies, RECIPIENT_LIST_INVITE_TAG, type InviteBodies } from './recipientList.js';
