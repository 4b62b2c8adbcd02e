import { describe, it, expect } from '@jest/globals';
import { canonicalHeaderName, isListHeader, SipHeaders } from '../../../../sip/message/index.js';

describe('canonicalHeaderName', () => {
  it.each([
    ['v', 'Via'],
    ['I', 'Call-ID'],
    ['call-id', 'Call-ID'],
    ['CSEQ', 'CSeq'],
    ['www-authenticate', 'WWW-Authenticate'],
    ['min-se', 'Min-SE'],
    ['x-my-header', 'X-My-Header'],
    ['user-agent', 'User-Agent'],
    ['k', 'Supported'],
    ['o', 'Event'],
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalHeaderName(raw)).toBe(canonical);
  });

  it('knows which headers are lists', () => {
    expect(isListHeader('Via')).toBe(true);
    expect(isListHeader('contact')).toBe(true);
    expect(isListHeader('Authorization')).toBe(false);
    expect(isListHeader('Date')).toBe(false);
  });
});

describe('SipHeaders', () => {
  const make = (): SipHeaders =>
    new SipHeaders()
      .append('Via', 'a')
      .append('To', 't')
      .append('Via', 'b')
      .append('Contact', 'c1')
      .append('Via', 'c');

  it('gets by any spelling, compact form included', () => {
    const h = make();
    expect(h.get('v')).toBe('a');
    expect(h.getAll('VIA')).toEqual(['a', 'b', 'c']);
    expect(h.count('via')).toBe(3);
    expect(h.has('m')).toBe(true);
    expect(h.has('From')).toBe(false);
    expect(h.size).toBe(5);
  });

  it('set replaces every value at the position of the first', () => {
    const h = make().set('Via', 'z');
    expect(h.entries().map((f) => `${f.name}:${f.value}`)).toEqual(['Via:z', 'To:t', 'Contact:c1']);
    expect(h.set('From', 'f').entries().at(-1)).toEqual({ name: 'From', value: 'f' });
  });

  it('prepends before the existing values and shifts the first', () => {
    const h = make().prepend('Via', 'new');
    expect(h.getAll('Via')).toEqual(['new', 'a', 'b', 'c']);
    expect(h.shift('Via')).toBe('new');
    expect(h.shift('X')).toBeUndefined();
    expect(h.prepend('X', '1').get('X')).toBe('1');
    // A header with no value yet goes first (a new request's Via on top).
    expect(h.prepend('X-First', '2').entries()[0]).toEqual({ name: 'X-First', value: '2' });
  });

  it('removes every value and replaces the first in place', () => {
    const h = make().remove('via');
    expect(h.entries().map((f) => f.name)).toEqual(['To', 'Contact']);
    h.replaceFirst('Contact', 'c2').replaceFirst('Subject', 's');
    expect(h.entries().map((f) => f.value)).toEqual(['t', 'c2', 's']);
  });

  it('clones independently', () => {
    const h = make();
    const c = h.clone();
    c.replaceFirst('To', 'changed');
    expect(h.get('To')).toBe('t');
  });

  // Its cost is a benchmark's business, never a timed assertion (a loaded CI machine
  // would make such a test flaky); this checks what it does with many interleaved values.
  it('removes every value of a name among many, keeping the others in order', () => {
    const h = new SipHeaders();
    for (let i = 0; i < 50000; i++) h.append(i % 2 ? 'Route' : 'Via', String(i));
    h.remove('Route');
    expect(h.size).toBe(25000);
    expect(h.getAll('Route')).toEqual([]);
    const vias = h.getAll('Via');
    expect(vias).toHaveLength(25000);
    expect(vias.slice(0, 3)).toEqual(['0', '2', '4']);
    expect(vias.at(-1)).toBe('49998');
  });
});

describe('SipHeaders.parseCached', () => {
  it('parses a text once per parser, makes a new entry after an edit, and forgets on request', () => {
    const headers = new SipHeaders([{ name: 'CSeq', value: '1 REGISTER' }]);
    let calls = 0;
    const parse = (text: string) => {
      calls++;
      return { text };
    };
    const first = headers.parseCached(headers.get('CSeq') ?? '', parse);
    expect(headers.parseCached(headers.get('CSeq') ?? '', parse)).toBe(first);
    expect(calls).toBe(1);
    headers.set('CSeq', '2 REGISTER');
    expect(headers.parseCached(headers.get('CSeq') ?? '', parse)).toEqual({ text: '2 REGISTER' });
    expect(calls).toBe(2);
    const other = (text: string) => text.length;
    expect(headers.parseCached('2 REGISTER', other)).toBe(10);
    headers.dropParsed();
    headers.parseCached(headers.get('CSeq') ?? '', parse);
    expect(calls).toBe(3);
  });

  it('lets a strict parser fill the entry a lenient reader shares', () => {
    const headers = new SipHeaders();
    const lenient = (text: string) => ({ lenient: text });
    const strict = (text: string) => ({ strict: text });
    const value = headers.parseCached('x', strict, lenient);
    expect(headers.parseCached('x', lenient)).toBe(value);
  });
});
