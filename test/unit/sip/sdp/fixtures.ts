/**
 * SDP bodies as real peers send them. SIPp's are its built-in `uac` and `uac_pcap`
 * scenarios with the keywords filled in; baresip's is what 1.x/2.x/3.x put in an INVITE
 * with the G.711 codecs and telephone-event enabled.
 */

/** Joins lines with CRLF and ends the body with one (RFC 4566 §5). */
export function sdp(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

/** SIPp `-sn uac`: PCMU only. */
export const SIPP_UAC = sdp(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);

/** SIPp `-sn uac_pcap`: PCMA and telephone-event. */
export const SIPP_UAC_PCAP = sdp(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-11,16',
);

/** baresip: G.711 both laws and telephone-event, with its usual extra attributes. */
export const BARESIP = sdp(
  'v=0',
  'o=- 1184474919 1779633733 IN IP4 192.168.1.10',
  's=-',
  'c=IN IP4 192.168.1.10',
  't=0 0',
  'm=audio 10004 RTP/AVP 0 8 101',
  'b=AS:64',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=rtcp-rsize',
  'a=ssrc:3299428848 cname:sip:1001@192.168.1.10',
  'a=mid:0',
  'a=ptime:20',
  'a=label:1',
);

/** baresip with `rtcp_mux yes`. */
export const BARESIP_MUX = BARESIP.replace('a=rtcp-rsize\r\n', 'a=rtcp-rsize\r\na=rtcp-mux\r\n');

/** A phone that only does A-law. */
export const PCMA_ONLY = sdp(
  'v=0',
  'o=- 42 1 IN IP4 10.0.0.7',
  's=-',
  'c=IN IP4 10.0.0.7',
  't=0 0',
  'm=audio 20000 RTP/AVP 8',
  'a=rtpmap:8 PCMA/8000',
  'a=ptime:20',
);

/** Only G.729 (static 18): nothing in common with us. */
export const G729_ONLY = sdp(
  'v=0',
  'o=- 7 7 IN IP4 10.0.0.8',
  's=-',
  'c=IN IP4 10.0.0.8',
  't=0 0',
  'm=audio 30000 RTP/AVP 18',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
);

/** A video phone: video first, then audio. */
export const VIDEO_AND_AUDIO = sdp(
  'v=0',
  'o=- 5 5 IN IP4 10.0.0.9',
  's=-',
  'c=IN IP4 10.0.0.9',
  't=0 0',
  'm=video 40000 RTP/AVP 96 97',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=rtpmap:97 VP8/90000',
  'm=audio 40002 RTP/AVP 8 0 101',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
);

/** The baresip offer with another direction attribute (a re-INVITE putting us on hold). */
export function baresipWith(direction: string, version = '1779633734'): string {
  return BARESIP.replace('a=sendrecv', `a=${direction}`).replace('1779633733', version);
}
