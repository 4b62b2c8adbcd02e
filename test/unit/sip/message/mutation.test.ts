/**
 * Randomized robustness: thousands of mutations of the valid torture messages (fixed
 * seed, so failures reproduce). Whatever the bytes, parseMessage reports through its
 * result, never throws and never hits an internal fault; what it accepts can be read by
 * every accessor, checked, serialized and parsed again; what it refuses but attaches can
 * be routed and answered. Hostile sizes must stay linear.
 */
import { describe, it, expect } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  allVias,
  buildResponse,
  callIdOf,
  contactsOf,
  contentTypeOf,
  cseqOf,
  fromOf,
  fromTag,
  maxForwardsOf,
  parseMessage,
  requestUriOf,
  serializeMessage,
  SipParseError,
  toOf,
  toTag,
  topVia,
  type ParseResult,
} from '../../../../sip/message/index.js';
import { checkRequest, type RequestCheckOptions } from '../../../../sip/core/index.js';

const dir = fileURLToPath(new URL('../../../fixtures/torture/valid/', import.meta.url));
const seeds = readdirSync(dir)
  .sort()
  .map((f) => readFileSync(`${dir}${f}`));

const opts: RequestCheckOptions = {
  allowedMethods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'MESSAGE'],
  supportedExtensions: ['path'],
  uriSchemes: ['sip', 'sips'],
  forwardedMethods: ['INVITE'],
};

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = [0x0d, 0x0a, 0x00, 0x22, 0x3c, 0x3e, 0x3b, 0x2c, 0x3a, 0x20, 0x09, 0x5c];
const SPECIAL_RUNS = [
  '\r\n',
  '\r\n ',
  '\n\n',
  '\r\n\r\n',
  '%',
  '%0',
  '@',
  '[',
  ']',
  '::',
  '=',
  '?',
  '&',
];

function mutate(input: Buffer, rnd: () => number): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(input);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length + 1);
    switch (pick(10)) {
      case 0: // flip a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = pick(256);
        break;
      case 1: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(16))]);
        break;
      case 2: // insert a separator, control or quote
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.of(SPECIAL[pick(SPECIAL.length)] ?? 0),
          b.subarray(at),
        ]);
        break;
      case 3: // insert a high byte (broken UTF-8)
        b = Buffer.concat([b.subarray(0, at), Buffer.of(0x80 + pick(128)), b.subarray(at)]);
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: {
        // duplicate a line
        const start = b.lastIndexOf(0x0a, at) + 1;
        const end = b.indexOf(0x0a, at);
        if (end > start)
          b = Buffer.concat([
            b.subarray(0, end + 1),
            b.subarray(start, end + 1),
            b.subarray(end + 1),
          ]);
        break;
      }
      case 6: {
        // a huge value: a run of one character
        const ch = String.fromCharCode(SPECIAL[pick(SPECIAL.length)] ?? 0x61, 0x61)[pick(2)] ?? 'a';
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(ch.repeat(1000 + pick(20000)), 'latin1'),
          b.subarray(at),
        ]);
        break;
      }
      case 7: // insert a SIP-significant sequence
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(SPECIAL_RUNS[pick(SPECIAL_RUNS.length)] ?? ''),
          b.subarray(at),
        ]);
        break;
      case 8: // a long number
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from('9'.repeat(1 + pick(30))),
          b.subarray(at),
        ]);
        break;
      default: {
        // swap two lines
        const lines = b.toString('latin1').split('\r\n');
        const i = pick(lines.length);
        const j = pick(lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        b = Buffer.from(lines.join('\r\n'), 'latin1');
      }
    }
  }
  return b;
}

/** Everything the parser promises about a result. Throws (fails the test) otherwise. */
function exercise(result: ParseResult): void {
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(SipParseError);
    if (result.error.code === 'SIP_INTERNAL') throw result.error;
    if (result.request) {
      expect(result.request.method).not.toBe('ACK');
      topVia(result.request);
      serializeMessage(buildResponse(result.request, result.error.status, { toTag: 'x' }));
    }
    return;
  }
  const m = result.message;
  topVia(m);
  allVias(m);
  cseqOf(m);
  callIdOf(m);
  fromOf(m);
  toOf(m);
  fromTag(m);
  toTag(m);
  maxForwardsOf(m);
  contactsOf(m);
  contentTypeOf(m);
  if (m.kind === 'request') {
    requestUriOf(m);
    checkRequest(m, opts);
    serializeMessage(buildResponse(m, 200, { toTag: 'x' }));
  }
  const again = parseMessage(serializeMessage(m));
  if (!again.ok) throw new Error(`re-parse failed: ${again.error.message}`);
}

describe('mutation', () => {
  it('20 000 mutations of the valid corpus never break the parser', () => {
    const rnd = prng(4475);
    const started = Date.now();
    let accepted = 0;
    let answerable = 0;
    for (let n = 0; n < 20000; n++) {
      const seed = seeds[n % seeds.length] as Buffer;
      const input = mutate(seed, rnd);
      const result = parseMessage(input);
      try {
        exercise(result);
      } catch (err) {
        throw new Error(
          `mutation #${n}: ${String(err)}\n${JSON.stringify(input.toString('latin1').slice(0, 2000))}`,
        );
      }
      if (result.ok) accepted++;
      else if (result.request) answerable++;
    }
    // The mix must stay interesting: some accepted, some refused and answerable.
    expect(accepted).toBeGreaterThan(1000);
    expect(answerable).toBeGreaterThan(1000);
    expect(Date.now() - started).toBeLessThan(25000);
  });

  describe('60 kB of one character in one place stays linear', () => {
    const base = [
      'INVITE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1',
      'From: <sip:alice@example.com>;tag=1',
      'To: <sip:bob@example.com>',
      'Call-ID: x@y',
      'CSeq: 1 INVITE',
      'Max-Forwards: 70',
      'Contact: <sip:alice@host.example.com>',
      'Content-Type: application/sdp',
      'Accept: application/sdp',
      'Require: timer',
      'Content-Length: 0',
    ];
    const chars = [
      'a',
      ';',
      ',',
      '"',
      '<',
      '>',
      ' ',
      '\t',
      '%',
      '\\',
      ':',
      '[',
      '@',
      '=',
      '/',
      '\x00',
      '\xff',
    ];
    const targets = [
      'Request-URI',
      'Via',
      'From',
      'To',
      'Call-ID',
      'CSeq',
      'Contact',
      'Content-Type',
      'Accept',
      'Require',
      'X-Any',
    ];
    it.each(targets)('in %s', (target) => {
      for (const ch of chars) {
        for (const where of ['prefix', 'suffix', 'whole'] as const) {
          const run = ch.repeat(60000);
          const lines = base.map((line) => {
            if (target === 'Request-URI' && line.startsWith('INVITE ')) {
              const uri =
                where === 'whole'
                  ? run
                  : where === 'prefix'
                    ? run + 'sip:bob@example.com'
                    : 'sip:bob@example.com' + run;
              return `INVITE ${uri} SIP/2.0`;
            }
            const colon = line.indexOf(':');
            if (line.slice(0, colon) !== target) return line;
            const value = line.slice(colon + 2);
            return `${target}: ${where === 'whole' ? run : where === 'prefix' ? run + value : value + run}`;
          });
          if (target === 'X-Any') lines.push(`X-Any: ${run}`);
          const data = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
          const t0 = process.hrtime.bigint();
          const result = parseMessage(data);
          exercise(result);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          expect(ms).toBeLessThan(250);
        }
      }
    });

    it('in a header name, a folded run and a list of 30 000 elements', () => {
      const cases = [
        `${'X'.repeat(60000)}: v`,
        `Subject: a${'\r\n b'.repeat(20000)}`,
        `Route: ${'<sip:a@b>,'.repeat(6000)}<sip:c@d>`,
        `Contact: ${'<sip:a@b>,'.repeat(6000)}<sip:c@d>`,
        `Via: ${'SIP/2.0/UDP a;branch=z9hG4bKx,'.repeat(2000)}SIP/2.0/UDP b`,
        `Supported: ${'a,'.repeat(30000)}b`,
      ];
      for (const extra of cases) {
        const data = Buffer.from(base.concat(extra).join('\r\n') + '\r\n\r\n', 'latin1');
        const t0 = process.hrtime.bigint();
        exercise(parseMessage(data));
        expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(500);
      }
    });
  });
});
