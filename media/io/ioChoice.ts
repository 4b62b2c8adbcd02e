/**
 * Which packet io runs: the engine checks once, on its own thread, that the native
 * addon loads (else one warning, and its workers are told 'dgram'); each worker then
 * creates the io it was told, falling back to dgram if the addon fails there anyway (its
 * stats name the io that runs: PacketIo.name).
 */
import type { MediaLogger } from '../engine/logger.js';
import type { PacketIoChoice } from '../worker/protocol.js';
import { DgramPacketIo } from './dgramPacketIo.js';
import { loadNativeAddon } from './nativeBinding.js';
import { NativePacketIo } from './nativePacketIo.js';
import type { PacketIo } from './packetIo.js';

/** `wanted`, or 'dgram' with a warning when it is 'native' and the addon does not load. */
export function chooseIo(wanted: PacketIoChoice, logger: MediaLogger): PacketIoChoice {
  if (wanted === 'dgram') return 'dgram';
  const load = loadNativeAddon();
  if (load.addon !== undefined) return 'native';
  logger.warn(
    { reason: load.error },
    'native packet io unavailable (run `node scripts/build-native.mjs`); media uses node:dgram',
  );
  return 'dgram';
}

/** A new io of the kind chosen (a worker's one io). */
export function createPacketIo(choice: PacketIoChoice): PacketIo {
  if (choice === 'native' && loadNativeAddon().addon !== undefined) {
    try {
      return new NativePacketIo();
    } catch {
      // The event thread could not start (out of fds or threads): dgram still works.
    }
  }
  return new DgramPacketIo();
}
