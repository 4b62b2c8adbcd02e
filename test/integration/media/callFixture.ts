/**
 * Two fake phones and two legs, connected (A ← B, B ← A), as a B2BUA would set them up:
 * each leg knows its phone's address from "SDP" (the `remote`), and both share a group.
 */
import type { Leg } from '../../../media/engine/leg.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { RemoteAddress } from '../../../media/worker/protocol.js';
import { FakePhone } from './fakePhone.js';
import type { Law } from './fakePhone.js';

export interface Side {
  law: Law;
  pt: number;
  /** telephone-event payload type, if negotiated. */
  te?: number;
  forwardDtmf?: boolean;
  /** Override the signalled address (default: the phone's own). */
  remote?: RemoteAddress;
}

export interface Call {
  phoneA: FakePhone;
  phoneB: FakePhone;
  legA: Leg;
  legB: Leg;
}

let calls = 0;

export async function createLegFor(
  engine: MediaEngine,
  phone: FakePhone,
  side: Side,
  group?: string,
): Promise<Leg> {
  return engine.createLeg({
    codecs: [{ name: side.law, payloadType: side.pt }],
    telephoneEvent: side.te === undefined ? null : { payloadType: side.te },
    remote: side.remote ?? { address: '127.0.0.1', port: phone.port },
    forwardDtmf: side.forwardDtmf ?? true,
    group,
    callId: group,
  });
}

/** Phones and legs are closed by the caller (phones) and by engine.close (legs). */
export async function twoPartyCall(engine: MediaEngine, a: Side, b: Side): Promise<Call> {
  const group = `call-${++calls}`;
  const [phoneA, phoneB] = await Promise.all([FakePhone.open(), FakePhone.open()]);
  const legA = await createLegFor(engine, phoneA, a, group);
  const legB = await createLegFor(engine, phoneB, b, group);
  await engine.connect(legA, legB);
  return { phoneA, phoneB, legA, legB };
}
