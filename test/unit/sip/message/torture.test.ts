/**
 * RFC 4475 torture corpus: every message in test/fixtures/torture goes through the UAS
 * pipeline (parseMessage, then checkRequest for requests) and must end as
 * expectations.json says.
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
  maxForwardsOf,
  parseMessage,
  requestUriOf,
  serializeMessage,
  toOf,
  topVia,
  type SipMessage,
} from '../../../../sip/message/index.js';
import { checkRequest, type RequestCheckOptions } from '../../../../sip/core/index.js';

interface Expectation {
  file: string;
  name: string;
  section: string;
  title: string;
  kind: 'request' | 'response';
  expect: 'drop' | { parse?: boolean; status?: number; headers?: string[] };
}

const dir = fileURLToPath(new URL('../../../fixtures/torture/', import.meta.url));
const table = JSON.parse(readFileSync(`${dir}expectations.json`, 'utf8')) as Expectation[];

/** A UAS/registrar like ours: no extensions it would need, SIP URIs only. */
const opts: RequestCheckOptions = {
  allowedMethods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'MESSAGE'],
  supportedExtensions: ['path', 'outbound'],
  uriSchemes: ['sip', 'sips'],
  forwardedMethods: ['INVITE'],
};

function load(file: string): Buffer {
  return readFileSync(`${dir}${file}`);
}

/** Everything a layer above reads from an accepted message must be readable. */
function readEverything(m: SipMessage): void {
  topVia(m);
  allVias(m);
  cseqOf(m);
  callIdOf(m);
  fromOf(m);
  toOf(m);
  maxForwardsOf(m);
  contactsOf(m);
  contentTypeOf(m);
  if (m.kind === 'request') requestUriOf(m);
}

describe('RFC 4475 torture corpus', () => {
  it('has a fixture for every entry and an entry for every fixture', () => {
    const files = ['valid', 'invalid'].flatMap((d) =>
      readdirSync(`${dir}${d}`).map((f) => `${d}/${f}`),
    );
    expect(files.sort()).toEqual(table.map((e) => e.file).sort());
    expect(table).toHaveLength(49);
  });

  describe.each(table.map((e) => [`${e.section} ${e.name}`, e] as const))('%s', (_label, entry) => {
    it(`ends as expected: ${JSON.stringify(entry.expect)}`, () => {
      const result = parseMessage(load(entry.file));
      const expected = entry.expect;

      if (expected === 'drop') {
        // Nothing may be sent back: either refused without an answerable request, or a
        // response (which is never answered).
        if (result.ok) expect(result.message.kind).toBe('response');
        else expect(result.request).toBeUndefined();
        return;
      }

      if (expected.parse) {
        if (!result.ok) throw new Error(`${entry.name}: ${result.error.message}`);
        expect(result.message.kind).toBe(entry.kind);
        readEverything(result.message);
        const again = parseMessage(serializeMessage(result.message));
        expect(again.ok).toBe(true);
      }

      let status: number | undefined;
      let headers: Array<[string, string]> = [];
      if (result.ok) {
        if (result.message.kind === 'request') {
          const verdict = checkRequest(result.message, opts);
          status = verdict?.status;
          headers = verdict?.headers ?? [];
        }
      } else {
        expect(result.request).toBeDefined();
        status = result.error.status;
        // The refused request can be answered: routed by its top Via, built without throwing.
        if (result.request) {
          topVia(result.request);
          const response = buildResponse(result.request, status);
          expect(serializeMessage(response).length).toBeGreaterThan(0);
        }
      }
      expect(status).toBe(expected.status);
      for (const name of expected.headers ?? []) {
        expect(headers.map(([n]) => n)).toContain(name);
      }
    });
  });
});

describe('RFC 4475 details', () => {
  const parsed = (file: string): SipMessage => {
    const r = parseMessage(load(file));
    if (!r.ok) throw new Error(r.error.message);
    return r.message;
  };

  it('wsinv: folding, compact forms, escaped display name, leading zeros', () => {
    const m = parsed('valid/wsinv.sip');
    expect(fromOf(m).displayName).toBe('J Rosenberg \\"');
    expect(fromOf(m).params.get('tag')).toBe('98asjd8');
    expect(toOf(m).params.get('tag')).toBe('1918181833n');
    expect(cseqOf(m)).toEqual({ seq: 9, method: 'INVITE' });
    expect(maxForwardsOf(m)).toBe(68);
    expect(allVias(m).map((v) => [v.transport, v.host, v.params.get('branch')])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.headers.get('Subject')).toBe('');
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    const [contact] = contactsOf(m);
    expect(contact !== '*' && contact?.displayName).toBe('Quoted string ""');
    expect(contact !== '*' && [...(contact?.params ?? [])]).toEqual([
      ['newparam', 'newvalue'],
      ['secondparam', null],
      ['q', '0.33'],
    ]);
    expect(m.body.length).toBe(150);
  });

  it('intmeth: token method, unusual URI user and password, NUL in a quoted-pair', () => {
    const m = parsed('valid/intmeth.sip');
    expect(m.kind === 'request' && m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const uri = m.kind === 'request' ? requestUriOf(m) : undefined;
    expect(uri).toMatchObject({
      user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
      password: "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
      host: 'example.com',
    });
    expect(toOf(m).displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(fromOf(m).displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(fromOf(m).params.get("fromparam''~+*_!.-%")).toBe('"работающий"');
    expect(callIdOf(m)).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.headers.get("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
  });

  it('esc02: percent is not an escape in methods and header names', () => {
    const m = parsed('valid/esc02.sip');
    expect(m.headers.getAll('Contact')).toHaveLength(2);
    expect(toOf(m).displayName).toBe('%Z%45');
  });

  it('semiuri: the user part keeps its semicolon', () => {
    const m = parsed('valid/semiuri.sip');
    expect(m.kind === 'request' && requestUriOf(m)).toMatchObject({
      user: 'user;par=u%40example.net',
      host: 'example.com',
    });
    expect(m.headers.getAll('Accept')).toHaveLength(6);
  });

  it('dblreq: octets after Content-Length are ignored', () => {
    const m = parsed('valid/dblreq.sip');
    expect(m.kind === 'request' && m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
  });

  it('mpart01: binary body framed by Content-Length', () => {
    const m = parsed('valid/mpart01.sip');
    expect(m.body.length).toBe(553);
    expect(m.body.subarray(-24).toString('latin1')).toBe('\r\n--7a9cbec02ceef655--\r\n');
  });

  it('unreason / noreason: reason phrases', () => {
    const a = parsed('valid/unreason.sip');
    expect(a.kind === 'response' && a.reason).toBe(
      '= 2**3 * 5**2 но сто девяносто девять - простое',
    );
    const b = parsed('valid/noreason.sip');
    expect(b.kind === 'response' && [b.status, b.reason]).toEqual([100, '']);
  });

  it('inv2543: no Content-Length means the rest of the datagram', () => {
    const m = parsed('valid/inv2543.sip');
    expect(m.body.toString()).toMatch(/^v=0\r\n[\s\S]*m=audio 49217 RTP\/AVP 0\r\n$/);
  });

  it('cparam01 / cparam02: header parameter versus URI parameter', () => {
    const [a] = contactsOf(parsed('valid/cparam01.sip'));
    const [b] = contactsOf(parsed('valid/cparam02.sip'));
    expect(a !== '*' && a?.params.has('unknownparam')).toBe(true);
    expect(a !== '*' && a?.uri.scheme === 'sip' && 'params' in a.uri && a.uri.params.size).toBe(0);
    expect(b !== '*' && b?.params.size).toBe(0);
    expect(
      b !== '*' && b?.uri.scheme === 'sip' && 'params' in b.uri && b.uri.params.has('unknownparam'),
    ).toBe(true);
  });

  it('bext01: 420 lists exactly the Require tags', () => {
    const m = parsed('valid/bext01.sip');
    const verdict = m.kind === 'request' ? checkRequest(m, opts) : undefined;
    expect(verdict?.headers).toEqual([
      ['Unsupported', 'nothingSupportsThis, nothingSupportsThisEither'],
    ]);
  });

  it('insuf: the 400 carries Via and CSeq only', () => {
    const r = parseMessage(load('invalid/insuf.sip'));
    expect(r.ok).toBe(false);
    if (r.ok || !r.request) throw new Error('expected an answerable refusal');
    const response = buildResponse(r.request, r.error.status);
    expect(response.headers.entries().map((f) => f.name)).toEqual(['Via', 'CSeq']);
  });

  it('multi01: the 400 copies one of each single-value header', () => {
    const r = parseMessage(load('invalid/multi01.sip'));
    if (r.ok || !r.request) throw new Error('expected an answerable refusal');
    const response = buildResponse(r.request, 400);
    expect(response.headers.getAll('CSeq')).toEqual(['5 INVITE']);
    expect(response.headers.getAll('To')).toEqual(['sip:user@example.com']);
  });

  it('zeromf: Max-Forwards 0 is refused only for relayed methods', () => {
    const m = parsed('valid/zeromf.sip');
    if (m.kind !== 'request') throw new Error('request expected');
    expect(checkRequest(m, opts)).toBeUndefined();
    expect(checkRequest(m, { ...opts, forwardedMethods: ['OPTIONS'] })?.status).toBe(483);
  });
});
