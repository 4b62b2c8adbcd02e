/**
 * Who may monitor whom, in which modes (docs/architecture.md §4.2), from the config alone:
 * monitoring groups name monitors, members and modes (Yeastar's all / listen / whisper /
 * barge, plus takeover; `all` is every mode). A member with allowMonitoring: false is
 * never monitored. A group's members may name queues (docs/architecture.md §9.5): its
 * monitors may then monitor any call answered through that queue, whoever answered it.
 * Pure: the live checks (is the target in a call, is the monitor idle,
 * is the call full) are the monitoring service's.
 */
import { MONITOR_MODES } from './modes.js';
import type { MonitorMode } from './modes.js';
import type { Config } from '../config/schema.js';
import type { RefusalCode } from './refusals.js';

/** What a group's `all` allows: every mode. */
export const ALL_MODES: readonly MonitorMode[] = MONITOR_MODES;

export class Permissions {
  private readonly enabled: boolean;
  private readonly extensions: Map<string, Config['extensions'][number]>;
  /** monitor → member → the modes allowed (the union over the groups naming both). */
  private readonly allowed = new Map<string, Map<string, Set<MonitorMode>>>();
  private readonly groupsOfExtension = new Map<string, Set<string>>();
  /** monitor → queue → the modes allowed on the calls answered through the queue. */
  private readonly allowedQueues = new Map<string, Map<string, Set<MonitorMode>>>();

  constructor(config: Config) {
    this.enabled = config.monitoring.enabled;
    this.extensions = new Map(config.extensions.map((e) => [e.number, e]));
    const queues = new Set(config.queues.map((q) => q.number));
    for (const group of config.monitoring.groups) {
      const modes = group.modes.includes('all')
        ? ALL_MODES
        : group.modes.filter((m): m is MonitorMode => m !== 'all');
      for (const monitor of group.monitors) {
        for (const queue of group.members.filter((m) => queues.has(m))) {
          let byQueue = this.allowedQueues.get(monitor);
          if (byQueue === undefined) this.allowedQueues.set(monitor, (byQueue = new Map()));
          let set = byQueue.get(queue);
          if (set === undefined) byQueue.set(queue, (set = new Set()));
          for (const mode of modes) set.add(mode);
        }
      }
      for (const n of [...group.monitors, ...group.members]) {
        let set = this.groupsOfExtension.get(n);
        if (set === undefined) this.groupsOfExtension.set(n, (set = new Set()));
        set.add(group.name);
      }
      for (const monitor of group.monitors) {
        let byMember = this.allowed.get(monitor);
        if (byMember === undefined) this.allowed.set(monitor, (byMember = new Map()));
        for (const member of group.members) {
          if (member === monitor) continue;
          let set = byMember.get(member);
          if (set === undefined) byMember.set(member, (set = new Set()));
          for (const mode of modes) set.add(mode);
        }
      }
    }
  }

  get monitoringEnabled(): boolean {
    return this.enabled;
  }

  isExtension(n: string): boolean {
    return this.extensions.has(n);
  }

  /** The modes `monitor` may use on `member` (empty when none or forbidden). */
  modesFor(monitor: string, member: string): MonitorMode[] {
    if (!this.enabled || this.extensions.get(member)?.allowMonitoring === false) return [];
    const set = this.allowed.get(monitor)?.get(member);
    return set === undefined ? [] : ALL_MODES.filter((m) => set.has(m));
  }

  /**
   * Whether a group names `monitor` as a monitor of `member`, whatever its modes and
   * even when `member` opted out (allowMonitoring: false): whose calls a supervisor's
   * listing shows, so that a call of an agent who opted out is shown with Join refused
   * ('member-forbids') instead of not at all.
   */
  covers(monitor: string, member: string): boolean {
    return this.enabled && (this.allowed.get(monitor)?.get(member)?.size ?? 0) > 0;
  }

  /** Whether `monitor` may monitor anyone at all (a monitor of some group). */
  isMonitor(n: string): boolean {
    return this.enabled && (this.allowed.get(n)?.size ?? 0) > 0;
  }

  /** Extensions `monitor` may monitor (in some mode). */
  membersOf(monitor: string): string[] {
    return [...(this.allowed.get(monitor)?.keys() ?? [])].filter(
      (m) => this.modesFor(monitor, m).length > 0,
    );
  }

  /** Extensions that may monitor `member` (in some mode). */
  monitorsOf(member: string): string[] {
    return [...this.allowed.keys()].filter((m) => this.modesFor(m, member).length > 0);
  }

  /** The groups naming `n` (as monitor or member). */
  groupsOf(n: string): string[] {
    return [...(this.groupsOfExtension.get(n) ?? [])].sort();
  }

  /** Whether a group names `monitor` as a monitor of queue `queue`'s calls. */
  coversQueue(monitor: string, queue: string): boolean {
    return this.enabled && (this.allowedQueues.get(monitor)?.get(queue)?.size ?? 0) > 0;
  }

  /**
   * The static part of every monitoring check, first failure first. `queue`: the call
   * came through this queue, so a monitor of the queue may monitor its agent too.
   */
  check(
    monitor: string,
    member: string,
    mode: MonitorMode,
    queue?: string,
  ): RefusalCode | undefined {
    if (!this.enabled) return 'monitoring-disabled';
    if (!this.extensions.has(monitor) || !this.extensions.has(member)) return 'unknown-extension';
    if (monitor === member) return 'self';
    if (this.extensions.get(member)?.allowMonitoring === false) return 'member-forbids';
    const direct = this.allowed.get(monitor)?.get(member);
    const viaQueue = queue === undefined ? undefined : this.allowedQueues.get(monitor)?.get(queue);
    const set = new Set([...(direct ?? []), ...(viaQueue ?? [])]);
    if (set.size === 0) return 'not-permitted';
    if (!set.has(mode)) return 'mode-not-allowed';
    return undefined;
  }
}
