import { describe, expect, it } from '@jest/globals';
import {
  buildDialogInfo,
  escapeXml,
  type DialogView,
} from '../../../../src/presence/dialogInfo.js';
import { dialogInfoProblems, summarizeDialogInfo } from '../../../helpers/dialogInfoSchema.js';

const RINGING: DialogView = {
  id: 'c1-b',
  callId: 'abc@10.0.0.1',
  localTag: 'phone1',
  remoteTag: 'ours1',
  direction: 'recipient',
  state: 'early',
  local: { uri: 'sip:1002@pbx.example', display: 'Ext 1002' },
  remote: { uri: 'sip:1001@pbx.example', display: 'Alice "A" <Sales> & Co' },
};

describe('dialog-info document (RFC 4235 §4)', () => {
  it('builds a full-state document that the RFC 4235 schema check accepts', () => {
    const xml = buildDialogInfo({
      version: 3,
      state: 'full',
      entity: 'sip:1002@pbx.example',
      dialogs: [
        RINGING,
        {
          id: 'c2-a',
          callId: 'c2',
          direction: 'initiator',
          state: 'terminated',
          event: 'remote-bye',
          local: { uri: 'sip:1002@pbx.example' },
          remote: { uri: 'sip:5551234@pbx.example' },
        },
      ],
    });
    expect(dialogInfoProblems(xml)).toEqual([]);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<dialog-info ')).toBe(true);
    expect(summarizeDialogInfo(xml)).toEqual({
      version: 3,
      state: 'full',
      entity: 'sip:1002@pbx.example',
      dialogs: [
        {
          id: 'c1-b',
          state: 'early',
          direction: 'recipient',
          callId: 'abc@10.0.0.1',
          localTag: 'phone1',
          remoteTag: 'ours1',
          localIdentity: 'sip:1002@pbx.example',
          remoteIdentity: 'sip:1001@pbx.example',
          remoteDisplay: 'Alice "A" <Sales> & Co',
          remoteTarget: 'sip:1001@pbx.example',
        },
        {
          id: 'c2-a',
          state: 'terminated',
          event: 'remote-bye',
          direction: 'initiator',
          callId: 'c2',
          localIdentity: 'sip:1002@pbx.example',
          remoteIdentity: 'sip:5551234@pbx.example',
          remoteTarget: 'sip:5551234@pbx.example',
        },
      ],
    });
  });

  it('an idle extension is a document without dialogs', () => {
    const xml = buildDialogInfo({ version: 0, state: 'full', entity: 'sip:1002@h', dialogs: [] });
    expect(dialogInfoProblems(xml)).toEqual([]);
    expect(summarizeDialogInfo(xml).dialogs).toEqual([]);
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    expect(escapeXml(`a<b>&"c'\u0001\u0007d`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;d');
    const xml = buildDialogInfo({
      version: 0,
      state: 'full',
      entity: 'sip:1002@h',
      dialogs: [{ ...RINGING, remote: { uri: 'sip:1001@h', display: '</identity><x/>\u0000' } }],
    });
    expect(dialogInfoProblems(xml)).toEqual([]);
    expect(summarizeDialogInfo(xml).dialogs[0]?.remoteDisplay).toBe('</identity><x/>');
  });
});

describe('the RFC 4235 schema check itself', () => {
  const ok = buildDialogInfo({
    version: 1,
    state: 'full',
    entity: 'sip:1002@h',
    dialogs: [RINGING],
  });

  it('finds what the schema forbids', () => {
    expect(dialogInfoProblems(ok)).toEqual([]);
    expect(
      dialogInfoProblems(
        ok.replace('<dialog-info', '<dialog-inf').replace('</dialog-info>', '</dialog-inf>'),
      ),
    ).not.toEqual([]);
    expect(dialogInfoProblems(ok.replace('state="full"', 'state="some"'))).toContain(
      'dialog-info: @state "some"',
    );
    expect(dialogInfoProblems(ok.replace(' version="1"', ''))).toContain(
      'dialog-info: missing @version',
    );
    expect(dialogInfoProblems(ok.replace('urn:ietf:params:xml:ns:dialog-info', 'urn:x'))).toContain(
      'dialog-info: namespace "urn:x"',
    );
    expect(dialogInfoProblems(ok.replace('>early<', '>ringing<'))).toContain(
      'dialog[0]/state: "ringing"',
    );
    expect(dialogInfoProblems(ok.replace('direction="recipient"', 'direction="in"'))).toContain(
      'dialog[0]: @direction "in"',
    );
    expect(dialogInfoProblems(ok.replace(' id="c1-b"', ''))).toContain('dialog[0]: missing @id');
    // local after remote: out of the schema's sequence.
    const swapped = ok.replace(/(<local>.*<\/local>)(<remote>.*<\/remote>)/, '$2$1');
    expect(dialogInfoProblems(swapped)).toContain("dialog[0]: <local> out of the schema's order");
    expect(dialogInfoProblems(ok.replace(/<state>early<\/state>/, ''))).toContain(
      'dialog[0]: 0 <state> elements, need 1',
    );
    expect(dialogInfoProblems(ok.replace('<target uri=', '<target url='))).toEqual(
      expect.arrayContaining(['dialog[0]/local/target: missing @uri']),
    );
    expect(dialogInfoProblems(ok.replace('</dialog>', ''))[0]).toMatch(/^not well-formed XML/);
  });
});
