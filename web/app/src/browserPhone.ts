/**
 * "This browser" as a phone: the engine of the phone page (web/phone/engine.ts, SIP.js
 * over `/sip`), registered with a one-time ticket from `POST /v1/sip-tickets` instead of
 * a SIP password, so the page never holds one. It answers the server's monitoring call
 * by itself (Call-Info answer-after=0), which is how Join puts the audio in the page.
 */
import { PhoneEngine, type PhoneStatus } from '../../phone/engine.js';
import { api, ok } from './api/client.js';

declare global {
  interface Window {
    /** The browser phone of this page (tests read its audio and state). */
    callwatchApp?: { phone: BrowserPhone | undefined };
  }
}

export class BrowserPhone {
  private engine: PhoneEngine | undefined;
  status: PhoneStatus = { registration: 'unregistered', call: 'none', detail: 'idle' };

  constructor(
    private readonly extension: string,
    private readonly audio: HTMLAudioElement,
    private readonly onStatus: (s: PhoneStatus) => void,
  ) {}

  get registered(): boolean {
    return this.status.registration === 'registered';
  }

  remoteStream(): MediaStream | undefined {
    return this.engine?.remoteStream();
  }

  private starting: Promise<void> | undefined;

  /** Registers (once; concurrent calls share the attempt): resolves when registered,
   * rejects with the reason otherwise. */
  start(): Promise<void> {
    if (this.registered) return Promise.resolve();
    this.starting ??= this.register().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async register(): Promise<void> {
    await this.engine?.stop().catch(() => {});
    const ticket = await ok(api.POST('/v1/sip-tickets', {}));
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.engine = new PhoneEngine({
      server: `${scheme}://${location.host}${ticket.url}`,
      domain: location.hostname,
      extension: this.extension,
      password: '',
      remoteAudio: this.audio,
      autoAnswer: true,
      // ?processing=off: the microphone as it is (a headset with its own processing; tests),
      // as on the phone page.
      audioProcessing: new URLSearchParams(location.search).get('processing') !== 'off',
      onStatus: (s) => {
        this.status = s;
        this.onStatus(s);
      },
    });
    await this.engine.start();
    if (!this.registered) throw new Error(`this browser could not register: ${this.status.detail}`);
  }

  async hangup(): Promise<void> {
    await this.engine?.hangup();
  }

  async stop(): Promise<void> {
    const e = this.engine;
    this.engine = undefined;
    await e?.stop();
  }
}
