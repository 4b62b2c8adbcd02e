/**
 * Blind transfer (REFER, RFC 3515) over the raw SIP rigs: a party REFERs in its dialog,
 * reads the server's NOTIFYs (message/sipfrag), and the target, a raw extension phone
 * (ExtensionPhone), answers or refuses the server's INVITE.
 *
 *   expect((await refer(call.b, '1003')).status).toBe(202);
 *   const trying = await nthNotify(call.b, 1);        // answered 200
 *   const t = await answerInvite(target, sdp(targetPhone.port));
 */
import { randomToken, type SipMessageView } from '../helpers/sipClient.js';
import { RawDialog, responseTo } from './calls-rawRig.js';
import type { ExtensionPhone } from './monitoring-rig.js';

/**
 * Sends REFER with `Refer-To: <sip:target@127.0.0.1>` (or `<target>` when it is a SIP URI
 * already) and the `extra` header lines; resolves with its final response.
 */
export function refer(
  dialog: RawDialog,
  target: string,
  extra: string[] = [],
): Promise<SipMessageView> {
  const { text, cseq } = dialog.request('REFER');
  const uri = target.startsWith('sip:') ? target : `sip:${target}@127.0.0.1`;
  const headers = [`Refer-To: <${uri}>`, ...extra].join('\r\n');
  dialog.client.send(
    text.replace('\r\nContent-Length:', `\r\n${headers}\r\nContent-Length:`),
    dialog.serverPort,
  );
  return dialog.client.waitForResponse(dialog.callId, 'REFER', 5000, cseq);
}

/** The server's NOTIFYs in `dialog` so far, one per CSeq (retransmissions dropped). */
export function notifiesIn(dialog: RawDialog): SipMessageView[] {
  const seen = new Set<number>();
  return dialog.client.received
    .map((r) => r.message)
    .filter((m) => {
      if (m.isResponse || m.method !== 'NOTIFY' || m.callId !== dialog.callId) return false;
      if (seen.has(m.cseq ?? -1)) return false;
      seen.add(m.cseq ?? -1);
      return true;
    });
}

/** The `n`th NOTIFY (1-based) in `dialog`, answered 200. */
export async function nthNotify(dialog: RawDialog, n: number): Promise<SipMessageView> {
  if (notifiesIn(dialog).length < n) {
    await dialog.client.waitFor(() => notifiesIn(dialog).length >= n, 5000);
  }
  const notify = notifiesIn(dialog)[n - 1] as SipMessageView;
  dialog.client.send(responseTo(notify, 200), dialog.serverPort);
  return notify;
}

/** The next INVITE the phone gets (not one seen before index `after`). */
export async function nextInvite(phone: ExtensionPhone, after = 0): Promise<SipMessageView> {
  return phone.client.nextNewRequest('INVITE', after);
}

/** The phone answers `invite` 200 with `answer` and waits for the ACK: its dialog. */
export async function answerInvite(
  phone: ExtensionPhone,
  invite: SipMessageView,
  answer: string,
): Promise<RawDialog> {
  const tag = randomToken(4);
  phone.client.send(
    responseTo(invite, 200, { toTag: tag, body: answer, contactPort: phone.client.localPort }),
    phone.serverPort,
  );
  await phone.client.waitForAck(invite, tag);
  const contact = invite.header('Contact') ?? '';
  return new RawDialog(
    phone.client,
    phone.serverPort,
    invite.callId as string,
    `${invite.header('To') as string};tag=${tag}`,
    invite.header('From') as string,
    /<([^>]+)>/.exec(contact)?.[1] ?? contact,
    0,
  );
}

/** The phone refuses `invite` with `status` (the server ACKs it). */
export async function refuseInvite(
  phone: ExtensionPhone,
  invite: SipMessageView,
  status: number,
): Promise<void> {
  const tag = randomToken(4);
  phone.client.send(responseTo(invite, status, { toTag: tag }), phone.serverPort);
  await phone.client.waitForAck(invite, tag);
}
