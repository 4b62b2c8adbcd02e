/** The supervisor's presence (GET/PUT /v1/me/presence): only an available one joins calls. */
import { useEffect, useState } from 'preact/hooks';
import { api, ok, sentenceOf } from '../api/client.js';
import { PRESENCE_LABELS, type PresenceStatus } from '../model.js';

export function PresenceSelect({
  status,
  onChange,
}: {
  status: PresenceStatus | undefined;
  onChange(s: PresenceStatus): void;
}) {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .GET('/v1/me/presence', {})
      .then(({ data, response }) => {
        if (response.ok && data) onChange((data as { status: PresenceStatus }).status);
      })
      .catch(() => {});
  }, []);
  const pick = async (next: PresenceStatus) => {
    setError(null);
    try {
      const r = await ok(api.PUT('/v1/me/presence', { body: { status: next } }));
      onChange((r as { status: PresenceStatus }).status);
    } catch (err) {
      setError(sentenceOf(err));
    }
  };
  return (
    <div class="presence">
      <label>
        My status
        <select
          name="presence"
          data-status={status ?? 'unknown'}
          value={status ?? ''}
          onChange={(e) => void pick(e.currentTarget.value as PresenceStatus)}
        >
          {status === undefined && <option value="">Unknown</option>}
          {(Object.keys(PRESENCE_LABELS) as PresenceStatus[]).map((s) => (
            <option key={s} value={s}>
              {PRESENCE_LABELS[s]}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <span role="alert" class="error">
          {error}
        </span>
      )}
    </div>
  );
}
