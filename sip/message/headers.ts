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
    if (at < 0) this.fields.push({ name: key, value });
    else this.fields.splice(at, 0, { name: key, value });
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

  clone(): SipHeaders {
    return new SipHeaders(this.fields.map((f) => ({ name: f.name, value: f.value })));
  }
}
