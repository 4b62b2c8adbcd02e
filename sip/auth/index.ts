/** SIP digest authentication, server side (RFC 3261 §22, RFC 7616, RFC 8760). */
export {
  MAX_AUTH_HEADER_LENGTH,
  MAX_AUTH_PARAMS,
  isToken,
  parseAuthHeader,
  quoteString,
  serializeDigestChallenge,
  serializeDigestCredentials,
} from './authParams.js';
export type {
  AuthHeader,
  AuthParseResult,
  DigestChallengeFields,
  DigestCredentialFields,
} from './authParams.js';
export {
  DEFAULT_ALGORITHMS,
  DEFAULT_NONCE_LIFETIME_MS,
  DigestAuthenticator,
} from './authenticator.js';
export type {
  AuthenticatorSizes,
  CredentialLookup,
  DigestAuthenticatorOptions,
  StoredCredentials,
  VerifyInput,
} from './authenticator.js';
export {
  challengeHeaderName,
  challengeStatusFor,
  credentialsHeaderName,
  statusForOutcome,
} from './authResult.js';
export type {
  AuthOutcome,
  AuthResult,
  BadRequestReason,
  ChallengeKind,
  ChallengeReason,
  ForbiddenReason,
} from './authResult.js';
export type { Clock } from './clock.js';
export {
  MAX_CREDENTIAL_VALUES,
  isDigestScheme,
  readDigestCredentials,
  selectCredentials,
} from './credentials.js';
export type {
  CredentialsError,
  CredentialsResult,
  CredentialsSelection,
  DigestCredentials,
} from './credentials.js';
export {
  DIGEST_ALGORITHMS,
  MAX_NC,
  computeDigestResponse,
  computeHa1,
  digestEquals,
  hashFunctionOf,
  hashHex,
  isSessionAlgorithm,
  parseDigestAlgorithm,
} from './digest.js';
export type { DigestAlgorithm, DigestResponseInput, HashFunction } from './digest.js';
export { DEFAULT_SOURCE_LIMITS, DEFAULT_USER_LIMITS, FailureLimiter } from './failureLimiter.js';
export type { FailureLimiterOptions, FailureRecord } from './failureLimiter.js';
export { failureSourceKey } from './proxiedSource.js';
export {
  DEFAULT_MAX_TRACKED_NONCES,
  DEFAULT_NC_WINDOW,
  MAX_NC_WINDOW,
  NonceStore,
} from './nonceStore.js';
export type { NonceState, NonceStoreOptions, NonceUse } from './nonceStore.js';
