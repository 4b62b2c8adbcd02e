/**
 * A desk phone written in the test: raw SIP over UDP from a trunk's own port (no digest,
 * calls the trunk's DID) and a raw RTP socket (FakePhone) that sends a PCMU tone and keeps
 * every packet it receives, with its arrival time. It answers the server's re-INVITEs
 * (hold and resume from the other side) and sends its own, so a test can check what
 * arrives across a re-INVITE.
 *
 * Why not baresip here: baresip 1.0 rebuilds its receive filter chain on an SDP that is
 * not sendrecv (src/audio.c audio_decoder_set: list_flush(&rx->filtl), then aufilt_setup
 * returns at once because the transmit chain is still there), so its decoded-audio
 * recording (sndfile) ends at the first hold and never comes back, although it still
 * receives and plays. What this phone heard is what the server actually sent it.
 *
 *   const desk = await RawDesk.open(trunkPort, server.sipPort);
 *   await desk.dial(DID, 440);   // resolves when the call is answered
 *   const heard = desk.heard(fromMs, toMs);  // performance.now() times
 */
import { performance } from 'node:perf_hooks';
import { ULAW_DECODE } from '../../media/codecs/g711.js';
import { FakePhone, Tone } from '../integration/media/fakePhone.js';
import { RawDialog, audioPort, responseTo, sdp } from '../integration/calls-rawRig.js';
import type { PcmAudio } from './goertzel.js';
import { prng } from './prng.js';
import { SipClient, randomToken, type SipMessageView } from './sipClient.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** RFC 3264 §6.1: the answer's direction to an offer's. */
function answerDirection(offer: string): Direction {
  if (/^a=sendonly/m.test(offer)) return 'recvonly';
  if (/^a=recvonly/m.test(offer)) return 'sendonly';
  if (/^a=inactive/m.test(offer)) return 'inactive';
  return 'sendrecv';
}

export class RawDesk {
  /** The SDP direction this phone last agreed to (from its own point of view). */
  direction: Direction = 'sendrecv';
  private dialog: RawDialog | undefined;
  private serverRtpPort = 0;
  private sdpVersion = 1;
  private tone: Tone | null = null;
  private timer: NodeJS.Timeout | undefined;
  private handled = 0;
  private closed = false;
  /** Drops some of the RTP this phone would send (a lossy path); see dial(). */
  private loss:
    { oneIn: number; random: ReturnType<typeof prng>; drop: number; dropped: number } | undefined;

  private constructor(
    readonly sip: SipClient,
    readonly media: FakePhone,
    private readonly serverPort: number,
  ) {}

  /** A desk phone on the trunk's port `trunkPort`, talking to the server at `serverPort`. */
  static async open(trunkPort: number, serverPort: number): Promise<RawDesk> {
    const sip = await SipClient.udp(trunkPort);
    let media: FakePhone;
    try {
      media = await FakePhone.open();
    } catch (error) {
      await sip.close();
      throw error;
    }
    return new RawDesk(sip, media, serverPort);
  }

  /**
   * Calls `number` (the trunk's DID) and resolves with the call answered and ACKed; its
   * tone (`hz`, PCMU) is sent from then on while the phone's direction allows sending.
   * With `loss`, one RTP packet in each run of `oneIn` is left out, at a random place in
   * the run drawn from a PRNG seeded with `seed` (the same packets every run): random
   * loss of 1/`oneIn`, yet any 2 s stretch loses nearly that share (plain Bernoulli
   * loss would let a 100-packet stretch lose 1 % or 10 %). A dropped packet's sequence
   * number and timestamp are used up, as if it had been lost on the way.
   */
  async dial(
    number: string,
    hz: number,
    answerTimeoutMs = 15000,
    loss?: { oneIn: number; seed: number },
  ): Promise<void> {
    if (loss !== undefined) {
      this.loss = { oneIn: loss.oneIn, random: prng(loss.seed), drop: 0, dropped: 0 };
    }
    const callId = `${randomToken()}@127.0.0.1`;
    const fromTag = randomToken(4);
    const offer = sdp(this.media.port, { version: this.sdpVersion });
    const port = this.sip.localPort;
    this.sip.send(
      [
        `INVITE sip:${number}@127.0.0.1:${this.serverPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomToken()};rport`,
        'Max-Forwards: 70',
        `From: <sip:desk@127.0.0.1>;tag=${fromTag}`,
        `To: <sip:${number}@127.0.0.1>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:desk@127.0.0.1:${port}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(offer)}`,
        '',
        offer,
      ].join('\r\n'),
      this.serverPort,
    );
    const ok = await this.sip.waitForResponse(callId, 'INVITE', answerTimeoutMs, 1);
    if (ok.status !== 200) throw new Error(`call not answered:\n${ok.raw}`);
    const contact = /<([^>]+)>/.exec(ok.header('Contact') ?? '')?.[1];
    if (contact === undefined) throw new Error(`no Contact in:\n${ok.raw}`);
    this.dialog = new RawDialog(
      this.sip,
      this.serverPort,
      callId,
      `<sip:desk@127.0.0.1>;tag=${fromTag}`,
      ok.header('To') as string,
      contact,
      1,
    );
    this.dialog.send('ACK', { cseq: 1 });
    this.serverRtpPort = audioPort(ok.body);
    this.handled = this.sip.received.length;
    // −6 dBFS, as the baresip phones' tones (test/helpers/baresip.ts), so mixes compare.
    this.tone = new Tone('PCMU', hz, 0.5);
    this.startSending();
  }

  /** Sends a re-INVITE with `direction` (hold: sendonly, resume: sendrecv) and ACKs its 200. */
  async reinvite(direction: Direction): Promise<void> {
    const dialog = this.requireDialog();
    this.sdpVersion++;
    const cseq = dialog.send('INVITE', {
      body: sdp(this.media.port, { version: this.sdpVersion, direction }),
    });
    const ok = await this.sip.waitForResponse(dialog.callId, 'INVITE', 10000, cseq);
    if (ok.status !== 200) throw new Error(`re-INVITE refused:\n${ok.raw}`);
    dialog.send('ACK', { cseq });
    this.direction = direction;
    this.serverRtpPort = audioPort(ok.body);
  }

  /**
   * Answers the server's next re-INVITE (the other side's hold or resume) as RFC 3264
   * §6.1 says; resolves with the direction this phone agreed to.
   */
  async answerReinvite(timeoutMs = 10000): Promise<Direction> {
    const dialog = this.requireDialog();
    const invite: SipMessageView = await this.sip.nextNewRequest('INVITE', this.handled, timeoutMs);
    this.handled = this.sip.received.length;
    const direction = answerDirection(invite.body);
    this.sdpVersion++;
    this.sip.send(
      responseTo(invite, 200, {
        body: sdp(this.media.port, { version: this.sdpVersion, direction }),
        contactPort: this.sip.localPort,
      }),
      this.serverPort,
    );
    await this.sip.waitFor(
      (m) => m.method === 'ACK' && m.callId === dialog.callId && m.cseq === invite.cseq,
      timeoutMs,
    );
    this.direction = direction;
    this.serverRtpPort = audioPort(invite.body);
    return direction;
  }

  /** Hangs up (BYE) and waits for its 200. */
  async hangUp(): Promise<void> {
    this.stopSending();
    const dialog = this.requireDialog();
    const r = await dialog.transact('BYE');
    if (r.status !== 200) throw new Error(`BYE refused:\n${r.raw}`);
  }

  /** RTP packets left out so far (dial()'s `loss`). */
  get dropped(): number {
    return this.loss?.dropped ?? 0;
  }

  /** RTP packets received between `fromMs` and `toMs` (performance.now()). */
  packetsBetween(fromMs: number, toMs: number): number {
    return this.media.rtp.filter((p) => p.at >= fromMs && p.at < toMs && p.pt === 0).length;
  }

  /** The PCMU audio received between `fromMs` and `toMs` (performance.now()), 8 kHz. */
  heard(fromMs: number, toMs: number): PcmAudio {
    const packets = this.media.rtp.filter((p) => p.at >= fromMs && p.at < toMs && p.pt === 0);
    const samples = new Int16Array(packets.reduce((n, p) => n + p.payload.length, 0));
    let o = 0;
    for (const p of packets) for (const code of p.payload) samples[o++] = ULAW_DECODE[code]!;
    return { sampleRate: 8000, samples };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopSending();
    await Promise.all([this.sip.close(), this.media.close()]);
  }

  private requireDialog(): RawDialog {
    if (this.dialog === undefined) throw new Error('no call');
    return this.dialog;
  }

  /** One packet per 20 ms, paced on the clock, while the direction allows sending. */
  private startSending(): void {
    const start = performance.now();
    let i = 0;
    const tick = (): void => {
      if (this.closed || this.tone === null) return;
      const frame = this.tone.frame();
      if (this.direction === 'sendrecv' || this.direction === 'sendonly') {
        const loss = this.loss;
        // The place of this run's loss, drawn at the start of each run of `oneIn` packets.
        if (loss !== undefined && i % loss.oneIn === 0) loss.drop = i + loss.random.int(loss.oneIn);
        if (i > 0 && loss !== undefined && i === loss.drop) {
          loss.dropped++;
          this.media.seq = (this.media.seq + 1) & 0xffff;
          this.media.ts = (this.media.ts + frame.length) >>> 0;
        } else {
          this.media.sendRtp(this.serverRtpPort, 0, frame, i === 0);
        }
      }
      i++;
      this.timer = setTimeout(tick, Math.max(0, start + i * 20 - performance.now()));
    };
    tick();
  }

  private stopSending(): void {
    this.tone = null;
    clearTimeout(this.timer);
  }
}
