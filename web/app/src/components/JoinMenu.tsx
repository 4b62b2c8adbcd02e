/**
 * Join: where the audio goes (this browser or my desk phone) and the mode. Disabled, with
 * the reason in words, when the server says a join would be refused.
 */
import { useState } from 'preact/hooks';
import { MODE_LABELS, MONITOR_MODES, type LiveCall, type MonitorMode } from '../model.js';
import { refusalSentence } from '../refusals.js';

export type Device = 'browser' | 'phone';

/** Why Join is disabled, in words; null when it may be used. */
export function joinBlocked(call: LiveCall, busy: boolean): string | null {
  if (busy) return 'You are already monitoring a call. Leave it first.';
  const refusal = call.join?.refusal;
  if (refusal) return refusalSentence(refusal.code, refusal.message);
  if (call.join && call.join.modes.length === 0) return refusalSentence('mode-not-allowed');
  return null;
}

export function JoinMenu({
  call,
  busy,
  onJoin,
}: {
  call: LiveCall;
  busy: boolean;
  onJoin(mode: MonitorMode, device: Device): void;
}) {
  const [open, setOpen] = useState(false);
  const [device, setDevice] = useState<Device>('browser');
  const blocked = joinBlocked(call, busy);
  const modes = call.join?.modes ?? MONITOR_MODES;
  const reasonId = `join-reason-${call.id}`;
  return (
    <div class="join">
      <button
        type="button"
        class="primary"
        aria-expanded={open}
        disabled={blocked !== null}
        aria-describedby={blocked ? reasonId : undefined}
        onClick={() => setOpen(!open)}
      >
        Join
      </button>
      {blocked && (
        <span id={reasonId} class="reason" data-testid="join-reason">
          {blocked}
        </span>
      )}
      {open && blocked === null && (
        <div class="join-menu" role="group" aria-label="Join this call">
          <fieldset>
            <legend>Audio in</legend>
            <label class="check">
              <input
                type="radio"
                name={`device-${call.id}`}
                checked={device === 'browser'}
                onChange={() => setDevice('browser')}
              />
              This browser
            </label>
            <label class="check">
              <input
                type="radio"
                name={`device-${call.id}`}
                checked={device === 'phone'}
                onChange={() => setDevice('phone')}
              />
              My desk phone
            </label>
          </fieldset>
          <div class="modes">
            {MONITOR_MODES.map((m) => (
              <button
                key={m}
                type="button"
                data-mode={m}
                disabled={!modes.includes(m)}
                title={modes.includes(m) ? undefined : refusalSentence('mode-not-allowed')}
                onClick={() => {
                  setOpen(false);
                  onJoin(m, device);
                }}
              >
                {MODE_LABELS[m]}
              </button>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
