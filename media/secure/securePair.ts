/**
 * A WebRTC leg's transport (docs/architecture.md §3.2.2): a PortPair that wraps the one
 * the packet io bound and sits between it and the leg. Everything arrives on the RTP
 * port (ICE, DTLS, SRTP and SRTCP multiplexed, RFC 7983; rtcp-mux, RFC 5761) and is told
 * apart by its first byte (demux.ts):
 *
 * - STUN: ICE-lite (iceLite.ts). The first check that carries our credentials latches
 *   the peer's address (`events.peer`); a check without them is dropped and counted.
 * - DTLS: handed to werift's DtlsServer (or DtlsClient when our `a=setup` is active),
 *   from the latched peer only. Once the handshake is done, the peer's certificate must
 *   match a fingerprint of its SDP (RFC 8122 §5), and the SRTP keys are exported from it
 *   (RFC 5764 §4.2). A failed handshake, a fingerprint that does not match, or an alert
 *   from the peer ends this leg's transport (`events.failed`), nothing else.
 * - SRTP / SRTCP from the peer: authenticated and decrypted by werift's SrtpSession /
 *   SrtcpSession and handed to the leg as plain RTP / RTCP on its RTP port. Packets that
 *   fail authentication are dropped and counted.
 *
 * What the leg sends (RTP, and RTCP on either channel) is protected and sent from the RTP
 * port to the latched peer, whatever address the leg named; before the keys exist it is
 * dropped and counted. The relay and the mixer see plain RTP only; the io's relay fast
 * path is not offered (this pair has no `relay`), so the JavaScript path relays.
 *
 * Closing ends the DTLS socket and drops the SRTP sessions with the pair; werift keeps
 * no socket of ours. Its DTLS flight retransmission waits on timers it cannot cancel:
 * after close, those only reach a transport that sends nothing.
 */
import { CHANNEL_RTP } from '../io/packetIo.js';
import type {
  Channel,
  PacketBatch,
  PacketIoCounters,
  PairReceiver,
  PortPair,
} from '../io/packetIo.js';
import { KIND_DTLS, KIND_RTCP, KIND_RTP, KIND_STUN, classify } from './demux.js';
import { answerBindingRequest } from './iceLite.js';
import type { IceCredentials } from './iceLite.js';
import type { Werift } from './werift.js';

export interface DtlsCertificate {
  certPem: string;
  keyPem: string;
}

export interface SecureFingerprint {
  /** `sha-256` (what browsers send), `sha-1`, `sha-384`, `sha-512`. */
  algorithm: string;
  /** Hex bytes, colon-separated as in SDP. */
  value: string;
}

/** What the peer's SDP said, and our DTLS role from the `a=setup` exchange (RFC 5763 §5). */
export interface SecureRemote {
  /** The peer's ICE credentials; null: not known yet (any peer ufrag is accepted). */
  ice: IceCredentials | null;
  fingerprints: SecureFingerprint[];
  /** server: we wait for the ClientHello (we answered `setup:passive`). */
  dtlsRole: 'server' | 'client';
}

/** Monotonic counters of one secure leg (what the demux dropped, and why). */
export interface SecureCounters {
  stunIn: number;
  /** Checks refused: wrong username, bad MESSAGE-INTEGRITY, malformed. */
  stunRefused: number;
  dtlsIn: number;
  srtpIn: number;
  /** SRTP/SRTCP that failed authentication (or decryption). */
  srtpAuthFailed: number;
  /** DTLS or SRTP from an address other than the latched peer. */
  notFromPeer: number;
  /** Arrived, or was to be sent, before the DTLS keys existed. */
  notReady: number;
  /** Neither STUN, DTLS nor RTP (RFC 7983), or anything on the RTCP port. */
  garbage: number;
  srtpOut: number;
}

export type SecureState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

export interface SecureEvents {
  /** The first valid ICE check: the peer's address. */
  peer(address: string, port: number): void;
  /** DTLS is done and the fingerprint matched: media flows. */
  connected(): void;
  /** DTLS failed or the peer closed it; the leg's media is over. */
  failed(reason: string): void;
}

/** Live werift objects of this thread (a leak test counts them before and after). */
export const secureLive = { pairs: 0, dtls: 0, srtp: 0 };

/** SRTP profiles we offer in the DTLS use_srtp extension (RFC 5764 §4.1.2, RFC 7714). */
const SRTP_PROFILES = [1, 7]; // AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM

type Dtls = InstanceType<Werift['DtlsServer']> | InstanceType<Werift['DtlsClient']>;
type Srtp = InstanceType<Werift['SrtpSession']>;
type Srtcp = InstanceType<Werift['SrtcpSession']>;

function normalise(hex: string): string {
  return hex.replace(/[^0-9a-f]/gi, '').toLowerCase();
}

const HASHES: Record<string, string> = {
  'sha-1': 'sha1',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
};

/** One-entry batch handed to the leg (reused: valid during the call only). */
class OneBatch implements PacketBatch {
  count = 1;
  buffers: Buffer[] = [Buffer.alloc(0)];
  lengths = [0];
  addresses = [''];
  ports = [0];
  arrivalMs = [0];
}

export class SecurePair implements PortPair {
  readonly address: string;
  readonly port: number;
  readonly secure: SecureCounters = {
    stunIn: 0,
    stunRefused: 0,
    dtlsIn: 0,
    srtpIn: 0,
    srtpAuthFailed: 0,
    notFromPeer: 0,
    notReady: 0,
    garbage: 0,
    srtpOut: 0,
  };
  state: SecureState = 'new';
  peerAddress = '';
  peerPort = 0;

  private receiver: PairReceiver | null = null;
  private remote: SecureRemote | null = null;
  private certificate: DtlsCertificate | null = null;
  private dtls: Dtls | null = null;
  private dtlsInput: ((data: Buffer, addr: [string, number]) => void) | null = null;
  private srtp: Srtp | null = null;
  private srtcp: Srtcp | null = null;
  private readonly batch = new OneBatch();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly inner: PortPair,
    private readonly w: Werift,
    readonly local: IceCredentials,
    private readonly events: SecureEvents,
  ) {
    this.address = inner.address;
    this.port = inner.port;
    secureLive.pairs++;
    inner.receive({
      rtp: (batch) => this.onBatch(batch),
      rtcp: (batch) => {
        // rtcp-mux: nothing belongs on the RTCP port.
        this.secure.garbage += batch.count;
      },
      error: (error, channel) => this.receiver?.error(error, channel),
    });
  }

  get counters(): PacketIoCounters {
    return this.inner.counters;
  }

  receive(receiver: PairReceiver): void {
    this.receiver = receiver;
  }

  /**
   * The peer's parameters (and our certificate): starts DTLS once the peer is known.
   * A later call may only complete the ICE credentials (a second answer changes nothing
   * else here).
   */
  setRemote(remote: SecureRemote, certificate: DtlsCertificate): void {
    if (this.closing !== undefined) return;
    if (this.remote !== null) {
      if (remote.ice !== null) this.remote.ice = remote.ice;
      return;
    }
    this.remote = remote;
    this.certificate = certificate;
    this.state = 'connecting';
    this.startDtls();
  }

  send(
    _channel: Channel,
    buf: Buffer,
    offset: number,
    length: number,
    _port: number,
    _address: string,
  ): void {
    const srtp = this.srtp;
    const srtcp = this.srtcp;
    if (srtp === null || srtcp === null || this.peerPort === 0) {
      this.secure.notReady++;
      return;
    }
    const plain = buf.subarray(offset, offset + length);
    let protectedBytes: Buffer;
    try {
      if (classify(plain, length) === KIND_RTCP) {
        protectedBytes = srtcp.encrypt(Buffer.from(plain));
      } else {
        const packet = this.w.RtpPacket.deSerialize(plain);
        protectedBytes = srtp.encrypt(packet.payload, packet.header);
      }
    } catch {
      this.secure.notReady++;
      return;
    }
    this.secure.srtpOut++;
    this.inner.send(
      CHANNEL_RTP,
      protectedBytes,
      0,
      protectedBytes.length,
      this.peerPort,
      this.peerAddress,
    );
  }

  holds(): boolean {
    // Every protected packet is a new buffer: a caller's buffer is never kept.
    return false;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      if (this.state !== 'failed') this.state = 'closed';
      this.dropDtls();
      secureLive.pairs--;
      this.receiver = null;
      this.closing = this.inner.close();
    }
    return this.closing;
  }

  private onBatch(batch: PacketBatch): void {
    if (this.closing !== undefined) return; // a datagram of a batch read before close
    const { buffers, lengths, addresses, ports, arrivalMs } = batch;
    for (let i = 0; i < batch.count; i++) {
      const buf = buffers[i]!;
      const length = lengths[i]!;
      const address = addresses[i]!;
      const port = ports[i]!;
      switch (classify(buf, length)) {
        case KIND_STUN:
          this.onStun(buf.subarray(0, length), address, port);
          break;
        case KIND_DTLS:
          this.onDtls(buf, length, address, port);
          break;
        case KIND_RTP:
        case KIND_RTCP:
          this.onSrtp(buf, length, address, port, arrivalMs[i]!);
          break;
        default:
          this.secure.garbage++;
      }
    }
  }

  private onStun(data: Buffer, address: string, port: number): void {
    this.secure.stunIn++;
    let outcome;
    try {
      const remoteUfrag = this.remote?.ice?.ufrag ?? null;
      outcome = answerBindingRequest(this.w, data, this.local, remoteUfrag, address, port);
    } catch {
      outcome = { ok: false as const };
    }
    if (!outcome.ok) {
      this.secure.stunRefused++;
      return;
    }
    this.inner.send(CHANNEL_RTP, outcome.response, 0, outcome.response.length, port, address);
    if (this.peerPort === 0) {
      this.peerAddress = address;
      this.peerPort = port;
      this.events.peer(address, port);
      if (this.remote?.dtlsRole === 'client') this.connectClient();
    }
  }

  private fromPeer(address: string, port: number): boolean {
    if (port === this.peerPort && address === this.peerAddress) return true;
    this.secure.notFromPeer++;
    return false;
  }

  private onDtls(buf: Buffer, length: number, address: string, port: number): void {
    this.secure.dtlsIn++;
    if (!this.fromPeer(address, port)) return;
    const input = this.dtlsInput;
    if (input === null) {
      this.secure.notReady++;
      return;
    }
    try {
      // werift keeps handshake messages: it gets its own copy of the io's buffer.
      input(Buffer.from(buf.subarray(0, length)), [address, port]);
    } catch {
      this.secure.garbage++;
    }
  }

  private onSrtp(buf: Buffer, length: number, address: string, port: number, at: number): void {
    if (!this.fromPeer(address, port)) return;
    const srtp = this.srtp;
    const srtcp = this.srtcp;
    const receiver = this.receiver;
    if (srtp === null || srtcp === null || receiver === null) {
      this.secure.notReady++;
      return;
    }
    let plain: Buffer;
    try {
      const data = buf.subarray(0, length);
      plain = buf[1]! >= 192 && buf[1]! <= 223 ? srtcp.decrypt(data) : srtp.decrypt(data);
    } catch {
      this.secure.srtpAuthFailed++;
      return;
    }
    this.secure.srtpIn++;
    const batch = this.batch;
    batch.buffers[0] = plain;
    batch.lengths[0] = plain.length;
    batch.addresses[0] = address;
    batch.ports[0] = port;
    batch.arrivalMs[0] = at;
    receiver.rtp(batch);
  }

  private startDtls(): void {
    const remote = this.remote!;
    const certificate = this.certificate!;
    const w = this.w;
    const transport = {
      type: 'udp',
      address: { address: this.address, port: this.port, family: 'IPv4' },
      closed: false,
      onData: (_data: Buffer, _addr: unknown): void => {},
      send: (data: Buffer): Promise<void> => {
        if (this.closing === undefined && this.peerPort !== 0) {
          this.inner.send(CHANNEL_RTP, data, 0, data.length, this.peerPort, this.peerAddress);
        }
        return Promise.resolve();
      },
      close: (): Promise<void> => Promise.resolve(),
    };
    const options = {
      cert: certificate.certPem,
      key: certificate.keyPem,
      signatureHash: { signature: w.SignatureAlgorithm.ecdsa_3, hash: w.HashAlgorithm.sha256_4 },
      transport: transport as never,
      srtpProfiles: SRTP_PROFILES as never,
      extendedMasterSecret: true,
    };
    const dtls: Dtls =
      remote.dtlsRole === 'server'
        ? new w.DtlsServer({ ...options, certificateRequest: true })
        : new w.DtlsClient(options);
    this.dtls = dtls;
    secureLive.dtls++;
    // The socket installed its receive function on the transport.
    this.dtlsInput = (data, addr) => transport.onData(data, addr);
    dtls.onConnect.once(() => this.onDtlsConnected());
    dtls.onError.once((error: Error) => this.fail(`DTLS: ${error.message}`));
    dtls.onClose.once(() => this.fail('DTLS closed by the peer'));
    if (remote.dtlsRole === 'client' && this.peerPort !== 0) this.connectClient();
  }

  private connectClient(): void {
    const dtls = this.dtls;
    if (dtls === null || !(dtls instanceof this.w.DtlsClient)) return;
    dtls.connect().catch((error: unknown) => this.fail(`DTLS: ${String(error)}`));
  }

  private onDtlsConnected(): void {
    const dtls = this.dtls;
    if (dtls === null || this.closing !== undefined) return;
    const w = this.w;
    const cert = dtls.remoteCertificate;
    const fingerprints = this.remote?.fingerprints ?? [];
    const matched =
      cert !== undefined &&
      fingerprints.some((f) => {
        const hash = HASHES[f.algorithm.toLowerCase()];
        return hash !== undefined && normalise(w.fingerprint(cert, hash)) === normalise(f.value);
      });
    if (!matched) {
      this.fail('DTLS: the peer certificate does not match its SDP fingerprint');
      return;
    }
    try {
      const profile = dtls.srtp.srtpProfile;
      if (profile === undefined) throw new Error('no SRTP profile negotiated');
      const keys = dtls.extractSessionKeys(w.keyLength(profile), w.saltLength(profile));
      const config = {
        keys: {
          localMasterKey: keys.localKey,
          localMasterSalt: keys.localSalt,
          remoteMasterKey: keys.remoteKey,
          remoteMasterSalt: keys.remoteSalt,
        },
        profile,
      };
      this.srtp = new w.SrtpSession(config);
      this.srtcp = new w.SrtcpSession(config);
      secureLive.srtp++;
    } catch (error) {
      this.fail(`SRTP keys: ${String(error)}`);
      return;
    }
    this.state = 'connected';
    this.events.connected();
  }

  private fail(reason: string): void {
    if (this.closing !== undefined || this.state === 'failed') return;
    this.state = 'failed';
    this.dropDtls();
    this.events.failed(reason);
  }

  private dropDtls(): void {
    const dtls = this.dtls;
    if (dtls !== null) {
      this.dtls = null;
      this.dtlsInput = null;
      secureLive.dtls--;
      try {
        dtls.onConnect.allUnsubscribe();
        dtls.onError.allUnsubscribe();
        dtls.onClose.allUnsubscribe();
        dtls.onData.allUnsubscribe();
        dtls.close();
      } catch {
        // a socket that never started has nothing to close
      }
    }
    if (this.srtp !== null) secureLive.srtp--;
    this.srtp = null;
    this.srtcp = null;
  }
}
