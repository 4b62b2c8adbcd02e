/**
 * A start-up step failed (server.ts opens everything transactionally): the message names
 * the step, the config key that decides it and the reason, e.g.
 * `cannot start: HTTP listener on 127.0.0.1:8080 (http.port): listen EADDRINUSE …`.
 */
export class StartError extends Error {
  constructor(
    /** What was being opened, e.g. "HTTP listener on 127.0.0.1:8080". */
    readonly step: string,
    /** The config key that decides it, e.g. "http.port". */
    readonly key: string,
    cause: unknown,
  ) {
    super(`cannot start: ${step} (${key}): ${reasonOf(cause)}`, { cause });
    this.name = 'StartError';
  }
}

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one start-up step: its failure becomes a StartError naming it (one raised inside
 * by a finer step is kept as it is). */
export async function startStep<T>(
  step: string,
  key: string,
  work: () => Promise<T> | T,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof StartError ? err : new StartError(step, key, err);
  }
}
