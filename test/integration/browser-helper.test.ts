/**
 * The browser helper measures what a page hears correctly: the fake microphone's tone
 * (a sox WAV at 1000 Hz) stands in for a call's far end, and the WebAudio analyser plus
 * Goertzel in the page must find 1000 Hz and not 440 Hz or 1800 Hz.
 */
import { describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { measureTone, withBrowser } from '../helpers/browser.js';

describe('test browser helper', () => {
  it('hears the tone a stream carries, and not others', async () => {
    await withBrowser({ toneHz: 1000 }, async (browser) => {
      // A page on http://127.0.0.1 (a secure context, so it gets a microphone).
      const site = http.createServer((_req, res) => res.end('<!doctype html><title>t</title>'));
      await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
      const { port } = site.address() as { port: number };
      const page = await browser.context.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      site.close();
      site.closeAllConnections();
      // The microphone as the "remote stream" of a stand-in engine.
      await page.evaluate(async () => {
        const g = globalThis as unknown as {
          navigator: { mediaDevices: { getUserMedia(c: object): Promise<unknown> } };
          callwatchPhone?: object;
        };
        const mic = await g.navigator.mediaDevices.getUserMedia({ audio: true });
        g.callwatchPhone = { engine: { remoteStream: () => mic } };
      });
      const at1000 = await measureTone(page, 1000);
      const at440 = await measureTone(page, 440);
      const at1800 = await measureTone(page, 1800);
      expect(at1000.blocks).toBeGreaterThanOrEqual(10);
      expect(at1000.rms).toBeGreaterThan(0.01);
      expect(at1000.share).toBeGreaterThan(0.5);
      expect(at440.share).toBeLessThan(0.05);
      expect(at1800.share).toBeLessThan(0.05);
    });
  }, 60000);
});
