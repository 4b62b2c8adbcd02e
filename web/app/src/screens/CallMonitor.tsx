/**
 * The supervisor's Call Monitor: the live calls (ticking duration, number and name,
 * agent, direction, tags, groups, queue, who monitors in which mode, quality; raised hands on
 * top with an orange hand), filters, Join with audio in this browser or on the desk
 * phone, the joined call's mode with switch buttons and Leave, presence, call details.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ok, sentenceOf } from '../api/client.js';
import type { Me } from '../App.js';
import { BrowserPhone } from '../browserPhone.js';
import { Filters } from '../components/Filters.js';
import { JoinMenu, type Device } from '../components/JoinMenu.js';
import { PresenceSelect } from '../components/PresenceSelect.js';
import { QualityBadge } from '../components/QualityBadge.js';
import {
  DIRECTION_LABELS,
  durationAt,
  filterChoices,
  formatDuration,
  matchesFilter,
  MODE_DOING,
  MODE_LABELS,
  MONITOR_MODES,
  qualityLines,
  queueLabel,
  sortCalls,
  who,
  type CallFilter,
  type LiveCall,
  type MonitorMode,
  type PresenceStatus,
} from '../model.js';
import { useLiveCalls, useNow } from '../useLiveCalls.js';

export function CallMonitor({
  me,
  detailsOf,
  openDetails,
}: {
  me: Me;
  detailsOf: string | undefined;
  openDetails(id: string | undefined): void;
}) {
  const [presence, setPresence] = useState<PresenceStatus | undefined>(undefined);
  // Whether each call may be joined depends on this supervisor's presence: reload on a change.
  const { calls, connected, refresh, reload } = useLiveCalls((e) => {
    if (e.type === 'presence.changed' && e.extension === me.extension) {
      setPresence(e.status as PresenceStatus);
      reload();
    }
    // So does whether this supervisor has a phone registered (this browser, or the desk one).
    if (e.type === 'registration.changed' && e.extension === me.extension) reload();
  });
  const now = useNow();
  const [filter, setFilter] = useState<CallFilter>({});
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [phoneState, setPhoneState] = useState<string>('not registered');
  const audio = useRef<HTMLAudioElement>(null);
  const phone = useRef<BrowserPhone | undefined>(undefined);

  // This browser registers as the supervisor's phone when the Call Monitor opens (as a
  // desktop app would be signed in): Join can then put the audio here at once.
  useEffect(() => {
    browserPhone().then(reload, () =>
      setPhoneState('not registered (this browser could not register; use your desk phone)'),
    );
    return () => {
      void phone.current?.stop().catch(() => {});
    };
  }, []);

  const sorted = useMemo(() => sortCalls(calls), [calls]);
  const shown = sorted.filter((c) => matchesFilter(c, filter, now));
  const choices = useMemo(() => filterChoices(calls), [calls]);

  /** My monitor session, wherever it is (it survives a reload: the list says it). */
  const mine = useMemo(() => {
    for (const c of calls) {
      const m = c.monitors.find((x) => x.supervisor === me.extension && x.state !== 'ended');
      if (m) return { call: c, monitor: m };
    }
    return undefined;
  }, [calls, me.extension]);

  async function browserPhone(): Promise<BrowserPhone> {
    if (!audio.current) throw new Error('no audio element');
    phone.current ??= new BrowserPhone(me.extension, audio.current, (s) =>
      setPhoneState(`${s.registration}${s.call !== 'none' ? ` · ${s.call}` : ''}`),
    );
    window.callwatchApp = { phone: phone.current };
    await phone.current.start();
    return phone.current;
  }

  const run = async (what: () => Promise<void>) => {
    setError(null);
    setPending(true);
    try {
      await what();
    } catch (err) {
      setError(
        err instanceof Error && !('status' in err) && err.message.startsWith('this browser')
          ? 'This browser could not register as your phone. Try "My desk phone", or reload the page.'
          : sentenceOf(err),
      );
    } finally {
      setPending(false);
    }
  };

  const join = (call: LiveCall, mode: MonitorMode, device: Device) =>
    run(async () => {
      if (device === 'browser') await browserPhone();
      await ok(
        api.POST('/v1/calls/{id}/monitors', {
          params: { path: { id: call.id } },
          body: { mode, device, ...(me.scope === 'admin' ? { supervisor: me.extension } : {}) },
        }),
      );
      refresh(call.id);
    });

  const switchMode = (mode: MonitorMode) =>
    run(async () => {
      if (!mine) return;
      await ok(
        api.PATCH('/v1/monitors/{id}', {
          params: { path: { id: mine.monitor.id } },
          body: { mode },
        }),
      );
      refresh(mine.call.id);
    });

  const leave = () =>
    run(async () => {
      if (!mine) return;
      await ok(api.DELETE('/v1/monitors/{id}', { params: { path: { id: mine.monitor.id } } }));
      // Leaving a call taken over ends it (its call.ended removes the row): nothing to reload.
      if (mine.monitor.mode !== 'takeover') refresh(mine.call.id);
    });

  const details = detailsOf === undefined ? undefined : calls.find((c) => c.id === detailsOf);

  return (
    <section class="monitor" aria-labelledby="monitor-title">
      <div class="bar">
        <h1 id="monitor-title">Call Monitor</h1>
        <PresenceSelect
          status={presence}
          onChange={(status) => {
            setPresence(status);
            reload();
          }}
        />
        <span
          class={connected ? 'live' : 'offline'}
          data-testid="stream"
          data-connected={String(connected)}
        >
          {connected ? 'Live' : 'Reconnecting…'}
        </span>
      </div>
      <audio ref={audio} autoPlay data-testid="remote-audio" />
      <p class="muted" data-testid="browser-phone">
        This browser as a phone: {phoneState}
      </p>
      {error && (
        <p role="alert" class="error" data-testid="error">
          {error}
        </p>
      )}
      {mine && (
        <section
          class="joined"
          aria-label="Your monitoring"
          data-testid="joined"
          data-mode={mine.monitor.mode}
          data-state={mine.monitor.state}
        >
          <h2>
            {MODE_LABELS[mine.monitor.mode]} · {who(mine.call.remote.number, mine.call.remote.name)}{' '}
            with {who(mine.call.agent ?? '?', mine.call.agentName)}
          </h2>
          <p class="doing">
            {mine.monitor.state === 'calling'
              ? 'Connecting your audio…'
              : MODE_DOING[mine.monitor.mode]}
          </p>
          <div class="modes" role="group" aria-label="Switch mode">
            {MONITOR_MODES.filter((m) => m !== mine.monitor.mode).map((m) => (
              <button
                key={m}
                type="button"
                data-mode={m}
                disabled={pending}
                onClick={() => void switchMode(m)}
              >
                {MODE_LABELS[m]}
              </button>
            ))}
            <button type="button" class="danger" disabled={pending} onClick={() => void leave()}>
              Leave
            </button>
          </div>
        </section>
      )}
      <Filters filter={filter} choices={choices} onChange={setFilter} />
      <p class="count" aria-live="polite">
        {shown.length} of {calls.length} live calls shown
      </p>
      <div class="table-wrap">
        <table class="calls">
          <thead>
            <tr>
              <th scope="col">
                <span class="sr-only">Hand</span>
              </th>
              <th scope="col">Duration</th>
              <th scope="col">Customer</th>
              <th scope="col">Agent</th>
              <th scope="col">Direction</th>
              <th scope="col">Tags</th>
              <th scope="col">Groups</th>
              <th scope="col">Queue</th>
              <th scope="col">Monitored by</th>
              <th scope="col">Quality</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr
                key={c.id}
                data-call-id={c.id}
                data-hand={c.hand.raised ? 'raised' : 'down'}
                class={c.hand.raised ? 'hand-raised' : undefined}
              >
                <td>
                  {c.hand.raised && (
                    <span
                      class="hand"
                      role="img"
                      aria-label="Hand raised: the agent asks for help"
                      title="Hand raised"
                    >
                      ✋
                    </span>
                  )}
                </td>
                <td class="duration" data-testid="duration">
                  {formatDuration(durationAt(c, now))}
                </td>
                <td>
                  <span class="number">{c.remote.number}</span>
                  {c.remote.name && <span class="name"> {c.remote.name}</span>}
                </td>
                <td>{c.agent ? who(c.agent, c.agentName) : '—'}</td>
                <td>{DIRECTION_LABELS[c.direction] ?? c.direction}</td>
                <td>{c.tags.join(', ')}</td>
                <td>{c.groups.join(', ')}</td>
                <td>{queueLabel(c.queue)}</td>
                <td data-testid="monitors">
                  {c.monitors
                    .filter((m) => m.state !== 'ended')
                    .map(
                      (m) =>
                        `${who(m.supervisor, m.supervisorName)}: ${MODE_LABELS[m.mode] ?? m.mode}`,
                    )
                    .join('; ') || '—'}
                </td>
                <td>
                  <QualityBadge quality={c.quality} />
                </td>
                <td>
                  <div class="actions">
                    <JoinMenu
                      call={c}
                      busy={mine !== undefined || pending}
                      onJoin={(m, d) => void join(c, m, d)}
                    />
                    <button type="button" onClick={() => openDetails(c.id)}>
                      Details
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {shown.length === 0 && (
          <p class="empty">
            {calls.length === 0 ? 'No live calls.' : 'No call matches the filters.'}
          </p>
        )}
      </div>
      {detailsOf !== undefined && (
        <CallDetails call={details} now={now} onClose={() => openDetails(undefined)} />
      )}
    </section>
  );
}

function CallDetails({
  call,
  now,
  onClose,
}: {
  call: LiveCall | undefined;
  now: number;
  onClose(): void;
}) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <section
      class="details"
      role="dialog"
      aria-labelledby="details-title"
      data-testid="details"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <h2 id="details-title">Call details</h2>
      {call === undefined ? (
        <p>This call has ended.</p>
      ) : (
        <dl>
          <dt>Customer</dt>
          <dd>{who(call.remote.number, call.remote.name)}</dd>
          <dt>Agent</dt>
          <dd>{call.agent ? who(call.agent, call.agentName) : '—'}</dd>
          <dt>Direction</dt>
          <dd>{DIRECTION_LABELS[call.direction] ?? call.direction}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(durationAt(call, now))}</dd>
          <dt>Tags</dt>
          <dd>{call.tags.join(', ') || '—'}</dd>
          <dt>Groups</dt>
          <dd>{call.groups.join(', ') || '—'}</dd>
          <dt>Queue</dt>
          <dd>{queueLabel(call.queue)}</dd>
          <dt>Hand</dt>
          <dd>
            {call.hand.raised ? `Raised${call.hand.by ? ` by ${call.hand.by}` : ''}` : 'Not raised'}
          </dd>
          <dt>Who is monitoring</dt>
          <dd data-testid="details-monitors">
            {call.monitors.filter((m) => m.state !== 'ended').length === 0 ? (
              'Nobody'
            ) : (
              <ul>
                {call.monitors
                  .filter((m) => m.state !== 'ended')
                  .map((m) => (
                    <li key={m.id}>
                      {who(m.supervisor, m.supervisorName)}: {MODE_LABELS[m.mode] ?? m.mode} (
                      {m.state})
                    </li>
                  ))}
              </ul>
            )}
          </dd>
          <dt>Quality</dt>
          <dd>
            {call.quality ? (
              <ul>
                {qualityLines(call.quality).map((l) => (
                  <li key={l}>{l}</li>
                ))}
              </ul>
            ) : (
              'Not measured yet'
            )}
          </dd>
        </dl>
      )}
      <button type="button" ref={close} onClick={onClose}>
        Close
      </button>
    </section>
  );
}
