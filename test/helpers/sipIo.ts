/**
 * The SIP UDP socket the tests run on: CALLWATCH_SIP_IO=native|dgram, default native
 * (the server's default). The "sip on dgram" jest project (jest.config.js) sets dgram,
 * so the SIP transport and integration tests run on both implementations.
 */
import { loadNativeAddon } from '../../media/io/nativeBinding.js';
import type { SipUdpIo } from '../../sip/transport/datagramSocket.js';
import type { NativeSipAddon } from '../../sip/transport/nativeSipSocket.js';

function readIo(value: string | undefined): SipUdpIo {
  if (value === undefined || value === '' || value === 'native') return 'native';
  if (value === 'dgram') return 'dgram';
  throw new Error(`CALLWATCH_SIP_IO=${value}: expected native or dgram`);
}

export const SIP_IO: SipUdpIo = readIo(process.env.CALLWATCH_SIP_IO);

/** The addon when the tests run native (throws when it does not load: a real failure). */
function nativeAddon(): NativeSipAddon | undefined {
  if (SIP_IO === 'dgram') return undefined;
  const load = loadNativeAddon();
  if (load.addon === undefined) throw new Error(`CALLWATCH_SIP_IO=native: ${load.error}`);
  return load.addon;
}

/** Transport options that select SIP_IO: `native` for UdpTransport, `udpNative` for TransportLayer. */
export const SIP_NATIVE = nativeAddon();
export const udpIoOptions = (): { native?: NativeSipAddon } =>
  SIP_NATIVE !== undefined ? { native: SIP_NATIVE } : {};
export const layerIoOptions = (): { udpNative?: NativeSipAddon } =>
  SIP_NATIVE !== undefined ? { udpNative: SIP_NATIVE } : {};
