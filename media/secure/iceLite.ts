/**
 * The ICE-lite side of connectivity checks (RFC 8445 §2.5, §7.3): we never send checks,
 * we answer the peer's STUN Binding requests. A request counts only when its USERNAME is
 * `<our ufrag>:<its ufrag>` and its MESSAGE-INTEGRITY verifies with our password
 * (short-term credentials, RFC 8489 §9.1); the answer is a success response with the
 * source as XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT (RFC 8489 §14.7).
 * STUN encoding and checking is werift's; the policy is here.
 */
import type { Werift } from './werift.js';

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

export type CheckRefusal =
  'malformed' | 'not-a-binding-request' | 'wrong-username' | 'bad-integrity';

export type CheckOutcome =
  { ok: true; response: Buffer; nominated: boolean } | { ok: false; reason: CheckRefusal };

/**
 * Answers one STUN message from `address`:`port`. `remoteUfrag` is the peer's ufrag from
 * its SDP when known (before its answer arrives, any peer ufrag is taken: the password
 * check is ours).
 */
export function answerBindingRequest(
  w: Werift,
  data: Buffer,
  local: IceCredentials,
  remoteUfrag: string | null,
  address: string,
  port: number,
): CheckOutcome {
  const plain = w.parseMessage(data);
  if (plain === undefined) return { ok: false, reason: 'malformed' };
  if (plain.messageMethod !== w.methods.BINDING || plain.messageClass !== w.classes.REQUEST) {
    return { ok: false, reason: 'not-a-binding-request' };
  }
  const username: unknown = plain.getAttributeValue('USERNAME');
  if (typeof username !== 'string') return { ok: false, reason: 'wrong-username' };
  const colon = username.indexOf(':');
  const ours = colon < 0 ? username : username.slice(0, colon);
  const theirs = colon < 0 ? '' : username.slice(colon + 1);
  if (ours !== local.ufrag || (remoteUfrag !== null && theirs !== remoteUfrag)) {
    return { ok: false, reason: 'wrong-username' };
  }
  const key = Buffer.from(local.pwd, 'utf8');
  const request = w.parseMessage(data, key);
  if (request === undefined) return { ok: false, reason: 'bad-integrity' };
  const response = new w.Message(w.methods.BINDING, w.classes.RESPONSE, request.transactionId)
    .setAttribute('XOR-MAPPED-ADDRESS', [address, port])
    .addMessageIntegrity(key)
    .addFingerprint();
  const nominated = request.attributesKeys.includes('USE-CANDIDATE');
  return { ok: true, response: response.bytes, nominated };
}
