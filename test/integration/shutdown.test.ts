/**
 * Graceful shutdown: SIGTERM → exit code 0 within a few seconds, even with an open SIP
 * TCP connection and an HTTP keep-alive connection, and every port free afterwards.
 */
import { describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { isPortFree } from '../helpers/ports.js';
import { startServer } from '../helpers/server.js';
import { SipClient } from '../helpers/sipClient.js';

describe('shutdown', () => {
  it('exits 0 on SIGTERM within 5 s and frees its ports', async () => {
    const server = await startServer();
    const { sipPort, httpPort } = server;

    // An idle SIP TCP connection (after one transaction) and an HTTP keep-alive connection.
    const tcp = await SipClient.tcp(sipPort);
    const { response } = await tcp.request(
      { method: 'OPTIONS', target: `127.0.0.1:${sipPort}` },
      sipPort,
    );
    expect(response.status).toBe(200);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: httpPort, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });
    expect(status).toBe(200);

    const t0 = Date.now();
    try {
      // stop() throws (with the server's output) unless the exit code is 0 within graceMs.
      expect(await server.stop({ graceMs: 5000 })).toBe(0);
    } finally {
      agent.destroy();
    }
    expect(Date.now() - t0).toBeLessThan(5000);

    // The server closed the SIP TCP connection on its way out.
    await new Promise((r) => setTimeout(r, 100));
    expect(tcp.closed).toBe(true);
    await tcp.close();

    expect(await isPortFree(sipPort, { udp: true, tcp: true })).toBe(true);
    expect(await isPortFree(httpPort, { udp: false, tcp: true })).toBe(true);
  });

  it('exits 0 on SIGTERM right after start', async () => {
    const server = await startServer();
    expect(await server.stop({ graceMs: 5000 })).toBe(0);
    expect(await isPortFree(server.sipPort)).toBe(true);
  });
});
