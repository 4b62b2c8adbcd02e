/**
 * The configuration schema. Every key has a default (documented in
 * config/default.yaml), unknown keys are errors, and each error names its key path.
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const positiveMs = z.number().int().positive();

const extension = z.strictObject({
  /** The SIP user part phones register as. */
  number: z.string().regex(/^[0-9A-Za-z._-]{1,32}$/, 'letters, digits, . _ - (1-32 characters)'),
  password: z.string().min(4, 'at least 4 characters'),
  displayName: z.string().max(64).optional(),
  role: z.enum(['agent', 'supervisor']).default('agent'),
});

const sip = z.strictObject({
  listen: z
    .strictObject({
      address: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
      udpPort: port.nullable().default(5060),
      tcpPort: port.nullable().default(5060),
    })
    .prefault({}),
  advertisedAddress: z.string().min(1).nullable().default(null),
  domains: z.array(z.string().min(1)).default([]),
  timers: z
    .strictObject({
      t1Ms: positiveMs.default(500),
      t2Ms: positiveMs.default(4000),
      t4Ms: positiveMs.default(5000),
    })
    .prefault({})
    .refine((t) => t.t2Ms >= t.t1Ms, { message: 't2Ms must be at least t1Ms' }),
  maxMessageBytes: z.number().int().min(1500).max(1_048_576).default(65535),
  tcpIdleTimeoutSec: z.number().int().positive().default(600),
  userAgent: z.string().min(1).default('callwatch'),
});

const auth = z.strictObject({
  realm: z.string().min(1).default('callwatch'),
  algorithms: z
    .array(z.enum(['SHA-256', 'MD5']))
    .min(1)
    .default(['MD5'])
    .refine((a) => new Set(a).size === a.length, { message: 'an algorithm is listed twice' }),
  nonceLifetimeSec: z.number().int().positive().default(300),
  lockout: z
    .strictObject({
      maxFailures: z.number().int().positive().default(10),
      windowSec: z.number().int().positive().default(60),
      lockSec: z.number().int().positive().default(120),
    })
    .prefault({}),
});

const registrar = z
  .strictObject({
    minExpires: z.number().int().min(1).default(60),
    maxExpires: z.number().int().positive().default(3600),
    defaultExpires: z.number().int().positive().default(3600),
    maxContactsPerExtension: z.number().int().positive().default(10),
  })
  .refine((r) => r.maxExpires >= r.minExpires, {
    message: 'maxExpires must be at least minExpires',
  });

const http = z.strictObject({
  address: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
  port: port.nullable().default(8080),
});

const log = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const configSchema = z
  .strictObject({
    sip: sip.prefault({}),
    auth: auth.prefault({}),
    registrar: registrar.prefault({}),
    http: http.prefault({}),
    log: log.prefault({}),
    extensions: z.array(extension).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.extensions.forEach((ext, i) => {
      if (seen.has(ext.number)) {
        ctx.addIssue({
          code: 'custom',
          path: ['extensions', i, 'number'],
          message: `duplicate extension ${ext.number}`,
        });
      }
      seen.add(ext.number);
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ExtensionConfig = Config['extensions'][number];
