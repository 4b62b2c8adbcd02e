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

const media = z
  .strictObject({
    /** Address the RTP sockets bind to. */
    address: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
    /** Address written in SDP (c=); null = sip.advertisedAddress, else media.address. */
    advertisedAddress: z.string().min(1).nullable().default(null),
    /** RTP ports (even; RTCP on the odd port above). */
    portRange: z
      .strictObject({
        min: z.number().int().min(1024).max(65534).default(20000),
        max: z.number().int().min(1025).max(65535).default(29999),
      })
      .prefault({})
      .refine((r) => r.max - r.min >= 3, { message: 'max must be at least min + 3' }),
    /** Media worker threads; null = one per core. */
    workers: z.number().int().min(1).max(64).nullable().default(null),
    /** A call whose RTP stops for this long is ended. */
    rtpTimeoutSec: z.number().int().positive().default(30),
    /** Phones behind NAT: within this window the first RTP from anywhere is latched. */
    latchWindowMs: z.number().int().min(0).default(3000),
  })
  .refine((m) => m.portRange.min % 2 === 0, {
    message: 'portRange.min must be even (RTP on even ports)',
    path: ['portRange', 'min'],
  });

const calls = z.strictObject({
  /** An unanswered call is given up with 480 after this long. */
  noAnswerTimeoutSec: z.number().int().positive().default(60),
  /** Codecs offered and accepted, in order of preference. */
  codecs: z
    .array(z.enum(['PCMU', 'PCMA']))
    .min(1)
    .default(['PCMU', 'PCMA']),
});

const trunk = z.strictObject({
  /** A name for logs and metrics. */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - (1-32)'),
  /** Where calls to the trunk are sent, and the addresses its calls come from. */
  host: z.ipv4().or(z.ipv6()),
  port: port.default(5060),
  transport: z.enum(['udp', 'tcp']).default('udp'),
  /** Inbound calls must come from this source port too; null = any port. Set it when the
   * trunk shares an address with phones (everything on one host, as in the demo). */
  sourcePort: port.nullable().default(null),
  /** Other source addresses the trunk's calls may come from. */
  extraSourceAddresses: z.array(z.ipv4().or(z.ipv6())).default([]),
  /** Optional digest credentials the trunk must also present on inbound calls. */
  inboundAuth: z
    .strictObject({ username: z.string().min(1), password: z.string().min(4) })
    .nullable()
    .default(null),
  /** Dialled numbers starting with one of these go out through this trunk. */
  prefixes: z.array(z.string().regex(/^[0-9+*#]{1,16}$/)).default([]),
  /** Strip the matched prefix before sending the number to the trunk. */
  stripPrefix: z.boolean().default(false),
  /** Inbound: the DID (Request-URI user) a customer dialled → the extension it rings. */
  dids: z.record(z.string().regex(/^[0-9+*#A-Za-z._-]{1,32}$/), z.string()).default({}),
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
    media: media.prefault({}),
    calls: calls.prefault({}),
    trunks: z.array(trunk).default([]),
    log: log.prefault({}),
    extensions: z.array(extension).default([]),
  })
  .superRefine((config, ctx) => {
    const numbers = new Set(config.extensions.map((e) => e.number));
    config.trunks.forEach((t, i) => {
      if (t.inboundAuth !== null && numbers.has(t.inboundAuth.username)) {
        ctx.addIssue({
          code: 'custom',
          path: ['trunks', i, 'inboundAuth', 'username'],
          message: `${t.inboundAuth.username} is an extension number; a trunk needs its own`,
        });
      }
      for (const [did, ext] of Object.entries(t.dids)) {
        if (!numbers.has(ext)) {
          ctx.addIssue({
            code: 'custom',
            path: ['trunks', i, 'dids', did],
            message: `DID ${did} maps to ${ext}, which is not an extension`,
          });
        }
      }
    });
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
export type TrunkConfig = Config['trunks'][number];
