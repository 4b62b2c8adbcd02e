import { describe, expect, it } from '@jest/globals';
import { allBrowsers, anchorOf, contactKind, legPlan } from '../../../../src/calls/contactKind.js';

const BROWSER = 'sip:1002@df7jal23ls0d.invalid;transport=ws';
const SECURE_BROWSER = 'sip:1002@df7jal23ls0d.invalid;Transport = WSS';
const DESK = 'sip:1002-0x55f8@127.0.0.1:5070';
const DESK_TCP = 'sip:1002@127.0.0.1:5070;transport=tcp';

describe('contactKind: which offer a registered contact gets', () => {
  it('is a browser for SIP over WebSocket (ws or wss, any case and spacing), a phone otherwise', () => {
    expect(contactKind(BROWSER)).toBe('browser');
    expect(contactKind(SECURE_BROWSER)).toBe('browser');
    expect(contactKind(DESK)).toBe('phone');
    expect(contactKind(DESK_TCP)).toBe('phone');
    expect(contactKind('sip:1002@127.0.0.1;transport=wsx')).toBe('phone');
  });

  it('a browser is offered WebRTC, a phone plain RTP', () => {
    expect(anchorOf('browser')).toBe('webrtc');
    expect(anchorOf('phone')).toBe('plain');
  });

  it('allBrowsers needs at least one contact, all of them browsers', () => {
    expect(allBrowsers([])).toBe(false);
    expect(allBrowsers([BROWSER, SECURE_BROWSER])).toBe(true);
    expect(allBrowsers([BROWSER, DESK])).toBe(false);
  });
});

describe('legPlan: the legs a callee side needs before its forks go out', () => {
  it('only browsers: the leg itself is WebRTC, no second leg', () => {
    expect(legPlan([BROWSER])).toEqual({ leg: 'webrtc', webRtcCandidate: false });
    expect(legPlan([BROWSER, SECURE_BROWSER])).toEqual({ leg: 'webrtc', webRtcCandidate: false });
  });

  it('only phones, or none (a trunk): one plain leg', () => {
    expect(legPlan([DESK, DESK_TCP])).toEqual({ leg: 'plain', webRtcCandidate: false });
    expect(legPlan([])).toEqual({ leg: 'plain', webRtcCandidate: false });
  });

  it('a browser and a desk phone at once: a plain leg and a WebRTC candidate beside it', () => {
    expect(legPlan([DESK, BROWSER])).toEqual({ leg: 'plain', webRtcCandidate: true });
    expect(legPlan([BROWSER, DESK, SECURE_BROWSER])).toEqual({
      leg: 'plain',
      webRtcCandidate: true,
    });
  });
});
