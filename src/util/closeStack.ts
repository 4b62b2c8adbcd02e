/**
 * What a start-up has opened, closed in reverse order (the transactional start of
 * server.ts): each resource is pushed the moment it is open, so a start that fails
 * half-way closes exactly what it had opened, and a normal close() runs the same list.
 *
 * `closeAll` tries every closer even when one fails (a failed close must not leave the
 * sockets after it open), then reports the failures: it resolves with them so the caller
 * decides whether to log or to throw. It runs once; later calls return the same promise.
 */
export interface CloseFailure {
  readonly name: string;
  readonly error: unknown;
}

export class CloseStack {
  private readonly closers: { name: string; close: () => unknown }[] = [];
  private closing: Promise<CloseFailure[]> | undefined;

  /** Names of the resources open now, oldest first (for tests and logs). */
  get names(): string[] {
    return this.closers.map((c) => c.name);
  }

  /** Registers how to close a resource just opened. */
  push(name: string, close: () => unknown): void {
    if (this.closing !== undefined) {
      throw new Error(`cannot register ${name}: already closing`);
    }
    this.closers.push({ name, close });
  }

  /** Closes everything registered, newest first; resolves with what failed to close. */
  closeAll(): Promise<CloseFailure[]> {
    this.closing ??= (async () => {
      const failures: CloseFailure[] = [];
      for (let c = this.closers.pop(); c !== undefined; c = this.closers.pop()) {
        try {
          await c.close();
        } catch (error) {
          failures.push({ name: c.name, error });
        }
      }
      return failures;
    })();
    return this.closing;
  }
}
