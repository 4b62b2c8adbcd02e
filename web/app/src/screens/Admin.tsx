/**
 * Admin: the extensions with registration and presence, the monitoring groups (read-only,
 * from the extensions' memberships), and the audit log with filters.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ok, sentenceOf } from '../api/client.js';
import { PRESENCE_LABELS, type PresenceStatus } from '../model.js';
import { refusalSentence } from '../refusals.js';
import type { StreamEvent } from '../eventStream.js';
import { EventStream } from '../eventStream.js';

interface Extension {
  number: string;
  displayName: string | null;
  role: string;
  registered: boolean;
  contacts: number;
  inCall: boolean;
  monitoring: boolean;
  allowMonitoring: boolean;
  groups: string[];
  monitoredBy: Array<{ extension: string; modes: string[] }>;
  presence?: PresenceStatus | { status: PresenceStatus } | null;
}

interface AuditEntry {
  at: string;
  seq: number;
  action: string;
  trigger: string;
  actor: string | null;
  supervisor: string | null;
  agent: string | null;
  mode: string | null;
  from: string | null;
  reason: string | null;
}

function presenceOf(e: Extension): string {
  const p = e.presence;
  const s = typeof p === 'string' ? p : p?.status;
  return s ? (PRESENCE_LABELS[s] ?? s) : '—';
}

export function AdminScreen() {
  const [extensions, setExtensions] = useState<Extension[]>([]);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [query, setQuery] = useState<{ supervisor?: string; agent?: string; since?: string }>({});
  const [error, setError] = useState<string | null>(null);

  const loadExtensions = () =>
    ok(api.GET('/v1/extensions', {}))
      .then((d) =>
        setExtensions(((d as { extensions?: Extension[] }).extensions ?? []) as Extension[]),
      )
      .catch((err: unknown) => setError(sentenceOf(err)));

  const loadAudit = () =>
    ok(
      api.GET('/v1/audit', {
        params: {
          query: {
            ...(query.supervisor ? { supervisor: query.supervisor } : {}),
            ...(query.agent ? { agent: query.agent } : {}),
            ...(query.since ? { since: new Date(query.since).toISOString() } : {}),
            limit: 200,
          },
        },
      }),
    )
      .then((d) => setEntries(((d as { entries?: AuditEntry[] }).entries ?? []).slice().reverse()))
      .catch((err: unknown) => setError(sentenceOf(err)));

  useEffect(() => {
    void loadExtensions();
    void loadAudit();
    // Registration and presence change live: reload the table on those events.
    const stream = new EventStream({
      onEvent: (e: StreamEvent) => {
        if (e.type === 'registration.changed' || e.type === 'presence.changed')
          void loadExtensions();
      },
    });
    stream.start();
    return () => stream.stop();
  }, []);

  const groups = new Map<string, { members: string[]; monitors: Set<string> }>();
  for (const e of extensions) {
    for (const g of e.groups) {
      const entry = groups.get(g) ?? { members: [], monitors: new Set<string>() };
      entry.members.push(e.number);
      for (const m of e.monitoredBy) entry.monitors.add(`${m.extension} (${m.modes.join(', ')})`);
      groups.set(g, entry);
    }
  }

  return (
    <section class="admin" aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <h2>Extensions</h2>
      <div class="table-wrap">
        <table data-testid="extensions">
          <thead>
            <tr>
              <th scope="col">Extension</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Registered</th>
              <th scope="col">Presence</th>
              <th scope="col">In a call</th>
              <th scope="col">Monitoring allowed</th>
              <th scope="col">Groups</th>
            </tr>
          </thead>
          <tbody>
            {extensions.map((e) => (
              <tr key={e.number} data-extension={e.number}>
                <td>{e.number}</td>
                <td>{e.displayName ?? '—'}</td>
                <td>{e.role}</td>
                <td data-registered={String(e.registered)}>
                  {e.registered ? `Yes (${e.contacts})` : 'No'}
                </td>
                <td>{presenceOf(e)}</td>
                <td>{e.inCall ? 'Yes' : 'No'}</td>
                <td>{e.allowMonitoring ? 'Yes' : 'No (opted out)'}</td>
                <td>{e.groups.join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Monitoring groups</h2>
      <p class="muted">
        Read-only: groups are set in the server's configuration (monitoring.groups).
      </p>
      <div class="table-wrap">
        <table data-testid="groups">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Members</th>
              <th scope="col">May be monitored by</th>
            </tr>
          </thead>
          <tbody>
            {[...groups.entries()].map(([name, g]) => (
              <tr key={name}>
                <td>{name}</td>
                <td>{g.members.join(', ')}</td>
                <td>{[...g.monitors].join('; ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Audit log</h2>
      <form
        class="filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          void loadAudit();
        }}
      >
        <label>
          Supervisor
          <input
            name="supervisor"
            value={query.supervisor ?? ''}
            onInput={(e) => setQuery({ ...query, supervisor: e.currentTarget.value })}
          />
        </label>
        <label>
          Agent
          <input
            name="agent"
            value={query.agent ?? ''}
            onInput={(e) => setQuery({ ...query, agent: e.currentTarget.value })}
          />
        </label>
        <label>
          Since
          <input
            name="since"
            type="datetime-local"
            value={query.since ?? ''}
            onInput={(e) => setQuery({ ...query, since: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Show</button>
      </form>
      <div class="table-wrap">
        <table data-testid="audit">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">By</th>
              <th scope="col">Supervisor</th>
              <th scope="col">Agent</th>
              <th scope="col">Mode</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((a) => (
              <tr key={a.seq}>
                <td>{new Date(a.at).toLocaleString()}</td>
                <td>{a.action}</td>
                <td>
                  {a.actor ?? '—'} ({a.trigger})
                </td>
                <td>{a.supervisor ?? '—'}</td>
                <td>{a.agent ?? '—'}</td>
                <td>{a.from ? `${a.from} → ${a.mode ?? ''}` : (a.mode ?? '—')}</td>
                <td>{a.reason ? refusalSentence(a.reason, a.reason) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {entries.length === 0 && <p class="empty">No audit entries match.</p>}
      </div>
    </section>
  );
}
