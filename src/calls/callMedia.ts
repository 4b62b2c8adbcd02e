/**
 * The only file of src/calls that touches the media engine: the two anchored legs of
 * one call, on one worker (the call id is the engine's group), so a change in the
 * engine's API stays here.
 *
 * Leg 'a' faces the caller, leg 'b' the callee. Both are created before any SDP is sent
 * (their ports go into our offer to B and our answer to A), with provisional codecs;
 * apply() sets what offer/answer decided (relayAnswer's LegMedia) and connect() starts
 * the relay A ↔ B. close() releases both legs' sockets and ports; idempotent.
 */
import type { Leg, MediaEngine, CodecSpec } from '../../media/engine/index.js';
import type { LegMedia } from '../../sip/sdp/index.js';
import type { AudioCodecName } from '../../sip/sdp/index.js';
import { AUDIO_CODECS } from '../../sip/sdp/index.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { Logger } from '../logging.js';

export type Side = 'a' | 'b';

export type CallMediaEvents = {
  /** No RTP on a leg for the configured time (the engine's rtpTimeout). */
  timeout: [side: Side, silentMs: number];
  /** An RFC 4733 digit from a party (relayed by the engine; reported for later use). */
  dtmf: [side: Side, digit: string];
};

export class CallMedia extends TypedEmitter<CallMediaEvents> {
  private closing: Promise<void> | undefined;
  private connected = false;

  private constructor(
    private readonly engine: MediaEngine,
    private readonly legs: Record<Side, Leg>,
    private readonly logger: Logger,
  ) {
    super((err, event) => logger.error({ err, event }, 'call media listener failed'));
    for (const side of ['a', 'b'] as const) {
      const leg = legs[side];
      leg.on('rtpTimeout', (e) => this.emit('timeout', side, e.silentMs));
      leg.on('dtmf', (e) => this.emit('dtmf', side, e.digit));
      leg.on('latched', (e) => logger.debug({ side, ...e }, 'RTP latched'));
    }
  }

  /** Two legs for call `callId`, with our codec preference until the answer is known. */
  static async create(
    engine: MediaEngine,
    callId: string,
    codecs: readonly AudioCodecName[],
    logger: Logger,
  ): Promise<CallMedia> {
    const specs = codecs.map((name): CodecSpec => ({
      name,
      payloadType: AUDIO_CODECS[name].payloadType,
    }));
    const a = await engine.createLeg({ codecs: specs, group: callId, callId });
    let b: Leg;
    try {
      b = await engine.createLeg({ codecs: specs, group: callId, callId });
    } catch (err) {
      await a.close();
      throw err;
    }
    return new CallMedia(engine, { a, b }, logger);
  }

  /** Where a party must send its RTP (the `c=` address and `m=` port of our SDP to it). */
  localPort(side: Side): number {
    return this.legs[side].localPort;
  }

  get localAddress(): string {
    return this.legs.a.localAddress;
  }

  /** What offer/answer decided for one leg (RFC 3264): remote address, codec, direction. */
  async apply(side: Side, media: LegMedia): Promise<void> {
    if (this.closing !== undefined) return;
    const leg = this.legs[side];
    // Payload types are the same both ways for G.711's static types; where a peer
    // numbers them differently, we send what it asked for (RFC 3264 §6.1).
    await leg.setCodecs(
      [{ name: media.codec.name, payloadType: media.codec.sendPayloadType }],
      media.telephoneEvent === undefined
        ? null
        : { payloadType: media.telephoneEvent.sendPayloadType },
    );
    const held = media.remote.address === '0.0.0.0' || media.remote.address === '::';
    if (!held) {
      await leg.setRemote({
        address: media.remote.address,
        port: media.remote.port,
        ...(media.remote.rtcp !== undefined ? { rtcpPort: media.remote.rtcp.port } : {}),
        rtcpMux: media.rtcpMux,
      });
    }
    await leg.setDirection(media.direction);
  }

  /** Starts relaying A ↔ B (idempotent). */
  async connect(): Promise<void> {
    if (this.closing !== undefined || this.connected) return;
    this.connected = true;
    await this.engine.connect(this.legs.a, this.legs.b);
  }

  /** Closes both legs (their sockets and ports). Idempotent, never rejects. */
  close(): Promise<void> {
    this.closing ??= Promise.all([this.legs.a.close(), this.legs.b.close()]).then(() => {
      this.removeAllListeners();
    });
    return this.closing;
  }
}
