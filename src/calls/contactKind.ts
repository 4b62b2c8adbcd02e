/**
 * Which offer each registered contact of an extension gets (docs/architecture.md §3.2.2):
 * a browser's contact (SIP over WebSocket, RFC 7118 §5: `;transport=ws`/`wss`) is offered
 * WebRTC (UDP/TLS/RTP/SAVPF), any other contact plain RTP/AVP. Pure: the call's media
 * (callMedia.ts) anchors what the plan says, the forks carry their contact's kind.
 */

/** A registered contact: a browser's (WebRTC) or a phone's (plain RTP). */
export type ContactKind = 'browser' | 'phone';

/** What a fork's offer anchors on: a WebRTC leg or a plain RTP one. */
export type AnchorKind = 'webrtc' | 'plain';

const WEBSOCKET_TRANSPORT = /;\s*transport\s*=\s*wss?\b/i;

export function contactKind(uri: string): ContactKind {
  return WEBSOCKET_TRANSPORT.test(uri) ? 'browser' : 'phone';
}

/** Whether every contact is a browser's (and there is one). */
export function allBrowsers(uris: readonly string[]): boolean {
  return uris.length > 0 && uris.every((uri) => contactKind(uri) === 'browser');
}

/** The anchor a contact of this kind is offered. */
export function anchorOf(kind: ContactKind): AnchorKind {
  return kind === 'browser' ? 'webrtc' : 'plain';
}

/**
 * The legs a side reached at `uris` needs before its offers go out: its leg's kind, and
 * whether a second, WebRTC leg must wait beside a plain one (browsers and phones at
 * once: the fork that answers decides which of the two stays).
 */
export interface LegPlan {
  leg: AnchorKind;
  webRtcCandidate: boolean;
}

export function legPlan(uris: readonly string[]): LegPlan {
  const kinds = uris.map(contactKind);
  const browsers = kinds.filter((k) => k === 'browser').length;
  if (browsers > 0 && browsers === kinds.length) return { leg: 'webrtc', webRtcCandidate: false };
  return { leg: 'plain', webRtcCandidate: browsers > 0 };
}
