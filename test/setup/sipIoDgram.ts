/**
 * Jest setup of the "sip on dgram" project (jest.config.js): the SIP transport and
 * integration tests run once more with SIP over node:dgram (test/helpers/sipIo.ts and
 * test/helpers/server.ts read this), so both socket implementations carry the same suite.
 */
process.env.CALLWATCH_SIP_IO = 'dgram';
