/** Sign-in: extension and password (the SIP one, or webPassword when set). */
import { useState } from 'preact/hooks';
import { api, ok, sentenceOf } from '../api/client.js';
import type { Me } from '../App.js';

export function SignIn({ onSignedIn }: { onSignedIn(me: Me): void }) {
  const [extension, setExtension] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await ok(
        api.POST('/v1/session', { body: { extension: extension.trim(), password } }),
      );
      onSignedIn(me as Me);
    } catch (err) {
      setError(sentenceOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <h1>Sign in to callwatch</h1>
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'signin-error' : undefined}>
        <label>
          Extension
          <input
            name="extension"
            autoComplete="username"
            inputMode="numeric"
            required
            value={extension}
            onInput={(e) => setExtension(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="signin-error" role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
