/** Parses a body the test knows is valid. */
import { parseSdp, type SdpSession } from '../../../../sip/sdp/index.js';

export function session(body: string): SdpSession {
  const result = parseSdp(body);
  if (!result.ok) throw new Error(`fixture does not parse: ${result.reason}`);
  return result.session;
}
