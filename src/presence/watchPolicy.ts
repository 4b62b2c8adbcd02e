/**
 * Who may watch whom with a BLF key (docs/architecture.md §9.4): with `presence.blf:
 * monitoring` (the default) a watcher sees the extensions it may monitor in some mode
 * (the monitoring groups, src/monitoring/permissions.ts; nobody when monitoring is off),
 * and itself; with `presence.blf: all` any extension sees any other. Pure.
 */
import type { Permissions } from '../monitoring/permissions.js';

export type BlfScope = 'monitoring' | 'all';

export function mayWatch(
  scope: BlfScope,
  permissions: Permissions,
  watcher: string,
  watched: string,
): boolean {
  if (!permissions.isExtension(watcher) || !permissions.isExtension(watched)) return false;
  if (scope === 'all' || watcher === watched) return true;
  return permissions.modesFor(watcher, watched).length > 0;
}
