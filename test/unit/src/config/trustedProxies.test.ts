/**
 * cluster.trustedProxies: the proxies whose requests' digest failures count against the
 * phone's address in the Via stack (sip/auth/proxiedSource.ts). A bad entry fails the
 * config load, naming the key and the reason.
 */
import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '../../../../src/config/load.js';

function problemsOf(document: unknown): string[] {
  try {
    parseConfig(document);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('cluster.trustedProxies', () => {
  it('is empty by default and takes IPv4 and IPv6 addresses', () => {
    expect(parseConfig({}).cluster.trustedProxies).toEqual([]);
    expect(
      parseConfig({ cluster: { trustedProxies: ['127.0.0.1', '2001:db8::1'] } }).cluster
        .trustedProxies,
    ).toEqual(['127.0.0.1', '2001:db8::1']);
  });

  it('refuses a host name, a CIDR range and a repeated address, naming the key', () => {
    expect(problemsOf({ cluster: { trustedProxies: ['kamailio.local', '10.0.0.0/8'] } })).toEqual([
      'cluster.trustedProxies[0]: not an IP address (a proxy is trusted by the address its requests come from)',
      'cluster.trustedProxies[1]: not an IP address (a proxy is trusted by the address its requests come from)',
    ]);
    expect(problemsOf({ cluster: { trustedProxies: ['10.0.0.1', '10.0.0.1'] } })).toEqual([
      'cluster.trustedProxies: an address is listed twice',
    ]);
    expect(problemsOf({ cluster: { trustedProxies: '10.0.0.1' } })[0]).toMatch(
      /^cluster\.trustedProxies: /,
    );
  });
});
