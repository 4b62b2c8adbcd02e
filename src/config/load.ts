/**
 * Loads and validates a YAML config file. Errors name the key and the reason
 * (`sip.listen.udpPort: expected number, received string`) so a bad config fails at
 * start with something a person can act on.
 */
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

function keyPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

function describe(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${keyPath([...issue.path, k])}: unknown key`);
  }
  return [`${keyPath(issue.path) || '(top level)'}: ${issue.message}`];
}

/** Validates an already parsed document. */
export function parseConfig(document: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(document ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap(describe);
  throw new ConfigError(`invalid ${source}:\n  ${problems.join('\n  ')}`, problems);
}

export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(`config ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseConfig(document, `config ${path}`);
}
