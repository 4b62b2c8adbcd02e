import { describe, expect, it } from '@jest/globals';
import { autoAnswerRequested } from '../../../../web/phone/autoAnswer.js';

describe('autoAnswerRequested', () => {
  it('answers what callwatch sends a supervisor: Call-Info answer-after=0', () => {
    expect(autoAnswerRequested(['<sip:127.0.0.1>;answer-after=0'], [])).toBe(true);
    expect(autoAnswerRequested(['<sip:h> ; Answer-After = "0"'], [])).toBe(true);
  });

  it('answers the Alert-Info form too', () => {
    expect(autoAnswerRequested([], ['<http://h/>;info=alert-autoanswer'])).toBe(true);
  });

  it('rings for anything else', () => {
    expect(autoAnswerRequested([], [])).toBe(false);
    expect(autoAnswerRequested(['<sip:h>;answer-after=5'], [])).toBe(false);
    expect(autoAnswerRequested(['<sip:h>;answer-after=05'], [])).toBe(false);
    expect(autoAnswerRequested(['<sip:h>;purpose=icon'], ['<http://h/>;info=alert-ring'])).toBe(
      false,
    );
  });

  it('finds it in any entry of a list', () => {
    expect(autoAnswerRequested(['<http://h/i.png>;purpose=icon, <sip:h>;answer-after=0'], [])).toBe(
      true,
    );
  });
});
