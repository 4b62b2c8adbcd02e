/** A minimal SDP offer from 127.0.0.1 for raw-client call tests. */
export function sdpOffer(mLine = 'm=audio 40000 RTP/AVP 0', extra: string[] = []): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    mLine,
    ...extra,
    '',
  ].join('\r\n');
}
