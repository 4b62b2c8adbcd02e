/**
 * A browser for tests, in Node: werift's RTCPeerConnection on 127.0.0.1 with one audio
 * transceiver (Opus, or PCMU/PCMA), like Chrome's: it offers UDP/TLS/RTP/SAVPF (actpass,
 * rtcp-mux, BUNDLE), runs ICE (full, controlling) against our ICE-lite leg, then DTLS and
 * SRTP. It sends a tone as real RTP through its SRTP session and keeps what it received,
 * decoded, for tone detection.
 */
import { performance } from 'node:perf_hooks';
import { codecOf } from '../../media/codecs/table.js';
import type { AudioDecoder, AudioEncoder } from '../../media/codecs/codec.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../../media/codecs/g711.js';

type Werift = typeof import('werift');
type Pc = InstanceType<Werift['RTCPeerConnection']>;
type Sender = InstanceType<Werift['RTCRtpSender']>;

export type PeerCodec = 'opus' | 'PCMU' | 'PCMA';

const PT: Record<PeerCodec, number> = { opus: 111, PCMU: 0, PCMA: 8 };

export class WebRtcPeer {
  /** Decoded audio received (Opus at its decoder's rate, G.711 at 8000). */
  readonly heard: number[] = [];
  packetsIn = 0;
  private decoder: AudioDecoder | null = null;
  private encoder: AudioEncoder | null = null;
  private sender: Sender | null = null;
  private seq = Math.floor(Math.random() * 30000);
  private ts = Math.floor(Math.random() * 1e9);
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private phase = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly w: Werift,
    readonly pc: Pc,
    readonly codec: PeerCodec,
  ) {}

  /** A peer that will offer `codecs` (the first is what it sends). */
  static async create(codecs: PeerCodec[] = ['opus', 'PCMU']): Promise<WebRtcPeer> {
    const w = await import('werift');
    const params = codecs.map((c) =>
      c === 'opus'
        ? new w.RTCRtpCodecParameters({
            mimeType: 'audio/opus',
            clockRate: 48000,
            channels: 2,
            payloadType: 111,
          })
        : new w.RTCRtpCodecParameters({
            mimeType: `audio/${c}`,
            clockRate: 8000,
            channels: 1,
            payloadType: PT[c],
          }),
    );
    const pc = new w.RTCPeerConnection({
      codecs: { audio: params },
      bundlePolicy: 'max-bundle',
      iceUseIpv6: false,
      iceUseTcp: false,
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      iceAdditionalHostAddresses: ['127.0.0.1'],
    });
    const peer = new WebRtcPeer(w, pc, codecs[0]!);
    const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    peer.sender = transceiver.sender;
    transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => peer.onRtp(rtp.header.payloadType, rtp.payload));
    });
    return peer;
  }

  /** Our offer, once ICE gathering is complete (no trickle: the SDP has the candidates). */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    return this.pc.localDescription!.sdp;
  }

  /** Answers the server's offer. */
  async answer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.pc.localDescription!.sdp;
  }

  async accept(answer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  get connected(): boolean {
    return this.pc.connectionState === 'connected';
  }

  /** Sends a sine of `hz` every 20 ms with the codec it offered first, until stop(). */
  startTone(hz: number, payloadType = PT[this.codec]): void {
    const codec = this.codec === 'opus' ? codecOf('opus') : null;
    const rate = codec?.sampleRate ?? 8000;
    const samples = codec?.frameSamples ?? 160;
    const ticks = this.codec === 'opus' ? 960 : 160;
    if (codec !== null) this.encoder = codec.createEncoder();
    const pcm = new Int16Array(samples);
    const out = new Uint8Array(1500);
    const start = performance.now();
    let n = 0;
    const tick = (): void => {
      // Drift-free: frame n is due at start + n·20 ms.
      while (start + n * 20 <= performance.now()) {
        for (let i = 0; i < samples; i++) {
          pcm[i] = Math.round(Math.sin(this.phase) * 0.3 * 32767);
          this.phase += (2 * Math.PI * hz) / rate;
        }
        let payload: Buffer;
        if (this.encoder !== null) {
          payload = Buffer.from(out.subarray(0, this.encoder.encode(pcm, samples, out)));
        } else {
          const encode = this.codec === 'PCMA' ? alawEncode : ulawEncode;
          payload = Buffer.alloc(samples);
          for (let i = 0; i < samples; i++) payload[i] = encode(pcm[i]!);
        }
        this.sendRtp(payloadType, payload, ticks);
        n++;
      }
    };
    this.timer = setInterval(tick, 10);
  }

  stopTone(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.encoder?.close();
    this.encoder = null;
  }

  /** Sends one RTP packet through werift's SRTP session. */
  sendRtp(payloadType: number, payload: Buffer, ticks: number): void {
    const header = new this.w.RtpHeader({
      payloadType,
      sequenceNumber: this.seq,
      timestamp: this.ts >>> 0,
      ssrc: this.ssrc,
      marker: false,
    });
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + ticks) >>> 0;
    void this.sender?.sendRtp(new this.w.RtpPacket(header, payload)).catch(() => undefined);
  }

  /** Raw bytes from the peer's own ICE socket to the selected pair (forged input). */
  sendRaw(buf: Buffer): void {
    void this.sender?.dtlsTransport.iceTransport.connection.send(buf).catch(() => undefined);
  }

  /** Rate of `heard`: that of the codec the server sends (Opus, else G.711 at 8000). */
  get heardRate(): number {
    return this.heardOpus ? codecOf('opus').sampleRate : 8000;
  }

  /** What the server sent: Opus (else G.711). A test expects one codec per call. */
  heardOpus = false;

  async close(): Promise<void> {
    this.stopTone();
    this.decoder?.close();
    this.decoder = null;
    await this.pc.close();
  }

  private onRtp(payloadType: number, payload: Buffer): void {
    this.packetsIn++;
    if (payloadType === 111) {
      this.heardOpus = true;
      this.decoder ??= codecOf('opus').createDecoder();
      const out = new Int16Array(codecOf('opus').maxFrameSamples);
      const n = this.decoder.decode(payload, 0, payload.length, out);
      for (let i = 0; i < n; i++) this.heard.push(out[i]!);
    } else if (payloadType === 0 || payloadType === 8) {
      const decode = payloadType === 0 ? ulawDecode : alawDecode;
      for (const code of payload) this.heard.push(decode(code));
    }
  }

  private async gathered(): Promise<void> {
    const until = performance.now() + 5000;
    while (this.pc.iceGatheringState !== 'complete') {
      if (performance.now() > until) throw new Error('ICE gathering did not complete');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
