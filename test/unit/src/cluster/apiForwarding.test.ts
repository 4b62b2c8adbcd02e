import { describe, expect, it } from '@jest/globals';
import { clusterApiUrl } from '../../../../src/cluster/apiUrl.js';
import { forwardTarget } from '../../../../src/cluster/forwardTargets.js';
import { parseConfig } from '../../../../src/config/load.js';

describe('forwardTarget: which API requests belong to the instance anchoring a call', () => {
  it('takes every route under /v1/calls/:id by its call id', () => {
    for (const [method, url] of [
      ['GET', '/v1/calls/:id'],
      ['POST', '/v1/calls/:id/monitors'],
      ['POST', '/v1/calls/:id/tags'],
      ['POST', '/v1/calls/:id/hand'],
      ['DELETE', '/v1/calls/:id/hand'],
      ['POST', '/v1/calls/:id/invite'],
    ] as const) {
      expect(forwardTarget(method, url, { id: 'c1' })).toEqual({ kind: 'call', id: 'c1' });
    }
  });

  it("takes a session's PATCH and DELETE by its session id", () => {
    expect(forwardTarget('PATCH', '/v1/monitors/:id', { id: 'm1' })).toEqual({
      kind: 'monitor',
      id: 'm1',
    });
    expect(forwardTarget('DELETE', '/v1/monitors/:id', { id: 'm1' })).toEqual({
      kind: 'monitor',
      id: 'm1',
    });
  });

  it('takes a Yeastar request by the extension it monitors', () => {
    expect(
      forwardTarget(
        'POST',
        '/api/v1.1.0/extension/listen',
        {},
        {
          listener: '1005',
          listenedext: '1002',
        },
      ),
    ).toEqual({ kind: 'extension', extension: '1002' });
    expect(
      forwardTarget(
        'POST',
        '/api/v1.1.0/extension/whisper',
        {},
        {
          whisperer: 1005,
          whisperedext: 1003,
        },
      ),
    ).toEqual({ kind: 'extension', extension: '1003' });
    expect(
      forwardTarget(
        'POST',
        '/api/v1.1.0/extension/barge',
        {},
        {
          bargein: '1005',
          bargedext: ' 1004 ',
        },
      ),
    ).toEqual({ kind: 'extension', extension: '1004' });
    // A blank field is refused (10004) where it arrived, as on one instance.
    expect(
      forwardTarget('POST', '/api/v1.1.0/extension/listen', {}, { listener: '1005' }),
    ).toBeUndefined();
    expect(
      forwardTarget(
        'POST',
        '/api/v1.1.0/extension/listen',
        {},
        {
          whisperer: '1005',
          whisperedext: '1002',
        },
      ),
    ).toBeUndefined();
    expect(forwardTarget('POST', '/api/v1.1.0/extension/listen', {}, null)).toBeUndefined();
    expect(
      forwardTarget(
        'POST',
        '/api/v1.1.0/extension/hangup',
        {},
        {
          listener: '1005',
          listenedext: '1002',
        },
      ),
    ).toBeUndefined();
  });

  it('takes a CTI SetSilentMonitoring by its ToAddress', () => {
    const message = (data: unknown) => ({
      channel: 'Cisco',
      topic: 'Agent',
      subtopic: 'SetSilentMonitoring',
      data,
    });
    expect(
      forwardTarget(
        'POST',
        '/api/cti/messages',
        {},
        message({ FromAddress: '1005', ToAddress: '1002' }),
      ),
    ).toEqual({ kind: 'extension', extension: '1002' });
    expect(
      forwardTarget(
        'POST',
        '/api/cti/messages',
        {},
        message({ fromaddress: 1005, toaddress: 1002 }),
      ),
    ).toEqual({ kind: 'extension', extension: '1002' });
    // What the adapter refuses itself (400) stays where it arrived.
    expect(
      forwardTarget('POST', '/api/cti/messages', {}, message({ FromAddress: '1005' })),
    ).toBeUndefined();
    expect(
      forwardTarget(
        'POST',
        '/api/cti/messages',
        {},
        { ...message({ FromAddress: '1005', ToAddress: '1002' }), channel: 'Avaya' },
      ),
    ).toBeUndefined();
  });

  it('leaves everything else where it arrived', () => {
    expect(forwardTarget('GET', '/v1/calls', {})).toBeUndefined();
    expect(forwardTarget('GET', '/v1/callsX/:id', { id: 'c1' })).toBeUndefined();
    expect(forwardTarget('GET', '/v1/monitors/:id', { id: 'm1' })).toBeUndefined();
    expect(forwardTarget('GET', '/v1/extensions/:ext/presence', { ext: '1001' })).toBeUndefined();
    expect(forwardTarget('POST', '/v1/calls/:id/monitors', { id: '' })).toBeUndefined();
    expect(forwardTarget('POST', '/v1/calls/:id/monitors', null)).toBeUndefined();
    expect(forwardTarget('POST', undefined, { id: 'c1' })).toBeUndefined();
  });
});

describe('clusterApiUrl: where the other instances reach this API', () => {
  it('is the HTTP listener, or the configured URL', () => {
    expect(clusterApiUrl(parseConfig({ http: { address: '127.0.0.2', port: 8080 } }), false)).toBe(
      'http://127.0.0.2:8080',
    );
    expect(clusterApiUrl(parseConfig({ http: { address: '::1', port: 8443 } }), true)).toBe(
      'https://[::1]:8443',
    );
    expect(
      clusterApiUrl(parseConfig({ cluster: { apiUrl: 'https://cw-a.example:9000' } }), false),
    ).toBe('https://cw-a.example:9000');
  });

  it('names the SIP address for a wildcard listener, and nothing without HTTP', () => {
    const wildcard = parseConfig({
      http: { address: '0.0.0.0', port: 8080 },
      sip: { advertisedAddress: '10.1.2.3' },
    });
    expect(clusterApiUrl(wildcard, false)).toBe('http://10.1.2.3:8080');
    expect(clusterApiUrl(parseConfig({ http: { port: null } }), false)).toBe('');
  });

  it('refuses a URL with a path', () => {
    expect(() => parseConfig({ cluster: { apiUrl: 'http://a:1/api' } })).toThrow(/apiUrl/);
  });
});
