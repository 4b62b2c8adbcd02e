/**
 * The SIP UDP socket the tests run on: CALLWATCH_SIP_IO=native|dgram, default native
 * (the server's default). The "sip on dgram" jest project (jest.config.js) sets dgram,
 * so the SIP transport and integration tests run on both implementations.
 */
import type { SipUdpIo } from '../../sip/transport/datagramSocket.js';

function readIo(value: string | undefined): SipUdpIo {
  if (value === undefined || value === '' || value === 'native') return 'native';
  if (value === 'dgram') return 'dgram';
  throw new Error(`CALLWATCH_SIP_IO=${value}: expected native or dgram`);
}

export const SIP_IO: SipUdpIo = readIo(process.env.CALLWATCH_SIP_IO);
