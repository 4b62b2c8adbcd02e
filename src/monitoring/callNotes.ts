/**
 * What people add to a live call besides its media: tags (free labels a supervisor or an
 * integration puts on it, shown and filtered in the live-call listing) and a raised hand
 * (docs/architecture.md §4.7: an agent asks for a supervisor; from the API or a DTMF sequence keyed on
 * the agent's phone). A hand is lowered when a supervisor joins, by the agent, or when
 * the call ends. Everything is forgotten with the call.
 *
 * The DTMF sequence is matched per call on the agent's digits: the last digits keyed
 * within `sequenceWindowMs` of each other, compared with the configured sequence.
 */
import { TypedEmitter } from '../../sip/util/typedEmitter.js';

export interface HandState {
  raisedAt: number;
  /** Who raised it: an extension or an API token's name. */
  by: string;
}

/** What raised or lowered a hand (the audit log's trigger). */
export type HandTrigger = 'api' | 'dtmf' | 'system';

export type HandChange = {
  callId: string;
  agent: string | null;
  by: string;
  trigger: HandTrigger;
  /** Why it was lowered (raised: 'raised'). */
  reason: 'raised' | 'lowered' | 'supervisor-joined' | 'call-ended';
};

export type CallNotesEvents = {
  handRaised: [HandChange];
  handLowered: [HandChange];
};

/** Digits further apart than this start a new sequence. */
const SEQUENCE_WINDOW_MS = 3000;
export const MAX_TAGS = 32;

interface Notes {
  agent: string | null;
  tags: string[];
  hand: HandState | undefined;
  digits: string;
  lastDigitAt: number;
}

export class CallNotes extends TypedEmitter<CallNotesEvents> {
  private readonly calls = new Map<string, Notes>();

  constructor(
    private readonly raiseHandDtmf: string | null,
    private readonly now: () => number,
  ) {
    super();
  }

  /** Starts keeping notes for a call (idempotent). */
  open(callId: string, agent: string | null): void {
    if (!this.calls.has(callId)) {
      this.calls.set(callId, { agent, tags: [], hand: undefined, digits: '', lastDigitAt: 0 });
    }
  }

  /** The call ended: a raised hand is lowered, the notes forgotten. */
  close(callId: string): void {
    const notes = this.calls.get(callId);
    if (notes === undefined) return;
    if (notes.hand !== undefined) this.lower(callId, 'system', 'call-ended', 'system');
    this.calls.delete(callId);
  }

  tags(callId: string): string[] {
    return [...(this.calls.get(callId)?.tags ?? [])];
  }

  /** Adds tags (deduplicated, at most MAX_TAGS); false when the call is unknown. */
  addTags(callId: string, tags: readonly string[]): boolean {
    const notes = this.calls.get(callId);
    if (notes === undefined) return false;
    for (const tag of tags) {
      if (!notes.tags.includes(tag) && notes.tags.length < MAX_TAGS) notes.tags.push(tag);
    }
    return true;
  }

  hand(callId: string): HandState | undefined {
    return this.calls.get(callId)?.hand;
  }

  /** Raises the call's hand; false when the call is unknown. Raising twice is a no-op. */
  raise(callId: string, by: string, trigger: HandTrigger = 'api'): boolean {
    const notes = this.calls.get(callId);
    if (notes === undefined) return false;
    if (notes.hand !== undefined) return true;
    notes.hand = { raisedAt: this.now(), by };
    this.emit('handRaised', { callId, agent: notes.agent, by, trigger, reason: 'raised' });
    return true;
  }

  /** Lowers the call's hand; false when the call is unknown. */
  lower(
    callId: string,
    by: string,
    reason: Exclude<HandChange['reason'], 'raised'> = 'lowered',
    trigger: HandTrigger = 'api',
  ): boolean {
    const notes = this.calls.get(callId);
    if (notes === undefined) return false;
    if (notes.hand === undefined) return true;
    notes.hand = undefined;
    this.emit('handLowered', { callId, agent: notes.agent, by, trigger, reason });
    return true;
  }

  /** A digit keyed on the agent's phone: raises the hand when the sequence completes. */
  agentDigit(callId: string, digit: string): void {
    const notes = this.calls.get(callId);
    const sequence = this.raiseHandDtmf;
    if (notes === undefined || sequence === null) return;
    const now = this.now();
    if (now - notes.lastDigitAt > SEQUENCE_WINDOW_MS) notes.digits = '';
    notes.lastDigitAt = now;
    notes.digits = (notes.digits + digit).slice(-sequence.length);
    if (notes.digits === sequence) {
      notes.digits = '';
      this.raise(callId, notes.agent ?? 'agent', 'dtmf');
    }
  }
}
