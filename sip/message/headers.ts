import { canonicalHeaderName } from './headerNames.js';

/** One header field: canonical name and its raw (trimmed, unfolded) value. */
export interface HeaderField {
  readonly name: string;
  value: string;
}

/**
 * An ordered, case-insensitive header collection. List headers hold one entry per
 * list element (the parser splits `Via: a, b`), so `getAll('Via')` is the Via stack in
 * order. Values are kept exactly as received, which keeps Contacts byte-exact.
 */
export class SipHeaders {
  private readonly fields: HeaderField[];

  /**
   * Parsed values of this message's header texts, as flat (key, text, value) triples.
   * Every layer reads the top Via, CSeq, From and To; parsing each once per message
   * instead of at every layer is a large share of a REGISTER's cost. Keyed by the text,
   * so editing a header simply makes a new entry: nothing to invalidate. A flat array
   * (a handful of entries) allocates far less than Maps, which matters for GC.
   */
  private memo: unknown[] | undefined;

  constructor(fields: HeaderField[] = []) {
    this.fields = fields;
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const key = canonicalHeaderName(name);
    for (const f of this.fields) if (f.name === key) return f.value;
    return undefined;
  }

  /** Every value of `name`, in message order. */
  getAll(name: string): string[] {
    const key = canonicalHeaderName(name);
    const out: string[] = [];
    for (const f of this.fields) if (f.name === key) out.push(f.value);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** How many entries `name` has. */
  count(name: string): number {
    const key = canonicalHeaderName(name);
    let n = 0;
    for (const f of this.fields) if (f.name === key) n++;
    return n;
  }

  /** Replaces every value of `name` by `value` (at the position of the first one). */
  set(name: string, value: string): this {
    const key = canonicalHeaderName(name);
    const at = this.fields.findIndex((f) => f.name === key);
    this.remove(key);
    if (at < 0) this.fields.push({ name: key, value });
    else this.fields.splice(at, 0, { name: key, value });
    return this;
  }

  /** Adds a value after the existing ones. */
  append(name: string, value: string): this {
    this.fields.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Adds a value before the existing values of the same name (a new top Via). */
  prepend(name: string, value: string): this {
    const key = canonicalHeaderName(name);
    const at = this.fields.findIndex((f) => f.name === key);
    // With no value yet the header goes first: a request's first Via belongs on top.
    this.fields.splice(Math.max(at, 0), 0, { name: key, value });
    return this;
  }

  /** Removes every value of `name`. */
  remove(name: string): this {
    const key = canonicalHeaderName(name);
    let kept = 0;
    for (let i = 0; i < this.fields.length; i++) {
      const field = this.fields[i] as HeaderField;
      if (field.name !== key) this.fields[kept++] = field;
    }
    this.fields.length = kept;
    return this;
  }

  /** Removes and returns the first value of `name` (pops the top Via). */
  shift(name: string): string | undefined {
    const key = canonicalHeaderName(name);
    const at = this.fields.findIndex((f) => f.name === key);
    if (at < 0) return undefined;
    const [removed] = this.fields.splice(at, 1);
    return removed?.value;
  }

  /** Replaces the first value of `name`, keeping its position. */
  replaceFirst(name: string, value: string): this {
    const key = canonicalHeaderName(name);
    const field = this.fields.find((f) => f.name === key);
    if (field) field.value = value;
    else this.fields.push({ name: key, value });
    return this;
  }

  /** How many fields (list elements count one each). */
  get size(): number {
    return this.fields.length;
  }

  /** All fields in order. */
  entries(): readonly HeaderField[] {
    return this.fields;
  }

  /**
   * `parse(text)`, computed once per text and parser for this message. The value is
   * shared by every caller: treat it as read-only (to change a header, format a new value
   * and set it). `key` lets a stricter parser fill the entry a lenient one reads.
   */
  parseCached<T>(text: string, parse: (text: string) => T, key: unknown = parse): T {
    const memo = (this.memo ??= []);
    for (let i = 0; i < memo.length; i += 3) {
      if (memo[i] === key && memo[i + 1] === text) return memo[i + 2] as T;
    }
    const value = parse(text);
    if (memo.length < 48) memo.push(key, text, value);
    return value;
  }

  /**
   * Forgets the parsed values. A server transaction keeps its request for up to 64·T1
   * after answering (to absorb retransmissions); the parsed forms are only needed while
   * the request is being handled, and keeping them alive that long costs GC time.
   */
  dropParsed(): void {
    this.memo = undefined;
  }

  clone(): SipHeaders {
    return new SipHeaders(this.fields.map((f) => ({ name: f.name, value: f.value })));
  }
}
