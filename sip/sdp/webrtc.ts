/**
 * The WebRTC parts of an audio m-line in `UDP/TLS/RTP/SAVPF` (RFC 8829 §5.2, RFC 8843):
 * ICE (RFC 8839: `a=ice-ufrag`, `a=ice-pwd`, `a=ice-options`, `a=candidate`), DTLS-SRTP
 * (RFC 8122 `a=fingerprint`, RFC 4145/5763 `a=setup`), `a=mid` and `a=group:BUNDLE` of
 * the one audio m-line, and rtcp-mux (RFC 5761, mandatory here). Reading the peer's
 * (`readWebRtc`), and writing ours (`webRtcAttributes`): ICE-lite (RFC 8445 §2.5) with host
 * candidates on the media address, our certificate's fingerprint, and the `a=setup` that
 * answers the offer's (RFC 5763 §5: an `actpass` offer is answered `passive`, so we are the
 * DTLS server). `a=extmap`, `a=ssrc`, `a=msid` and `a=rtcp-fb` are ignored.
 */
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { sdpFailure, type SdpFailure } from './errors.js';
import { text } from './fields.js';

export const SAVPF = 'UDP/TLS/RTP/SAVPF';

export type DtlsSetup = 'actpass' | 'active' | 'passive';

export interface SdpFingerprint {
  /** Lower case as RFC 8122 registers it: `sha-256`. */
  algorithm: string;
  /** Colon-separated hex as written. */
  value: string;
}

export interface SdpCandidate {
  address: string;
  port: number;
  /** `udp` (we use none other). */
  transport: string;
  type: string;
}

/** The peer's WebRTC parameters, from its SDP. */
export interface RemoteWebRtc {
  ice: { ufrag: string; pwd: string };
  iceLite: boolean;
  fingerprints: SdpFingerprint[];
  setup: DtlsSetup;
  mid?: string;
  /** Whether `a=group:BUNDLE` names the audio m-line's mid. */
  bundled: boolean;
  candidates: SdpCandidate[];
}

/** Ours, for an offer or an answer. */
export interface LocalWebRtc {
  ice: { ufrag: string; pwd: string };
  fingerprint: SdpFingerprint;
  setup: DtlsSetup;
  mid: string;
  /** Write `a=group:BUNDLE <mid>` (an offer does; an answer when the offer did). */
  bundle: boolean;
  /** Host candidates: the media address, and the advertised one when set. */
  candidates: Array<{ address: string; port: number }>;
  /**
   * The SSRC we send with (`a=ssrc:<n> cname:…`, RFC 5576): a peer that routes RTP by
   * signalled SSRC (werift) needs it; browsers take an unsignalled one too.
   */
  ssrc?: number;
}

/** The setup we answer with (RFC 5763 §5; RFC 8842 §5.3: a peer offering `passive` makes us active). */
export function answerSetup(offered: DtlsSetup): 'active' | 'passive' {
  return offered === 'passive' ? 'active' : 'passive';
}

/** Our DTLS role once our setup and the peer's are known: the active side is the client. */
export function dtlsRole(ours: DtlsSetup, theirs: DtlsSetup): 'server' | 'client' {
  if (ours === 'active') return 'client';
  if (ours === 'passive') return 'server';
  // We offered actpass: the answerer decided.
  return theirs === 'passive' ? 'client' : 'server';
}

function readSetup(x: unknown): DtlsSetup | undefined {
  const s = text(x)?.toLowerCase();
  return s === 'actpass' || s === 'active' || s === 'passive' ? s : undefined;
}

/** The peer's WebRTC parameters of m-line `m`; media-level attributes win over session ones. */
export function readWebRtc(
  raw: SessionDescription,
  m: MediaDescription,
): { ok: true; webrtc: RemoteWebRtc } | SdpFailure {
  const ufrag = text(m.iceUfrag) ?? text(raw.iceUfrag);
  const pwd = text(m.icePwd) ?? text(raw.icePwd);
  if (ufrag === undefined || pwd === undefined) {
    return sdpFailure('SDP_MALFORMED', 'SAVPF audio without a=ice-ufrag and a=ice-pwd');
  }
  const fp = m.fingerprint ?? raw.fingerprint;
  const algorithm = text(fp?.type)?.toLowerCase();
  const value = text(fp?.hash);
  if (
    algorithm === undefined ||
    value === undefined ||
    !/^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(value)
  ) {
    return sdpFailure('SDP_MALFORMED', 'SAVPF audio without a usable a=fingerprint');
  }
  const setup = readSetup(m.setup ?? raw.setup) ?? 'active'; // RFC 4145 §4: default active
  const candidates: SdpCandidate[] = [];
  for (const c of m.candidates ?? []) {
    const address = text(c.ip);
    if (address === undefined || !Number.isInteger(c.port)) continue;
    candidates.push({
      address,
      port: c.port,
      transport: String(c.transport).toLowerCase(),
      type: String(c.type),
    });
  }
  const mid = text(m.mid);
  const bundled =
    mid !== undefined &&
    (raw.groups ?? []).some(
      (g) => g.type.toUpperCase() === 'BUNDLE' && String(g.mids).split(' ').includes(mid),
    );
  const webrtc: RemoteWebRtc = {
    ice: { ufrag, pwd },
    iceLite: raw.icelite === 'ice-lite',
    fingerprints: [{ algorithm, value }],
    setup,
    bundled,
    candidates,
  };
  if (mid !== undefined) webrtc.mid = mid;
  return { ok: true, webrtc };
}

/** Our session-level attributes: ICE-lite, BUNDLE of the audio m-line. */
export function webRtcSessionAttributes(
  local: LocalWebRtc,
): Pick<SessionDescription, 'icelite' | 'groups'> {
  return {
    icelite: 'ice-lite',
    ...(local.bundle ? { groups: [{ type: 'BUNDLE', mids: local.mid }] } : {}),
  };
}

/** Our media-level attributes of the audio m-line (rtcp-mux is written by the caller). */
export function webRtcMediaAttributes(
  local: LocalWebRtc,
): Pick<
  MediaDescription,
  'iceUfrag' | 'icePwd' | 'fingerprint' | 'setup' | 'mid' | 'candidates' | 'ssrcs'
> {
  return {
    ...(local.ssrc !== undefined
      ? { ssrcs: [{ id: local.ssrc, attribute: 'cname', value: 'callwatch' }] }
      : {}),
    iceUfrag: local.ice.ufrag,
    icePwd: local.ice.pwd,
    fingerprint: { type: local.fingerprint.algorithm, hash: local.fingerprint.value },
    setup: local.setup,
    mid: local.mid,
    candidates: local.candidates.map((c, i) => ({
      foundation: String(i + 1),
      component: 1,
      transport: 'udp',
      // RFC 8445 §5.1.2.1: type preference 126 (host), local preference by order.
      priority: 126 * 2 ** 24 + (65535 - i) * 2 ** 8 + 255,
      ip: c.address,
      port: c.port,
      type: 'host',
    })),
  };
}
