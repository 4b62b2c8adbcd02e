import { describe, expect, it } from '@jest/globals';
import { HolderIndex } from '../../../../src/util/holderIndex.js';

describe('HolderIndex: whether anyone holds a key', () => {
  it('a key is held while any holder holds it', () => {
    const index = new HolderIndex<string, string>();
    index.set('call-1', ['1001', '1002']);
    index.set('call-2', ['1002']);
    expect(['1001', '1002', '1003'].map((k) => index.has(k))).toEqual([true, true, false]);
    index.delete('call-2');
    expect(index.has('1002')).toBe(true);
    index.delete('call-1');
    expect(index.has('1002')).toBe(false);
    expect(index.keys()).toEqual(new Set());
  });

  it("set replaces what a holder held (a transfer changes a call's parties)", () => {
    const index = new HolderIndex<string, string>();
    index.set('call-1', ['1001', '1002']);
    index.set('call-1', ['1001', '1003']);
    expect(index.keys()).toEqual(new Set(['1001', '1003']));
    index.set('call-1', []);
    expect(index.keys()).toEqual(new Set());
    expect(index.holders()).toEqual([]);
  });

  it('deleting an unknown holder, or twice, changes nothing', () => {
    const index = new HolderIndex<string, string>();
    index.set('m1', ['1005']);
    index.delete('m2');
    index.delete('m1');
    index.delete('m1');
    index.set('m3', ['1005']);
    expect(index.has('1005')).toBe(true);
    expect(index.holders()).toEqual(['m3']);
  });

  it('one holder may hold a key twice (both sides of a call to oneself)', () => {
    const index = new HolderIndex<string, string>();
    index.set('call-1', ['1001', '1001']);
    index.set('call-2', ['1001']);
    index.delete('call-1');
    expect(index.has('1001')).toBe(true);
    index.delete('call-2');
    expect(index.has('1001')).toBe(false);
  });

  it('keys() is a snapshot: later changes do not show in it', () => {
    const index = new HolderIndex<string, string>();
    index.set('call-1', ['1001']);
    const busy = index.keys();
    index.delete('call-1');
    expect(busy.has('1001')).toBe(true);
  });
});
