/**
 * The phone page (/phone): a form around PhoneEngine. The status line (#status) carries
 * the state as data attributes (data-registration, data-call) beside its text, so tests
 * and people read the same thing; `window.callwatchPhone` exposes the engine to tests.
 */
import { PhoneEngine, type PhoneStatus } from './engine.js';

declare global {
  interface Window {
    callwatchPhone?: {
      engine: PhoneEngine | undefined;
      status: PhoneStatus | undefined;
      /** Every status shown, in order (tests read transitions that pass quickly). */
      history: PhoneStatus[];
    };
  }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
};

const status = $<HTMLOutputElement>('status');
const extension = $<HTMLInputElement>('extension');
const password = $<HTMLInputElement>('password');
const server = $<HTMLInputElement>('server');
const number = $<HTMLInputElement>('number');
const autoAnswer = $<HTMLInputElement>('auto-answer');
const remoteAudio = $<HTMLAudioElement>('remote-audio');

const exposed: NonNullable<Window['callwatchPhone']> = {
  engine: undefined,
  status: undefined,
  history: [],
};
window.callwatchPhone = exposed;

server.value ||= `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sip`;
const query = new URLSearchParams(location.search);
for (const [key, input] of [
  ['extension', extension],
  ['number', number],
] as const) {
  const value = query.get(key);
  if (value !== null) input.value = value;
}

function show(s: PhoneStatus): void {
  exposed.status = s;
  exposed.history.push(s);
  status.dataset.registration = s.registration;
  status.dataset.call = s.call;
  status.textContent = `${s.registration} · ${s.call}${s.remote ? ` · ${s.remote}` : ''} — ${s.detail}`;
  document.body.dataset.call = s.call;
}

function fail(err: unknown): void {
  status.dataset.error = err instanceof Error ? err.message : String(err);
  status.textContent = `error: ${status.dataset.error}`;
}

const act = (id: string, run: (engine: PhoneEngine) => Promise<void>) =>
  $<HTMLButtonElement>(id).addEventListener('click', () => {
    const engine = exposed.engine;
    if (!engine) return fail(new Error('register first'));
    run(engine).catch(fail);
  });

$<HTMLFormElement>('register-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const previous = exposed.engine;
  const start = async () => {
    await previous?.stop();
    const engine = new PhoneEngine({
      server: server.value,
      domain: location.hostname,
      extension: extension.value.trim(),
      password: password.value,
      remoteAudio,
      autoAnswer: autoAnswer.checked,
      // ?processing=off: the microphone as it is (a headset with its own processing; tests).
      audioProcessing: query.get('processing') !== 'off',
      onStatus: show,
    });
    exposed.engine = engine;
    await engine.start();
  };
  start().catch(fail);
});

act('unregister', (e) => e.stop());
act('call', (e) => e.call(number.value.trim()));
act('answer', (e) => e.answer());
act('hangup', (e) => e.hangup());
act('hold', (e) => e.hold(true));
act('resume', (e) => e.hold(false));
for (const key of document.querySelectorAll<HTMLButtonElement>('[data-dtmf]')) {
  const digit = key.dataset.dtmf ?? '';
  key.addEventListener('click', () => {
    exposed.engine?.sendDtmf(digit).catch(fail);
  });
}
// A closed tab ends the WebSocket, which ends the registration and any call on the
// server; unregistering first is only politeness.
window.addEventListener('pagehide', () => {
  exposed.engine?.stop().catch(() => {});
});
