/**
 * Checks the test harness itself, without callwatch: two baresip phones call each other
 * directly (no registrar, regint=0), each plays its own tone, and each phone's recording
 * of what it heard carries the other's tone and not its own. This is the path later
 * media tests rely on (ctrl_tcp dial/events, sndfile recordings, Goertzel detection).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import { analyzeTone, describeTone, hasTone, lacksTone, readWav } from '../helpers/goertzel.js';

const phones: BaresipPhone[] = [];

afterAll(async () => {
  await Promise.all(phones.map((p) => p.kill()));
});

describe('baresip harness (no server)', () => {
  it('connects a direct call and records what each phone heard', async () => {
    const unused = 9; // discard port: phones with regint=0 never contact it
    const a = await startBaresip({
      user: '1001',
      password: 'x',
      serverPort: unused,
      regint: 0,
      toneHz: 440,
      keepDir: true,
    });
    phones.push(a);
    const b = await startBaresip({
      user: '1002',
      password: 'x',
      serverPort: unused,
      regint: 0,
      toneHz: 1800,
      keepDir: true,
    });
    phones.push(b);

    const dial = await a.command('dial', `sip:1002@${b.address}`);
    expect(dial.ok).toBe(true);
    await a.waitForEvent('CALL_ESTABLISHED', 10000);
    await b.waitForEvent('CALL_ESTABLISHED', 10000);
    await new Promise((r) => setTimeout(r, 3000));
    await a.command('hangup');
    await a.waitForEvent('CALL_CLOSED', 10000);
    await b.waitForEvent('CALL_CLOSED', 10000);

    for (const [phone, own, other] of [
      [a, 440, 1800],
      [b, 1800, 440],
    ] as const) {
      const { dec } = phone.recordings();
      expect(dec).toHaveLength(1);
      const heard = readWav(dec[0] as string);
      expect(heard.sampleRate).toBe(8000);
      const report = analyzeTone(heard, other);
      expect({
        phone: phone.user,
        heard: describeTone(report),
        ok: hasTone(heard, other),
      }).toMatchObject({
        ok: true,
      });
      expect(lacksTone(heard, own)).toBe(true);
    }
    expect(await a.quit()).toBe(0);
    expect(await b.quit()).toBe(0);
  }, 40000);
});
