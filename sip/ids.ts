/**
 * Identifiers the stack mints: branches (RFC 3261 §8.1.1.7, with the magic cookie so
 * transactions match by branch), tags (§19.3, at least 32 random bits) and Call-IDs.
 */
import { randomBytes } from 'node:crypto';
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

export function newCallId(host?: string): string {
  const id = randomHex(12);
  return host ? `${id}@${host}` : id;
}
