/**
 * The agent's call: a banner naming the supervisor and the mode while monitored (when
 * the server sends agents such notices), Raise hand / Lower hand, Invite agent (only
 * agents with Access to Call Monitor are listed), and this browser as the phone.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ok, sentenceOf } from '../api/client.js';
import type { Me } from '../App.js';
import { BrowserPhone } from '../browserPhone.js';
import { agentBanner, durationAt, formatDuration, who, type LiveCall } from '../model.js';
import { useLiveCalls, useNow } from '../useLiveCalls.js';
import type { PhoneStatus } from '../../../phone/engine.js';

interface Invitable {
  number: string;
  displayName: string | null;
}

export function AgentScreen({ me }: { me: Me }) {
  const { calls, connected, refresh } = useLiveCalls();
  const now = useNow();
  const [error, setError] = useState<string | null>(null);
  const [invitable, setInvitable] = useState<Invitable[]>([]);
  const [invitee, setInvitee] = useState('');
  const [phoneStatus, setPhoneStatus] = useState<PhoneStatus | undefined>(undefined);
  const audio = useRef<HTMLAudioElement>(null);
  const phone = useRef<BrowserPhone | undefined>(undefined);

  useEffect(() => {
    api
      .GET('/v1/extensions', { params: { query: { callMonitorAccess: true } } })
      .then(({ data, response }) => {
        if (!response.ok || !data) return;
        const list = ((data as { extensions?: Invitable[] }).extensions ?? []).filter(
          (e) => e.number !== me.extension,
        );
        setInvitable(list);
      })
      .catch(() => {});
    return () => void phone.current?.stop().catch(() => {});
  }, []);

  const run = async (what: () => Promise<void>) => {
    setError(null);
    try {
      await what();
    } catch (err) {
      setError(sentenceOf(err));
    }
  };

  const mine = calls.filter((c) => c.agent === me.extension);
  const call: LiveCall | undefined = mine[0];

  const usePhone = () =>
    run(async () => {
      if (!audio.current) return;
      phone.current ??= new BrowserPhone(me.extension, audio.current, setPhoneStatus);
      window.callwatchApp = { phone: phone.current };
      await phone.current.start();
    });

  return (
    <section class="agent" aria-labelledby="agent-title">
      <div class="bar">
        <h1 id="agent-title">My call</h1>
        <span
          class={connected ? 'live' : 'offline'}
          data-testid="stream"
          data-connected={String(connected)}
        >
          {connected ? 'Live' : 'Reconnecting…'}
        </span>
      </div>
      {error && (
        <p role="alert" class="error" data-testid="error">
          {error}
        </p>
      )}
      {call === undefined ? (
        <p class="empty">You are not in a call.</p>
      ) : (
        <article class="my-call" data-call-id={call.id}>
          {(call.monitoredBy ?? []).map((m) => (
            <p
              key={m.supervisor}
              class="banner"
              role="status"
              data-testid="monitored-banner"
              data-mode={m.mode}
            >
              {agentBanner(m.supervisorName ?? m.supervisor, m.mode)}
            </p>
          ))}
          {call.hand.raised && (
            <p class="banner hand-banner" role="status" data-testid="hand-banner">
              <span aria-hidden="true">✋</span> Your hand is raised: a supervisor sees that you ask
              for help.
            </p>
          )}
          <h2>
            {who(call.remote.number, call.remote.name)} · {formatDuration(durationAt(call, now))}
          </h2>
          <div class="actions">
            {call.hand.raised ? (
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await ok(
                      api.DELETE('/v1/calls/{id}/hand', { params: { path: { id: call.id } } }),
                    );
                    refresh(call.id);
                  })
                }
              >
                Lower hand
              </button>
            ) : (
              <button
                type="button"
                class="primary"
                onClick={() =>
                  void run(async () => {
                    await ok(
                      api.POST('/v1/calls/{id}/hand', { params: { path: { id: call.id } } }),
                    );
                    refresh(call.id);
                  })
                }
              >
                Raise hand
              </button>
            )}
          </div>
          <form
            class="invite"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                await ok(
                  api.POST('/v1/calls/{id}/invite', {
                    params: { path: { id: call.id } },
                    body: { agent: invitee },
                  }),
                );
                refresh(call.id);
              });
            }}
          >
            <label>
              Invite agent
              <select
                name="invitee"
                value={invitee}
                onChange={(e) => setInvitee(e.currentTarget.value)}
              >
                <option value="">Choose an agent</option>
                {invitable.map((a) => (
                  <option key={a.number} value={a.number}>
                    {who(a.number, a.displayName)}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={invitee === ''}>
              Invite
            </button>
            {invitable.length === 0 && (
              <span class="muted">No agent has Access to Call Monitor.</span>
            )}
          </form>
        </article>
      )}
      <section class="phone" aria-label="Browser phone">
        <h2>Phone</h2>
        <audio ref={audio} autoPlay data-testid="remote-audio" />
        <p data-testid="browser-phone">
          {phoneStatus
            ? `${phoneStatus.registration} · ${phoneStatus.call} — ${phoneStatus.detail}`
            : 'Using my desk phone.'}
        </p>
        {phoneStatus?.registration !== 'registered' && (
          <button type="button" onClick={() => void usePhone()}>
            Use this browser as my phone
          </button>
        )}
        {phoneStatus && phoneStatus.call !== 'none' && phoneStatus.call !== 'ended' && (
          <button type="button" class="danger" onClick={() => void phone.current?.hangup()}>
            Hang up
          </button>
        )}
      </section>
    </section>
  );
}
