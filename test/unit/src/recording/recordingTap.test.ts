import { describe, expect, it } from '@jest/globals';
import { configSchema, type Config } from '../../../../src/config/schema.js';
import type { CallRecord } from '../../../../src/calls/callRecord.js';
import type { Logger } from '../../../../src/logging.js';
import { RecordingTap, rolesOf, safeName } from '../../../../src/recording/recordingTap.js';

const record = (direction: CallRecord['direction']): CallRecord => ({
  id: 'c1',
  caller: '1001',
  callee: '1002',
  direction,
  state: 'answered',
  startedAt: 0,
});

function tap(config: Record<string, unknown>): RecordingTap {
  const parsed: Config = configSchema.parse(config);
  return new RecordingTap(parsed, {} as Logger, 0);
}

describe('rolesOf', () => {
  it('outbound: the caller (an extension) is the agent', () => {
    expect(rolesOf(record('outbound'))).toEqual({ a: 'agent', b: 'customer' });
  });
  it('inbound: the callee is the agent', () => {
    expect(rolesOf(record('inbound'))).toEqual({ a: 'customer', b: 'agent' });
  });
  it('internal: the callee is the agent', () => {
    expect(rolesOf(record('internal'))).toEqual({ a: 'customer', b: 'agent' });
  });
});

describe('safeName', () => {
  it('keeps letters, digits, dot, dash and underscore', () => {
    expect(safeName('abc-DEF_012.x')).toBe('abc-DEF_012.x');
  });
  it('replaces everything else (a Call-ID host, slashes, spaces, quotes)', () => {
    expect(safeName('a1b2@127.0.0.1')).toBe('a1b2_127.0.0.1');
    expect(safeName('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(safeName('x y"z;$(rm)')).toBe('x_y_z___rm_');
  });
  it('replaces non-ASCII characters', () => {
    expect(safeName('appel-é')).toBe('appel-_');
  });
  it('cuts to 80 characters', () => {
    expect(safeName('a'.repeat(200))).toBe('a'.repeat(80));
  });
  it('never yields a path separator', () => {
    expect(safeName('/\\:*?<>|')).not.toMatch(/[/\\]/);
  });
});

describe('RecordingTap.records', () => {
  const extensions = [
    { number: '1001', password: 'pw1001', record: false },
    { number: '1002', password: 'pw1002', record: true },
    { number: '1003', password: 'pw1003' },
  ];

  it('recording enabled: every agent extension but those with record: false', () => {
    const t = tap({ extensions, recording: { enabled: true } });
    expect(t.records('1001')).toBe(false);
    expect(t.records('1002')).toBe(true);
    expect(t.records('1003')).toBe(true);
  });

  it('recording disabled: only extensions with record: true', () => {
    const t = tap({ extensions, recording: { enabled: false } });
    expect(t.records('1001')).toBe(false);
    expect(t.records('1002')).toBe(true);
    expect(t.records('1003')).toBe(false);
  });

  it('no agent extension (a trunk on both sides) or an unknown one: recording.enabled', () => {
    expect(tap({ extensions, recording: { enabled: true } }).records(undefined)).toBe(true);
    expect(tap({ extensions, recording: { enabled: false } }).records(undefined)).toBe(false);
    expect(tap({ extensions, recording: { enabled: true } }).records('9999')).toBe(true);
  });

  it('no recording is active before any call', () => {
    expect(tap({ extensions }).active).toBe(0);
  });
});
