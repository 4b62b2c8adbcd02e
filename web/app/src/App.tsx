/**
 * The shell: who is signed in (GET /v1/session), the header with the screens the role
 * may open, sign-out, and the screen of the current path.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ok, sentenceOf } from './api/client.js';
import type { Scope } from './model.js';
import { homeOf, parseRoute, pathOf, SCREEN_TITLES, SCREENS_OF, type Route } from './routes.js';
import { AdminScreen } from './screens/Admin.js';
import { AgentScreen } from './screens/AgentCall.js';
import { CallMonitor } from './screens/CallMonitor.js';
import { SignIn } from './screens/SignIn.js';

export interface Me {
  extension: string;
  displayName: string | null;
  scope: Scope;
}

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [route, setRoute] = useState<Route>(() => parseRoute(location.pathname));
  const [error, setError] = useState<string | null>(null);

  const go = (next: Route, replace = false) => {
    const path = pathOf(next);
    if (path !== location.pathname) {
      // The query stays (?processing=off is a setting of this page, not of a screen).
      if (replace) history.replaceState(null, '', path + location.search);
      else history.pushState(null, '', path + location.search);
    }
    setRoute(next);
  };

  useEffect(() => {
    const onPop = () => setRoute(parseRoute(location.pathname));
    window.addEventListener('popstate', onPop);
    api
      .GET('/v1/session', {})
      .then(({ data, response }) => setMe(response.ok && data ? (data as Me) : null))
      .catch(() => setMe(null));
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    if (me === undefined) return;
    if (me === null) {
      if (route.screen !== 'signin') go({ screen: 'signin' }, true);
    } else if (route.screen === 'signin') {
      go({ screen: homeOf(me.scope) }, true);
    }
  }, [me, route.screen]);

  useEffect(() => {
    document.title =
      route.screen === 'signin'
        ? 'Sign in · callwatch'
        : `${SCREEN_TITLES[route.screen]} · callwatch`;
  }, [route.screen]);

  if (me === undefined) return <p class="loading">Loading…</p>;
  const screen = route.screen;
  if (me === null || screen === 'signin') {
    return <SignIn onSignedIn={(m) => setMe(m)} />;
  }

  const signOut = async () => {
    try {
      await ok(api.DELETE('/v1/session', {}));
      setMe(null);
    } catch (err) {
      setError(sentenceOf(err));
    }
  };

  const allowed = (SCREENS_OF[me.scope] as string[]).includes(screen);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">callwatch</span>
        <nav aria-label="Screens">
          {SCREENS_OF[me.scope].map((s) => (
            <a
              key={s}
              href={pathOf({ screen: s })}
              aria-current={route.screen === s ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go({ screen: s });
              }}
            >
              {SCREEN_TITLES[s]}
            </a>
          ))}
        </nav>
        <span class="me" data-testid="me">
          {me.displayName ?? me.extension} · {me.scope}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {!allowed ? (
          <section class="refused" role="alert" data-testid="screen-refused">
            <h1>{SCREEN_TITLES[screen]}</h1>
            <p>
              {route.screen === 'monitor'
                ? 'The Call Monitor is for supervisors and admins. Agents see their own call under "My call".'
                : 'Your role may not open this screen.'}
            </p>
          </section>
        ) : route.screen === 'monitor' ? (
          <CallMonitor
            me={me}
            detailsOf={route.callId}
            openDetails={(id) =>
              go(id === undefined ? { screen: 'monitor' } : { screen: 'monitor', callId: id })
            }
          />
        ) : route.screen === 'agent' ? (
          <AgentScreen me={me} />
        ) : (
          <AdminScreen />
        )}
      </main>
    </div>
  );
}
