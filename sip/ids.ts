/**
 * Identifiers the stack mints: branches (RFC 3261 §8.1.1.7, with the magic cookie so
 * transactions match by branch), tags (§19.3, at least 32 random bits) and Call-IDs.
 */
import { hash, randomBytes } from 'node:crypto';
import type { SipRequest } from './message/message.js';
import { BRANCH_MAGIC_COOKIE } from './message/via.js';

/** Random bytes drawn in batches: the registrar mints a tag per request. */
let pool = Buffer.alloc(0);
let offset = 0;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const out = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return out;
}

export function newBranch(): string {
  return `${BRANCH_MAGIC_COOKIE}${randomHex(10)}`;
}

export function newTag(): string {
  return randomHex(6);
}

/** Keys statelessTag() per process, so its tags are unguessable as §19.3 asks. */
const TAG_KEY = randomBytes(16).toString('hex');

/**
 * The To tag of a response sent statelessly (§8.2.7): "the same tag for the same request
 * consistently", so a retransmitted request answered anew gets the tag it got before.
 * Derived from what identifies the request (top Via with its branch, Call-ID, CSeq, From
 * tag) and a per-process key: 48 bits, as newTag().
 */
export function statelessTag(request: SipRequest): string {
  const h = request.headers;
  const seed = `${TAG_KEY}\n${h.get('Via')}\n${h.get('Call-ID')}\n${h.get('CSeq')}\n${h.get('From')}`;
  return hash('sha256', seed, 'hex').slice(0, 12);
}

export function newCallId(host?: string): string {
  const id = randomHex(12);
  return host ? `${id}@${host}` : id;
}
