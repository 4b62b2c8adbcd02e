/**
 * Whether an incoming INVITE asks to be answered at once: `Call-Info: <…>;answer-after=0`
 * (the RFC 5373-era convention desk phones follow; RFC 7462 style) or
 * `Alert-Info: <…>;info=alert-autoanswer`. callwatch sends both when it rings a
 * supervisor's phone for monitoring (src/monitoring/supervisorLeg.ts). Pure.
 */
export function autoAnswerRequested(callInfo: readonly string[], alertInfo: readonly string[]) {
  const param = (values: readonly string[], re: RegExp) =>
    values.some((v) => v.split(',').some((entry) => re.test(entry)));
  return (
    param(callInfo, /;\s*answer-after\s*=\s*"?0+"?\s*(?:;|$)/i) ||
    param(alertInfo, /;\s*info\s*=\s*"?alert-autoanswer"?\s*(?:;|$)/i)
  );
}
