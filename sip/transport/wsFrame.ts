/**
 * What one WebSocket message means to SIP over WebSocket (RFC 7118 §5.2: one SIP message
 * per WebSocket message, never split or joined). Pure: the transport (ws.ts) acts on the
 * verdict.
 *
 * - Text frames only: browsers send SIP as text, and a binary frame is closed with 1003
 *   (RFC 6455 §7.4.1, "unsupported data") rather than guessed at.
 * - Over `maxMessageBytes` (`sip.maxMessageBytes`): closed with 1009 ("message too big").
 * - A frame of just CRLFCRLF is an RFC 5626 §4.4.1 keep-alive ping, answered with one CRLF
 *   (the pong); a lone CRLF (a pong, or nothing) is ignored.
 * - Anything else goes to the parser above, which answers 400 when it can and otherwise
 *   has the connection closed (transportLayer.ts).
 */
export type WsFrameVerdict =
  | { kind: 'message'; data: Buffer }
  | { kind: 'ping' }
  | { kind: 'ignore' }
  | { kind: 'close'; code: number; reason: string };

/** WebSocket close codes used here (RFC 6455 §7.4.1). */
export const WS_CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
} as const;

const CR = 0x0d;
const LF = 0x0a;

export function classifyFrame(
  data: Buffer,
  isBinary: boolean,
  maxMessageBytes: number,
): WsFrameVerdict {
  if (isBinary) {
    return {
      kind: 'close',
      code: WS_CLOSE.unsupportedData,
      reason: 'SIP over WebSocket here takes text frames only',
    };
  }
  if (data.length > maxMessageBytes) {
    return {
      kind: 'close',
      code: WS_CLOSE.tooBig,
      reason: `SIP message of ${data.length} bytes exceeds ${maxMessageBytes}`,
    };
  }
  if (data.length <= 4 && data.every((b) => b === CR || b === LF)) {
    const ping = data.length === 4 && data[0] === CR && data[1] === LF && data[2] === CR;
    return ping ? { kind: 'ping' } : { kind: 'ignore' };
  }
  return { kind: 'message', data };
}
