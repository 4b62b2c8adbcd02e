import { describe, expect, it } from '@jest/globals';
import {
  digitOfInfo,
  modeOfDigit,
  parseFeatureCode,
} from '../../../../src/monitoring/featureCodes.js';

const CODES = { listen: '*90', whisper: '*91', barge: '*92', takeover: '*93' };
const DIGITS = { listen: '4', whisper: '5', barge: '6', takeover: '7' };

describe('parseFeatureCode', () => {
  it('splits each code from the extension', () => {
    expect(parseFeatureCode('*901001', CODES)).toEqual({ mode: 'listen', target: '1001' });
    expect(parseFeatureCode('*911002', CODES)).toEqual({ mode: 'whisper', target: '1002' });
    expect(parseFeatureCode('*92abc', CODES)).toEqual({ mode: 'barge', target: 'abc' });
    expect(parseFeatureCode('*931003', CODES)).toEqual({ mode: 'takeover', target: '1003' });
  });

  it('ignores ordinary numbers and a bare code', () => {
    expect(parseFeatureCode('1001', CODES)).toBeUndefined();
    expect(parseFeatureCode('*90', CODES)).toBeUndefined();
    expect(parseFeatureCode('*941001', CODES)).toBeUndefined();
    expect(parseFeatureCode('0*901001', CODES)).toBeUndefined();
  });
});

describe('modeOfDigit', () => {
  it('maps the configured digits and nothing else', () => {
    expect(modeOfDigit('4', DIGITS)).toBe('listen');
    expect(modeOfDigit('5', DIGITS)).toBe('whisper');
    expect(modeOfDigit('6', DIGITS)).toBe('barge');
    expect(modeOfDigit('7', DIGITS)).toBe('takeover');
    expect(modeOfDigit('1', DIGITS)).toBeUndefined();
    expect(modeOfDigit('#', DIGITS)).toBeUndefined();
  });
});

describe('digitOfInfo', () => {
  it('reads application/dtmf-relay and application/dtmf', () => {
    expect(digitOfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toBe('5');
    expect(digitOfInfo('Application/DTMF-Relay; x=y', 'signal = 6')).toBe('6');
    expect(digitOfInfo('application/dtmf', '4')).toBe('4');
    expect(digitOfInfo('application/dtmf-relay', 'Signal=10')).toBe('*');
    expect(digitOfInfo('application/dtmf-relay', 'Signal=11')).toBe('#');
  });

  it('ignores other bodies', () => {
    expect(digitOfInfo(undefined, 'Signal=5')).toBeUndefined();
    expect(digitOfInfo('application/sdp', 'Signal=5')).toBeUndefined();
    expect(digitOfInfo('application/dtmf-relay', 'Signal=55')).toBeUndefined();
    expect(digitOfInfo('application/dtmf-relay', 'Duration=160')).toBeUndefined();
  });
});
