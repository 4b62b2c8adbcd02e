/**
 * The browser phone's audio engine: SIP.js (its Web.SessionManager) registered over SIP
 * over WebSocket (RFC 7118) at callwatch's `/sip`, with digest like any desk phone. It
 * holds at most one call; it knows nothing about the page around it, so the web app can
 * reuse it: give it an <audio> element for the far end and a status callback.
 *
 * Auto-answer: an INVITE carrying `Call-Info: …;answer-after=0` (or the Alert-Info
 * form) is answered at once when `autoAnswer` is on (the default), which is how a
 * supervisor's browser takes the monitoring call the API rings it with.
 */
import { Invitation, type Session, Web } from 'sip.js';
import { autoAnswerRequested } from './autoAnswer.js';

export type RegistrationState =
  'unregistered' | 'connecting' | 'registered' | 'failed' | 'disconnected';
export type CallState = 'none' | 'calling' | 'ringing' | 'answered' | 'held' | 'ended';

export interface PhoneStatus {
  registration: RegistrationState;
  call: CallState;
  /** A human-readable line: what happened last. */
  detail: string;
  /** The far end of the current call. */
  remote?: string;
  /** The current call was answered automatically. */
  autoAnswered?: boolean;
}

export interface PhoneEngineOptions {
  /** ws:// or wss:// URL of callwatch's /sip. */
  server: string;
  /** SIP domain of the address of record (the server's host). */
  domain: string;
  extension: string;
  password: string;
  /** Where the far end is played. */
  remoteAudio: HTMLAudioElement;
  onStatus(status: PhoneStatus): void;
  /** Answer INVITEs that ask for it (Call-Info answer-after=0). Default true. */
  autoAnswer?: boolean;
  /** The browser's microphone processing (echo cancellation, noise suppression, AGC). Default true. */
  audioProcessing?: boolean;
}

/**
 * The microphone SIP.js asks for: with the browser's echo cancellation, noise suppression
 * and gain control, or (`processing` false) the device as it is, for a headset that does
 * its own (a steady tone is "noise" to them, too).
 */
function microphone(processing: boolean): Web.MediaStreamFactory {
  const base = Web.defaultMediaStreamFactory();
  if (processing) return base;
  const raw = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
  return (constraints, handler) =>
    base(constraints.audio ? { ...constraints, audio: raw } : constraints, handler);
}

export class PhoneEngine {
  private readonly manager: Web.SessionManager;
  private session: Session | undefined;
  private status: PhoneStatus = { registration: 'unregistered', call: 'none', detail: 'idle' };

  constructor(private readonly options: PhoneEngineOptions) {
    const aor = `sip:${options.extension}@${options.domain}`;
    this.manager = new Web.SessionManager(options.server, {
      aor,
      media: { constraints: { audio: true, video: false }, remote: { audio: options.remoteAudio } },
      userAgentOptions: {
        authorizationUsername: options.extension,
        authorizationPassword: options.password,
        displayName: options.extension,
        logBuiltinEnabled: false,
        sessionDescriptionHandlerFactory: Web.defaultSessionDescriptionHandlerFactory(
          microphone(options.audioProcessing !== false),
        ),
        sessionDescriptionHandlerFactoryOptions: {
          // Host candidates are all a loopback or LAN server needs; no STUN lookups.
          iceGatheringTimeout: 500,
          peerConnectionConfiguration: { iceServers: [] },
        },
      },
      // RFC 4733 digits through the RTCDTMFSender, not SIP INFO.
      sendDTMFUsingSessionDescriptionHandler: true,
      maxSimultaneousSessions: 1,
      delegate: {
        onServerConnect: () => this.update({ detail: 'connected' }),
        onServerDisconnect: (error) =>
          this.update({
            registration: 'disconnected',
            detail: error ? `disconnected: ${error.message}` : 'disconnected',
          }),
        onRegistered: () => this.update({ registration: 'registered', detail: 'registered' }),
        onUnregistered: () => {
          if (this.status.registration === 'registered') {
            this.update({ registration: 'unregistered', detail: 'unregistered' });
          }
        },
        onCallCreated: (session) => {
          this.session = session;
        },
        onCallReceived: (session) => this.incoming(session),
        onCallAnswered: () => this.update({ call: 'answered', detail: 'in call' }),
        onCallHangup: (session) => {
          if (session !== this.session) return;
          this.session = undefined;
          this.update({ call: 'ended', detail: 'call ended', autoAnswered: false });
        },
        onCallHold: (_session, held) =>
          this.update({ call: held ? 'held' : 'answered', detail: held ? 'on hold' : 'in call' }),
      },
    });
  }

  get current(): PhoneStatus {
    return { ...this.status };
  }

  /** The far end's audio (for an analyser), while a call has media. */
  remoteStream(): MediaStream | undefined {
    return this.session ? this.manager.getRemoteMediaStream(this.session) : undefined;
  }

  /** Connects the WebSocket and registers; resolves when the REGISTER is answered. */
  async start(): Promise<void> {
    this.update({ registration: 'connecting', detail: 'connecting' });
    try {
      await this.manager.connect();
    } catch (err) {
      this.update({ registration: 'failed', detail: `cannot connect: ${message(err)}` });
      return;
    }
    await new Promise<void>((resolve) => {
      this.manager
        .register({
          requestDelegate: {
            onAccept: () => resolve(),
            onReject: (response) => {
              const { statusCode, reasonPhrase } = response.message;
              this.update({
                registration: 'failed',
                detail: `registration refused: ${statusCode} ${reasonPhrase}`,
              });
              resolve();
            },
          },
        })
        .catch((err: unknown) => {
          this.update({ registration: 'failed', detail: `registration failed: ${message(err)}` });
          resolve();
        });
    });
  }

  /** Unregisters and closes the WebSocket. */
  async stop(): Promise<void> {
    if (this.session) await this.hangup();
    if (this.status.registration === 'registered') await this.manager.unregister().catch(() => {});
    await this.manager.disconnect();
    this.update({ registration: 'unregistered', detail: 'stopped' });
  }

  /** Calls a number (an extension, a feature code, an outside number). */
  async call(number: string): Promise<void> {
    if (this.session) throw new Error('already in a call');
    this.update({ call: 'calling', detail: `calling ${number}`, remote: number });
    await this.manager.call(`sip:${number}@${this.options.domain}`, undefined, {
      requestDelegate: {
        onReject: (response) => {
          const { statusCode, reasonPhrase } = response.message;
          this.update({ call: 'ended', detail: `call refused: ${statusCode} ${reasonPhrase}` });
        },
      },
    });
  }

  async answer(): Promise<void> {
    if (!this.session) throw new Error('no call to answer');
    await this.manager.answer(this.session);
  }

  /** Hangs up, cancels or declines, whatever the call's state. */
  async hangup(): Promise<void> {
    if (!this.session) return;
    await this.manager.hangup(this.session);
  }

  async hold(on: boolean): Promise<void> {
    if (!this.session) throw new Error('no call to hold');
    if (on) await this.manager.hold(this.session);
    else await this.manager.unhold(this.session);
  }

  /** One RFC 4733 digit (0-9, *, #, A-D). */
  async sendDtmf(digit: string): Promise<void> {
    if (!this.session) throw new Error('no call for DTMF');
    await this.manager.sendDTMF(this.session, digit);
  }

  private incoming(session: Session): void {
    this.session = session;
    const remote = session.remoteIdentity.uri.user ?? session.remoteIdentity.uri.toString();
    if (!(session instanceof Invitation)) return;
    const request = session.request;
    const auto =
      (this.options.autoAnswer ?? true) &&
      autoAnswerRequested(request.getHeaders('Call-Info'), request.getHeaders('Alert-Info'));
    this.update({
      call: 'ringing',
      detail: auto ? `answering ${remote} (auto-answer)` : `${remote} is calling`,
      remote,
      autoAnswered: auto,
    });
    if (auto) {
      this.answer().catch((err: unknown) =>
        this.update({ call: 'ended', detail: `auto-answer failed: ${message(err)}` }),
      );
    }
  }

  private update(change: Partial<PhoneStatus>): void {
    this.status = { ...this.status, ...change };
    this.options.onStatus(this.current);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
