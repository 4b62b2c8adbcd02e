import { describe, expect, it } from '@jest/globals';
import { parse } from 'sdp-transform';
import { readPlainSdp } from '../../../../sip/sdp/readPlain.js';
import {
  BARESIP,
  BARESIP_MUX,
  G729_ONLY,
  PCMA_ONLY,
  SIPP_UAC,
  SIPP_UAC_PCAP,
  VIDEO_AND_AUDIO,
  sdp,
} from './fixtures.js';

/** readPlainSdp() is a fast path of sdp-transform's parse: same result, or none. */
const PLAIN: Array<[string, string]> = [
  ['SIPp', SIPP_UAC],
  ['SIPp (as captured)', SIPP_UAC_PCAP],
  ['PCMA only', PCMA_ONLY],
  ['G.729 only', G729_ONLY],
  ['video and audio', VIDEO_AND_AUDIO],
  [
    'our own offer: opus with channels and fmtp, two telephone-events, rtcp, IPv6',
    sdp(
      'v=0',
      'o=callwatch 123456789012345678901 2 IN IP6 2001:db8::5',
      's=-',
      'c=IN IP6 2001:db8::5',
      't=0 0',
      'a=sendonly',
      'm=audio 30000 RTP/AVP 111 0 101 110',
      'a=rtpmap:111 opus/48000/2',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=rtpmap:110 telephone-event/48000',
      'a=fmtp:111 useinbandfec=1; minptime=10',
      'a=fmtp:101 0-16',
      'a=fmtp:110 1',
      'a=ptime:22.5',
      'a=rtcp:30001 IN IP6 2001:db8::5',
      'a=inactive',
      'a=rtcp-mux',
      'm=video 0 RTP/AVP 96',
      'a=rtcp:9',
    ),
  ],
  [
    'origin ids with leading zeros, a numeric session name',
    sdp('v=0', 'o=- 0042 007 IN IP4 192.0.2.1', 's=1', 't=0 0'),
  ],
];

const OTHER: Array<[string, string]> = [
  ['baresip (a=rtcp-rsize, a=label…)', BARESIP],
  ['baresip with rtcp-mux', BARESIP_MUX],
  ['bare LF line ends', SIPP_UAC.replace(/\r\n/g, '\n')],
  ['no CRLF after the last line', SIPP_UAC.slice(0, -2)],
  ['a bandwidth line', SIPP_UAC.replace('t=0 0\r\n', 'b=AS:64\r\nt=0 0\r\n')],
  ['a line with junk after the form', SIPP_UAC.replace('PCMU/8000', 'PCMU/8000 x')],
  ['an m-line with a port count', SIPP_UAC.replace(/m=audio (\d+)/, 'm=audio $1/2')],
  ['a line separator inside a line', SIPP_UAC.replace('s=-', 's=a\u2028b')],
  ['an upper-case line type', SIPP_UAC.replace('t=0 0', 'T=0 0')],
  ['an empty line', SIPP_UAC.replace('t=0 0\r\n', 't=0 0\r\n\r\n')],
];

describe('readPlainSdp', () => {
  it.each(PLAIN)('reads what sdp-transform reads: %s', (_name, text) => {
    const fast = readPlainSdp(text);
    expect(fast).toBeDefined();
    expect(fast).toStrictEqual(parse(text));
  });

  it.each(OTHER)('leaves the rest to sdp-transform: %s', (_name, text) => {
    expect(readPlainSdp(text)).toBeUndefined();
  });
});
