/**
 * A copy of `text` that shares no memory with the string it was cut from. V8 keeps a
 * substring of 13 characters or more as a slice of its parent, so a key cut from a
 * received message and stored in a long-lived Map keeps the whole message text alive.
 * Prefixing makes a rope; slicing the rope flattens it into fresh characters.
 */
export function detached(text: string): string {
  return ` ${text}`.slice(1);
}
