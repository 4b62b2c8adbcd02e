/**
 * Static RTP/AVP payload types (RFC 3551 §6, table 4), which need no `a=rtpmap`.
 * Types 1, 2 and 19 are reserved; 35–95 are unassigned; 96–127 are dynamic.
 */
export interface StaticPayload {
  name: string;
  clockRate: number;
  channels?: number;
}

const STATIC: ReadonlyMap<number, StaticPayload> = new Map([
  [0, { name: 'PCMU', clockRate: 8000 }],
  [3, { name: 'GSM', clockRate: 8000 }],
  [4, { name: 'G723', clockRate: 8000 }],
  [5, { name: 'DVI4', clockRate: 8000 }],
  [6, { name: 'DVI4', clockRate: 16000 }],
  [7, { name: 'LPC', clockRate: 8000 }],
  [8, { name: 'PCMA', clockRate: 8000 }],
  [9, { name: 'G722', clockRate: 8000 }],
  [10, { name: 'L16', clockRate: 44100, channels: 2 }],
  [11, { name: 'L16', clockRate: 44100 }],
  [12, { name: 'QCELP', clockRate: 8000 }],
  [13, { name: 'CN', clockRate: 8000 }],
  [14, { name: 'MPA', clockRate: 90000 }],
  [15, { name: 'G728', clockRate: 8000 }],
  [16, { name: 'DVI4', clockRate: 11025 }],
  [17, { name: 'DVI4', clockRate: 22050 }],
  [18, { name: 'G729', clockRate: 8000 }],
]);

export function staticPayload(payloadType: number): StaticPayload | undefined {
  return STATIC.get(payloadType);
}

/** RFC 3551 §3: 96–127 are for dynamic assignment through `a=rtpmap`. */
export function isDynamicPayloadType(payloadType: number): boolean {
  return payloadType >= 96 && payloadType <= 127;
}
