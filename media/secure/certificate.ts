/**
 * Our DTLS identity (RFC 5763 §5): one self-signed ECDSA P-256 certificate per server
 * start, made by werift, handed to every secure leg; its SHA-256 fingerprint goes into
 * our SDP (`a=fingerprint`, RFC 8122). And fresh ICE credentials per leg (RFC 8445 §5.3:
 * ufrag ≥ 24 bits, password ≥ 128 bits of randomness).
 */
import { randomBytes } from 'node:crypto';
import type { DtlsCertificate } from './securePair.js';
import { loadWerift } from './werift.js';
import type { IceCredentials } from './iceLite.js';

export interface DtlsIdentity {
  certificate: DtlsCertificate;
  /** `sha-256` and colon-separated upper-case hex, as `a=fingerprint` writes it. */
  fingerprint: { algorithm: 'sha-256'; value: string };
}

export async function createDtlsCertificate(): Promise<DtlsIdentity> {
  const w = await loadWerift();
  const { certPem, keyPem, signatureHash } =
    await w.CipherContext.createSelfSignedCertificateWithKey(
      { signature: w.SignatureAlgorithm.ecdsa_3, hash: w.HashAlgorithm.sha256_4 },
      w.NamedCurveAlgorithm.secp256r1_23,
    );
  const cert = new w.RTCCertificate(keyPem, certPem, signatureHash);
  const sha256 = cert.getFingerprints().find((f) => f.algorithm === 'sha-256');
  if (sha256 === undefined) throw new Error('werift gave no sha-256 fingerprint');
  return {
    certificate: { certPem, keyPem },
    fingerprint: { algorithm: 'sha-256', value: sha256.value.toUpperCase() },
  };
}

/** ice-chars only (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/"). */
function iceChars(bytes: number): string {
  return randomBytes(bytes).toString('base64').replace(/=+$/, '');
}

export function newIceCredentials(): IceCredentials {
  return { ufrag: iceChars(6), pwd: iceChars(18) };
}
