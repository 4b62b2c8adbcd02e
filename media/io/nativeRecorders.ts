/**
 * The native io's recordings (native/tap_recorder.h, docs/architecture.md §3.7) behind
 * PacketIo's `recorders`: times move between performance.now()'s clock and the event
 * thread's (CLOCK_MONOTONIC) here, as the relay's state does in nativePacketIo.ts.
 */
import type { NativeIoHandle } from './nativeBinding.js';
import type { IoRecorders } from './packetIo.js';

export class NativeIoRecorders implements IoRecorders {
  constructor(
    private readonly handle: NativeIoHandle,
    /** performance.now() minus the addon's CLOCK_MONOTONIC ms. */
    private readonly clockOffset: number,
  ) {}

  open(
    rate: number,
    frameSamples: number,
    channels: 1 | 2,
    startMs: number,
    seconds: number,
  ): number {
    return this.handle.recorderOpen(
      rate,
      frameSamples,
      channels,
      startMs - this.clockOffset,
      seconds,
    );
  }

  close(id: number): void {
    this.handle.recorderClose(id);
  }

  tracks(id: number, trackOfSlot: Int32Array): boolean {
    return this.handle.recorderTracks(id, trackOfSlot);
  }

  placeLaw(
    id: number,
    slot: number,
    law: number,
    packet: Uint8Array,
    from: number,
    to: number,
    arrivalMs: number,
  ): boolean {
    return this.handle.recorderPlaceLaw(
      id,
      slot,
      law,
      packet,
      from,
      to,
      arrivalMs - this.clockOffset,
    );
  }

  placePcm(
    id: number,
    slot: number,
    pcm: Int16Array,
    count: number,
    ssrc: number,
    seq: number,
    ts: number,
    clockRate: number,
    arrivalMs: number,
  ): boolean {
    return this.handle.recorderPlacePcm(
      id,
      slot,
      pcm,
      count,
      ssrc,
      seq,
      ts,
      clockRate,
      arrivalMs - this.clockOffset,
    );
  }

  take(id: number, target: number, out: Int16Array, at: number, maxFrames: number): number {
    return this.handle.recorderTake(id, target, out, at, maxFrames);
  }

  stats(id: number, out: Float64Array): boolean {
    return this.handle.recorderStats(id, out);
  }
}
