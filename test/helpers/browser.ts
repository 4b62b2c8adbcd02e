/**
 * Debian's Chromium (`/usr/bin/chromium`, installed by scripts/install-test-peers.sh)
 * driven by playwright-core for the browser-phone tests: headless, a fake microphone
 * that plays a tone WAV made here with sox, autoplay allowed, and a fresh user-data dir
 * per browser, removed on close. `withBrowser` always closes it, also when the test fails.
 *
 *   await withBrowser({ toneHz: 1000 }, async (b) => {
 *     const page = await b.context.newPage();
 *     await page.goto(url);
 *     const heard = await hearsTone(page, 440);
 *   });
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { makeTempDir, removeTempDir } from './processes.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface BrowserOptions {
  /** The fake microphone's tone (Hz); default 1000. */
  readonly toneHz?: number;
}

export interface TestBrowser {
  readonly context: BrowserContext;
  /** The temp dir: user data and the tone WAV. */
  readonly dir: string;
  close(): Promise<void>;
}

export async function launchBrowser(opts: BrowserOptions = {}): Promise<TestBrowser> {
  const dir = makeTempDir('chromium');
  try {
    const tone = path.join(dir, 'tone.wav');
    // 48 kHz mono, long enough for any test; Chromium loops the file.
    execFileSync('sox', [
      '-n',
      '-r',
      '48000',
      '-c',
      '1',
      '-b',
      '16',
      tone,
      'synth',
      '30',
      'sine',
      String(opts.toneHz ?? 1000),
      'vol',
      '0.3',
    ]);
    const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${tone}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    let closed = false;
    return {
      context,
      dir,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await context.close();
        } finally {
          removeTempDir(dir);
        }
      },
    };
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
}

/** Runs `fn` with a browser that is closed afterwards whatever happens. */
export async function withBrowser<T>(
  opts: BrowserOptions,
  fn: (browser: TestBrowser) => Promise<T>,
): Promise<T> {
  const browser = await launchBrowser(opts);
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

/** The page's globals measureTone uses (the test program has no DOM types). */
interface PageGlobals {
  callwatchPhone?: { engine?: { remoteStream(): unknown } };
  AudioContext: new () => {
    readonly sampleRate: number;
    createMediaStreamSource(stream: unknown): {
      connect(node: unknown): void;
      disconnect(): void;
    };
    createAnalyser(): { fftSize: number; getFloatTimeDomainData(into: Float32Array): void };
    close(): Promise<void>;
  };
}

/**
 * What the page hears: the far end's stream (window.callwatchPhone.engine.remoteStream())
 * through a WebAudio AnalyserNode for `ms`, then a Goertzel filter at `hz` over each
 * captured block. Returns the median share of the block energy at `hz` (≈1 for a pure
 * tone at hz, ≈0 without it) and the median RMS level.
 */
export async function measureTone(
  page: Page,
  hz: number,
  ms = 1500,
): Promise<{ share: number; rms: number; blocks: number }> {
  return page.evaluate(
    async ({ hz, ms }) => {
      // Runs in the page: its globals, typed just enough here (the tests compile without DOM).
      const page = globalThis as unknown as PageGlobals;
      const stream = page.callwatchPhone?.engine?.remoteStream();
      if (!stream) throw new Error('no remote stream');
      const ctx = new page.AudioContext();
      const source = ctx.createMediaStreamSource(stream);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 4096;
      source.connect(analyser);
      const buf = new Float32Array(analyser.fftSize);
      const shares: number[] = [];
      const levels: number[] = [];
      const end = performance.now() + ms;
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        analyser.getFloatTimeDomainData(buf);
        const n = buf.length;
        const k = (2 * Math.PI * hz) / ctx.sampleRate;
        let s1 = 0;
        let s2 = 0;
        let energy = 0;
        let wsum = 0;
        for (let i = 0; i < n; i++) {
          const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
          const x = (buf[i] ?? 0) * w;
          energy += x * x;
          wsum += w * w;
          const s = x + 2 * Math.cos(k) * s1 - s2;
          s2 = s1;
          s1 = s;
        }
        const power = s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2;
        // A pure sine at hz: power ≈ (A·Σw/2)², energy ≈ A²·Σw²/2 → normalise to 1.
        let wlin = 0;
        for (let i = 0; i < n; i++) wlin += 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
        const share = energy > 0 ? power / ((wlin * wlin * energy) / (2 * wsum)) : 0;
        shares.push(share);
        levels.push(Math.sqrt(energy / n));
      }
      source.disconnect();
      await ctx.close();
      const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;
      return { share: median(shares), rms: median(levels), blocks: shares.length };
    },
    { hz, ms },
  );
}
