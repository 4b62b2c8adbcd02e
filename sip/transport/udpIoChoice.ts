/**
 * Which socket SIP over UDP runs on (sip.io): 'native' when asked for and the addon
 * loads, else 'dgram' with one warning naming why.
 */
import type { SipUdpIo } from './datagramSocket.js';

export function chooseSipUdpIo(
  wanted: SipUdpIo,
  warn: (reason: string) => void,
  /** Why the native socket cannot run (nativeSipSocket.ts's nativeSipUnavailable), or undefined. */
  unavailable: () => string | undefined,
): SipUdpIo {
  if (wanted === 'dgram') return 'dgram';
  const reason = unavailable();
  if (reason === undefined) return 'native';
  warn(reason);
  return 'dgram';
}
