import { describe, expect, it } from '@jest/globals';
import { CloseStack } from '../../../../src/util/closeStack.js';

describe('CloseStack', () => {
  it('closes newest first, each one awaited before the next', async () => {
    const stack = new CloseStack();
    const order: string[] = [];
    for (const name of ['engine', 'sip', 'http']) {
      stack.push(name, async () => {
        order.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, 5));
        order.push(`end ${name}`);
      });
    }
    expect(stack.names).toEqual(['engine', 'sip', 'http']);
    expect(await stack.closeAll()).toEqual([]);
    expect(order).toEqual([
      'start http',
      'end http',
      'start sip',
      'end sip',
      'start engine',
      'end engine',
    ]);
    expect(stack.names).toEqual([]);
  });

  it('keeps closing after a failure and reports every failure by name', async () => {
    const stack = new CloseStack();
    const closed: string[] = [];
    const boom = new Error('close failed');
    stack.push('a', () => closed.push('a'));
    stack.push('b', () => {
      throw boom;
    });
    stack.push('c', () => Promise.reject(new Error('async close failed')));
    stack.push('d', () => closed.push('d'));
    const failures = await stack.closeAll();
    expect(closed).toEqual(['d', 'a']);
    expect(failures.map((f) => f.name)).toEqual(['c', 'b']);
    expect(failures[1]!.error).toBe(boom);
  });

  it('runs once: a second closeAll returns the same result, and nothing may be added', async () => {
    const stack = new CloseStack();
    let calls = 0;
    stack.push('x', () => calls++);
    const first = stack.closeAll();
    expect(stack.closeAll()).toBe(first);
    await first;
    expect(calls).toBe(1);
    expect(() => stack.push('late', () => undefined)).toThrow(/already closing/);
  });
});
