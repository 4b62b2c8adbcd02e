/**
 * The typed API client: openapi-fetch over the types openapi-typescript generates from
 * the server's OpenAPI document at build time (schema.gen.ts). The browser sends the
 * session cookie with every request (same origin); no token is held by the page.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema.gen.js';
import { refusalSentence } from '../refusals.js';

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

/** A refused request, with the sentence to show and the server's code. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    serverMessage: string | undefined,
  ) {
    super(refusalSentence(code, serverMessage));
    this.name = 'ApiRefusal';
  }
}

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful call, or throws ApiRefusal with the refusal in words. */
export async function ok<T>(call: Promise<Outcome<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { error?: { code?: string; message?: string } };
  throw new ApiRefusal(response.status, body.error?.code, body.error?.message);
}

/** The sentence for any failure (a refusal, or the network). */
export function sentenceOf(err: unknown): string {
  if (err instanceof ApiRefusal) return err.message;
  return 'The server cannot be reached. Check the connection and try again.';
}
