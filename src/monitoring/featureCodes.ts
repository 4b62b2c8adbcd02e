/**
 * How a supervisor's phone steers monitoring (docs/architecture.md §4.1), as pure lookups:
 * - a dialled feature code followed by the agent's extension, e.g. `*901001` listens to
 *   1001 (Yeastar's *90/*91/*92 convention, plus *93 for takeover; configurable);
 * - one in-call DTMF digit per mode (Asterisk ChanSpy's 4/5/6, plus a takeover digit).
 * The config schema guarantees no code is a prefix of another and no digit is shared.
 */
import { MONITOR_MODES } from './modes.js';
import type { MonitorMode } from './modes.js';

export { MONITOR_MODES };

export interface MonitorRequest {
  mode: MonitorMode;
  /** The extension whose call is to be monitored. */
  target: string;
}

/** `dialled` as a monitoring request, or undefined when it is not one. */
export function parseFeatureCode(
  dialled: string,
  codes: Readonly<Record<MonitorMode, string>>,
): MonitorRequest | undefined {
  for (const mode of MONITOR_MODES) {
    const code = codes[mode];
    if (dialled.length > code.length && dialled.startsWith(code)) {
      return { mode, target: dialled.slice(code.length) };
    }
  }
  return undefined;
}

/** The mode an in-call digit selects, or undefined for any other digit. */
export function modeOfDigit(
  digit: string,
  digits: Readonly<Record<MonitorMode, string>>,
): MonitorMode | undefined {
  return MONITOR_MODES.find((mode) => digits[mode] === digit);
}

/**
 * The digit of a SIP INFO carrying DTMF (application/dtmf-relay: `Signal=5`, the Cisco
 * convention most phones follow; application/dtmf: the bare digit), or undefined.
 */
export function digitOfInfo(contentType: string | undefined, body: string): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  let value: string | undefined;
  if (type === 'application/dtmf-relay') {
    value = /^\s*signal\s*=\s*(\S+)\s*$/im.exec(body)?.[1];
  } else if (type === 'application/dtmf') {
    value = body.trim();
  }
  if (value === undefined) return undefined;
  if (value === '10') return '*';
  if (value === '11') return '#';
  return /^[0-9*#A-D]$/i.test(value) ? value.toUpperCase() : undefined;
}
