/**
 * The app's paths (the server answers each with the page: src/http/appRoute.ts) and
 * which scopes may open each screen.
 */
import type { Scope } from './model.js';

export type Screen = 'signin' | 'monitor' | 'agent' | 'admin';

export interface Route {
  screen: Screen;
  /** /monitor/calls/ID: the details of one call. */
  callId?: string;
}

export function parseRoute(pathname: string): Route {
  const m = /^\/monitor\/calls\/([^/]+)$/.exec(pathname);
  if (m) return { screen: 'monitor', callId: decodeURIComponent(m[1]!) };
  if (pathname.startsWith('/monitor')) return { screen: 'monitor' };
  if (pathname === '/agent') return { screen: 'agent' };
  if (pathname === '/admin') return { screen: 'admin' };
  return { screen: 'signin' };
}

export function pathOf(route: Route): string {
  if (route.screen === 'monitor' && route.callId !== undefined) {
    return `/monitor/calls/${encodeURIComponent(route.callId)}`;
  }
  return route.screen === 'signin' ? '/signin' : `/${route.screen}`;
}

/** A screen behind sign-in. */
export type AppScreen = Exclude<Screen, 'signin'>;

export const SCREENS_OF: Record<Scope, AppScreen[]> = {
  admin: ['monitor', 'admin'],
  supervisor: ['monitor'],
  agent: ['agent'],
};

export const SCREEN_TITLES: Record<AppScreen, string> = {
  monitor: 'Call Monitor',
  agent: 'My call',
  admin: 'Admin',
};

export function homeOf(scope: Scope): AppScreen {
  return SCREENS_OF[scope][0]!;
}
