/**
 * The configuration schema. Every key has a default (documented in
 * config/default.yaml), unknown keys are errors, and each error names its key path.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { RECORDING_FORMATS } from '../../media/worker/protocol.js';
import { MONITOR_MODES } from '../monitoring/modes.js';
import type { MonitorMode } from '../monitoring/modes.js';

const port = z.number().int().min(0).max(65535);

/**
 * A permission mode as an octal string ('0640'). A YAML 0640 without quotes is the decimal
 * 640 (YAML 1.2), so numbers are refused with a message saying to quote the mode.
 */
const octalMode = (kind: 'file' | 'dir', fallback: number) => {
  const owner = kind === 'file' ? 0o600 : 0o700;
  return z
    .string({ error: "an octal mode as a quoted string, e.g. '0640'" })
    .regex(/^0?[0-7]{3}$/, "an octal mode of three digits, e.g. '0640'")
    .transform((text) => parseInt(text, 8))
    .refine((mode) => (mode & owner) === owner, {
      message: `the owner (the server) needs ${kind === 'file' ? 'read and write (0600)' : 'read, write and search (0700)'}`,
    })
    .default(fallback);
};
const positiveMs = z.number().int().positive();

const extension = z.strictObject({
  /** The SIP user part phones register as. */
  number: z.string().regex(/^[0-9A-Za-z._-]{1,32}$/, 'letters, digits, . _ - (1-32 characters)'),
  password: z.string().min(4, 'at least 4 characters'),
  displayName: z.string().max(64).optional(),
  /** Signs in to the web app with this password instead of the SIP one (POST /v1/session). */
  webPassword: z.string().min(8, 'at least 8 characters').max(256).optional(),
  /** The scope of its web sessions; supervisor and admin see the Call Monitor, admin all. */
  role: z.enum(['agent', 'supervisor', 'admin']).default('agent'),
  /** Record this extension's calls: null follows recording.enabled. */
  record: z.boolean().nullable().default(null),
  /** false: this extension's calls may not be monitored, whatever its groups say. */
  allowMonitoring: z.boolean().default(true),
  /** May invite another agent into its call as a third party (POST /v1/calls/{id}/invite). */
  callMonitorAccess: z.boolean().default(false),
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
  /**
   * Socket of SIP over UDP: 'native' (the addon built at npm install: an event thread
   * reading with recvmmsg, sendto without a callback) or 'dgram' (node:dgram). When the
   * addon does not load, the server logs a warning and uses dgram. TCP is unaffected.
   */
  io: z.enum(['native', 'dgram']).default('native'),
  /**
   * SIP over WebSocket (RFC 7118) on the HTTP server at /sip, subprotocol `sip` (`wss`
   * when http.tls is set). Browsers register here like phones, with digest.
   */
  webSocket: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Upgrades beyond this many open connections are refused with 503. */
      maxConnections: z.number().int().min(1).max(100_000).default(1000),
      /** A WebSocket ping this often; a connection that missed the previous pong is dropped. */
      pingIntervalSec: z.number().int().min(1).max(3600).default(30),
      /** A connection with no SIP message or CRLF keep-alive for this long is closed. */
      idleTimeoutSec: z.number().int().min(1).default(3900),
    })
    .prefault({}),
  userAgent: z.string().min(1).default('callwatch'),
  /**
   * Warm-up before the SIP sockets open (docs/architecture.md §8.5): synthetic REGISTER and
   * call exchanges through throwaway instances for at most budgetMs of wall time, so a
   * restart under a registration storm does not start with a backlog. 0 turns it off.
   */
  warmup: z
    .strictObject({
      budgetMs: z
        .number({ error: 'a number of milliseconds (0 turns the warm-up off)' })
        .int('a whole number of milliseconds')
        .min(0, '0 (off) or more milliseconds')
        .max(5000, 'at most 5000 ms (a warm-up that long only delays the start)')
        .default(500),
    })
    .prefault({}),
  /**
   * Overload protection (sip/core/overload.ts): while the SIP thread is behind, new
   * requests outside a dialog get 503 + Retry-After instead of being processed late.
   */
  overload: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxQueueDelayMs: positiveMs.default(200),
      maxLoopDelayMs: positiveMs.default(500),
      sampleMs: z.number().int().min(10).max(10_000).default(100),
      windows: z.number().int().min(1).max(100).default(2),
      retryAfterSec: z.number().int().min(0).max(3600).default(5),
    })
    .prefault({}),
});

/**
 * Failures per source address: after maxFailures within windowSec the source is locked out
 * for lockSec (SIP digest and API tokens share the limiter, so they share this shape).
 */
function failureLockout(lockSecDefault: number) {
  return z
    .strictObject({
      maxFailures: z.number().int().positive().default(10),
      windowSec: z.number().int().positive().default(60),
      lockSec: z.number().int().positive().default(lockSecDefault),
    })
    .prefault({});
}

const auth = z.strictObject({
  realm: z.string().min(1).default('callwatch'),
  algorithms: z
    .array(z.enum(['SHA-256', 'MD5']))
    .min(1)
    .default(['MD5'])
    .refine((a) => new Set(a).size === a.length, { message: 'an algorithm is listed twice' }),
  nonceLifetimeSec: z.number().int().positive().default(300),
  lockout: failureLockout(120),
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
    /**
     * Packet io of the media sockets: 'native' (the addon built at npm install: epoll,
     * recvmmsg, its own event thread per worker) or 'dgram' (node:dgram). When the addon
     * is not built or does not load, the server logs a warning and uses dgram.
     */
    io: z.enum(['native', 'dgram']).default('native'),
    /** Media worker threads; null = one per core. */
    workers: z.number().int().min(1).max(64).nullable().default(null),
    /** A call whose RTP stops for this long is ended. */
    rtpTimeoutSec: z.number().int().positive().default(30),
    /** Phones behind NAT: within this window the first RTP from anywhere is latched. */
    latchWindowMs: z.number().int().min(0).default(3000),
    /** Playout delay of the mixer's jitter buffers (monitored calls, recordings). */
    jitter: z
      .strictObject({
        minDepthMs: z.number().int().min(0).max(1000).default(20),
        maxDepthMs: z.number().int().min(0).max(1000).default(200),
      })
      .prefault({})
      .refine((j) => j.maxDepthMs >= j.minDepthMs, {
        message: 'maxDepthMs must be at least minDepthMs',
        path: ['maxDepthMs'],
      }),
  })
  .refine((m) => m.portRange.min % 2 === 0, {
    message: 'portRange.min must be even (RTP on even ports)',
    path: ['portRange', 'min'],
  });

const calls = z.strictObject({
  /** An unanswered call is given up with 480 after this long. */
  noAnswerTimeoutSec: z.number().int().positive().default(60),
  /**
   * Codecs offered and accepted, in order of preference (our own offers list them in this
   * order; a relayed offer keeps the caller's order). G.711 first: a caller or callee that
   * only speaks G.711 is answered as before. G.722 and Opus follow, so an HD phone calling
   * an HD phone stays HD end to end (relayed), and one calling a G.711 trunk keeps its
   * wideband codec while the engine transcodes.
   */
  codecs: z
    .array(z.enum(['PCMU', 'PCMA', 'G722', 'opus']))
    .min(1)
    .refine((c) => new Set(c).size === c.length, { message: 'a codec is listed twice' })
    .default(['PCMU', 'PCMA', 'G722', 'opus']),
  /**
   * Dialled by a queue member: pauses it in every queue it belongs to, or unpauses it
   * (docs/architecture.md §9.5). The INVITE is answered 603 with the new state as the
   * reason phrase (`Paused` / `Unpaused`), so the phone shows it and no call is set up.
   */
  queuePauseCode: z
    .string()
    .regex(/^[*#0-9]{1,8}$/, 'digits, * and # (1-8)')
    .default('*46'),
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

/** A tone played by the mixer (a beep, the barge entry tone). */
const tone = z.strictObject({
  frequencies: z.array(z.number().int().min(50).max(3950)).min(1).max(2),
  levelDbm0: z.number().int().min(-60).max(3).default(-18),
  onMs: z.number().int().min(20).max(10000),
  offMs: z.number().int().min(0).max(10000).default(0),
  repeat: z.number().int().min(1).max(10).default(1),
});

/**
 * A call queue (docs/architecture.md §9.5): callers wait, hearing hold audio, while the
 * members (extensions) are rung by the strategy; after maxWaitSec the caller overflows.
 */
const queueNumber = z
  .string()
  .regex(/^[0-9A-Za-z._-]{1,32}$/, 'letters, digits, . _ - (1-32 characters)');

/** Where a caller goes after the maximum wait: an extension or queue, or a final status. */
const queueOverflow = z.union([
  z.strictObject({ extension: z.string().min(1) }),
  z.strictObject({
    hangup: z.strictObject({
      /** The queue answered the caller at once, so it gets a BYE carrying this status
       * as `Reason: SIP;cause=…;text=…` (RFC 3326). */
      status: z.number().int().min(400).max(699),
      reason: z.string().min(1).max(64).default('Queue Timeout'),
    }),
  }),
]);

/**
 * What a waiting caller hears: a tone repeated, or a WAV file looped (mono 16-bit PCM,
 * G.711 or stereo converted; 8 or 16 kHz; read at start, docs/architecture.md §6.9).
 */
const holdAudio = z
  .strictObject({ tone: tone.optional(), file: z.string().min(1).optional() })
  .transform((h, ctx): { tone: z.infer<typeof tone> } | { file: string } => {
    if ((h.file === undefined) === (h.tone === undefined)) {
      ctx.issues.push({
        code: 'custom',
        input: h,
        message: 'give either a tone or a WAV file: { tone: ... } or { file: path }',
      });
      return z.NEVER;
    }
    return h.file !== undefined ? { file: h.file } : { tone: h.tone as z.infer<typeof tone> };
  });

const queue = z.strictObject({
  /** The number callers dial (an extension's or a DID's target). */
  number: queueNumber,
  name: z.string().min(1).max(64),
  /** Extensions rung for the waiting callers, in this order (roundrobin's order). */
  members: z.array(z.string()).min(1),
  /**
   * ringall: every free member at once, the first to answer wins; roundrobin: one at a
   * time, the member after the last one rung; longest-idle: one at a time, the member
   * idle the longest.
   */
  strategy: z.enum(['ringall', 'roundrobin', 'longest-idle']).default('ringall'),
  /** How long one member rings before the next is tried (ringall: before a new round). */
  ringTimeSec: z.number().int().min(1).max(600).default(15),
  /** After a queue call a member rests this long before it is rung again. */
  wrapUpSec: z.number().int().min(0).max(3600).default(0),
  /** A caller waiting this long overflows. */
  maxWaitSec: z.number().int().min(1).max(86_400).default(300),
  overflow: queueOverflow.default({ hangup: { status: 480, reason: 'Queue Timeout' } }),
  /** Repeated every onMs + offMs while a caller waits (repeat: tones per cycle). */
  holdAudio: holdAudio.default({
    tone: { frequencies: [425], levelDbm0: -24, onMs: 400, offMs: 1600, repeat: 1 },
  }),
  /**
   * Every everySec of waiting the caller hears `intro` ("you are caller number") then
   * `numbers[position - 1]` (WAV files, read at start); the hold audio pauses meanwhile.
   * A caller further back than the numbers go hears nothing. null: off.
   */
  announcePosition: z
    .strictObject({
      everySec: z.number().int().min(2).max(3600).default(30),
      prompts: z.strictObject({
        intro: z.string().min(1),
        numbers: z.array(z.string().min(1)).min(1).max(99),
      }),
    })
    .nullable()
    .default(null),
});

const dtmfDigit = z.string().regex(/^[0-9*#A-D]$/, 'one DTMF digit: 0-9, *, #, A-D');
const featureCode = z.string().regex(/^[*#0-9]{1,8}$/, 'digits, * and # (1-8)');

/** Yeastar's monitor modes (all = every mode, takeover included) plus takeover alone. */
const groupMode = z.enum(['all', ...MONITOR_MODES]);

/** One setting per monitor mode, each with its own default. */
function perMode<T extends z.ZodType>(
  setting: (mode: MonitorMode) => T,
): z.ZodObject<Record<MonitorMode, T>, z.core.$strict> {
  const shape = Object.fromEntries(MONITOR_MODES.map((mode) => [mode, setting(mode)]));
  return z.strictObject(shape as Record<MonitorMode, T>);
}

const FEATURE_CODE_DEFAULTS: Record<MonitorMode, string> = {
  listen: '*90',
  whisper: '*91',
  barge: '*92',
  takeover: '*93',
};
const DTMF_DEFAULTS: Record<MonitorMode, string> = {
  listen: '4',
  whisper: '5',
  barge: '6',
  takeover: '7',
};

const monitoringGroup = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - (1-32)'),
  /** Extensions that may monitor the members. */
  monitors: z.array(z.string()).min(1),
  /** Extensions whose calls the monitors may join. */
  members: z.array(z.string()).min(1),
  modes: z.array(groupMode).min(1).default(['all']),
});

const monitoring = z
  .strictObject({
    /** Off unless enabled: then the groups say who may monitor whom, in which modes. */
    enabled: z.boolean().default(false),
    groups: z.array(monitoringGroup).default([]),
    /** Agents' event streams say when they are monitored, and in which mode. */
    notifyAgents: z.boolean().default(true),
    /**
     * What the monitored are told. agent: an agent's calls in /v1/calls list who monitors
     * them (monitoredBy) and its event stream carries monitor.* about its calls (both off
     * when false; notifyAgents: false turns them off too).
     */
    notices: z.strictObject({ agent: z.boolean().default(true) }).prefault({}),
    /** DTMF an agent keys to raise a hand (relayed to the other party like any digit). */
    raiseHandDtmf: z
      .string()
      .regex(/^[0-9*#A-D]{1,8}$/, 'DTMF digits 0-9 * # A-D (1-8)')
      .nullable()
      .default('##'),
    /** Legs in one call, monitors included (customer + agent + supervisors). */
    maxParticipants: z.number().int().min(3).max(16).default(3),
    /** Dialled by a supervisor, followed by the agent's extension (Yeastar convention). */
    featureCodes: perMode((mode) => featureCode.default(FEATURE_CODE_DEFAULTS[mode])).prefault({}),
    /** In-call digits from the supervisor's phone (ChanSpy convention); consumed. */
    dtmf: perMode((mode) => dtmfDigit.default(DTMF_DEFAULTS[mode])).prefault({}),
    tones: z
      .strictObject({
        /** Played to the agent when a monitor joins or changes mode; null: off. */
        monitorBeep: tone
          .nullable()
          .default({ frequencies: [1400], levelDbm0: -18, onMs: 120, offMs: 0, repeat: 1 }),
        /** Played to every party when a supervisor barges in; null: off. */
        bargeEntry: tone
          .nullable()
          .default({ frequencies: [1200], levelDbm0: -18, onMs: 100, offMs: 100, repeat: 2 }),
      })
      .prefault({}),
  })
  .superRefine((m, ctx) => {
    const codes = Object.entries(m.featureCodes);
    codes.forEach(([mode, code]) => {
      for (const [other, prefix] of codes) {
        if (other !== mode && code.startsWith(prefix)) {
          ctx.addIssue({
            code: 'custom',
            path: ['featureCodes', mode],
            message: `${code} starts with ${other}'s code ${prefix}: dialled numbers would be ambiguous`,
          });
        }
      }
    });
    const digits = Object.entries(m.dtmf);
    digits.forEach(([mode, digit]) => {
      if (digits.some(([other, d]) => other !== mode && d === digit)) {
        ctx.addIssue({
          code: 'custom',
          path: ['dtmf', mode],
          message: `digit ${digit} is used by another mode too`,
        });
      }
    });
  });

/**
 * `format` used to be the channel layout (stereo | mono): such a config still loads, as
 * format wav with that layout in `channels`. The old key wins over a `channels` that only
 * restates the default (stereo); a `channels: mono` beside `format: stereo` contradicts
 * it and is left to fail validation on `format`.
 */
const legacyRecordingFormat = (x: unknown): unknown => {
  if (typeof x !== 'object' || x === null) return x;
  const o = x as Record<string, unknown>;
  const legacy = o.format === 'stereo' || o.format === 'mono';
  if (legacy && (o.channels === undefined || o.channels === 'stereo')) {
    return { ...o, format: 'wav', channels: o.format };
  }
  return x;
};

const recording = z.preprocess(
  legacyRecordingFormat,
  z.strictObject({
    /** Record calls (per extension: extensions[].record overrides). */
    enabled: z.boolean().default(true),
    /** Where recordings and their JSON sidecars go (relative: to the working directory). */
    directory: z.string().min(1).default('recordings'),
    /** wav: 16-bit PCM; wav-g711: µ-law or A-law (the call's law); ogg-opus: RFC 7845. */
    format: z.enum(RECORDING_FORMATS).default('wav'),
    /** stereo: customer left, agent right; mono: both summed. */
    channels: z.enum(['stereo', 'mono']).default('stereo'),
    /** Permissions of recordings and sidecars, and of the folders created for them. */
    fileMode: octalMode('file', 0o640),
    dirMode: octalMode('dir', 0o750),
  }),
);

/** A prompt: a WAV file (16-bit PCM or G.711, mono, 8 or 16 kHz), read and checked at start. */
const promptFile = z.string().min(1).nullable().default(null);

/**
 * Prompts played into calls (never into a recording). Paths are relative to the working
 * directory; a file that is missing or not a fitting WAV fails the start naming its key.
 */
const announcements = z.strictObject({
  /** To the caller when the call is answered, before the parties hear each other. */
  callerOnAnswer: promptFile,
  /** To the agent alone when a monitoring session begins (any mode, any trigger). */
  agentOnMonitor: promptFile,
});

/** A bearer token of the REST API and the event stream. */
const apiToken = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'letters, digits, . _ - (1-32)'),
  token: z.string().min(16, 'at least 16 characters').max(256),
  /** admin: everything; supervisor/agent: acts as `extension` and sees what it may. */
  scope: z.enum(['admin', 'supervisor', 'agent']),
  extension: z.string().nullable().default(null),
});

const api = z.strictObject({
  tokens: z.array(apiToken).default([]),
  /** Wrong tokens per source address (REST bearer, ?token= of the event stream and the
   * Yeastar endpoints): after maxFailures within windowSec the address gets 429, even
   * with a right token, for lockSec. Requests without any token do not count. */
  authLockout: failureLockout(300),
  /** Web sign-in sessions (POST /v1/session): in memory, gone after idleTimeoutSec unused;
   * at most maxSessions (the least recently used goes first). With cluster.redis: in
   * Redis, valid on every instance (idleTimeoutSec applies there too). */
  sessions: z
    .strictObject({
      idleTimeoutSec: z.number().int().min(60).max(604_800).default(28_800),
      maxSessions: z.number().int().min(1).max(1_000_000).default(10_000),
    })
    .prefault({}),
});

const audit = z.strictObject({
  /** Append-only JSON lines of every monitoring action (relative: to the working directory). */
  file: z.string().min(1).default('audit/monitoring.jsonl'),
  /** Permissions of the audit file, and of the folders created for it. */
  fileMode: octalMode('file', 0o640),
  dirMode: octalMode('dir', 0o750),
});

const http = z.strictObject({
  address: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
  port: port.nullable().default(8080),
  /**
   * HTTPS (and `wss` for SIP over WebSocket): PEM files read at start. null: plain HTTP,
   * fine on loopback (browsers treat localhost as a secure context).
   */
  tls: z
    .strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
    })
    .nullable()
    .default(null),
});

/** BLF keys: the dialog event package (RFC 4235) over RFC 6665 subscriptions. */
const presence = z
  .strictObject({
    /** Who may watch whom: `monitoring` (whom one may monitor, and oneself) or `all`. */
    blf: z.enum(['monitoring', 'all']).default('monitoring'),
    /** Subscription length bounds (RFC 6665 §4.2.1.1); below the minimum is 423. */
    minExpiresSec: z.number().int().min(1).default(60),
    maxExpiresSec: z.number().int().min(1).default(3600),
    /** When a SUBSCRIBE gives no Expires (RFC 4235 §3.3 suggests 3600). */
    defaultExpiresSec: z.number().int().min(1).default(3600),
    /** Subscriptions one extension may hold, one extension may have, one address may hold. */
    maxPerWatcher: z.number().int().min(1).default(64),
    maxPerWatched: z.number().int().min(1).default(64),
    maxPerSource: z.number().int().min(1).default(256),
    /** Retry-After of the 503 a refused (over the limits) SUBSCRIBE gets. */
    retryAfterSec: z.number().int().min(1).default(30),
  })
  .superRefine((p, ctx) => {
    if (p.minExpiresSec > p.maxExpiresSec) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxExpiresSec'],
        message: `below minExpiresSec (${p.minExpiresSec})`,
      });
    }
    if (p.defaultExpiresSec < p.minExpiresSec || p.defaultExpiresSec > p.maxExpiresSec) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultExpiresSec'],
        message: `outside minExpiresSec..maxExpiresSec (${p.minExpiresSec}..${p.maxExpiresSec})`,
      });
    }
  });

/** Several instances behind one SIP proxy, sharing state through Redis (off: null). */
const cluster = z.strictObject({
  /** This instance's name in the shared state; default `<SIP address>:<UDP port>`. */
  instanceId: z.string().min(1).max(64).nullable().default(null),
  /** Redis holding the shared registrations and live calls; null runs one instance alone. */
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
      /** Prefix of every key, so several deployments may share one Redis. */
      keyPrefix: z.string().max(64).default('callwatch:'),
    })
    .nullable()
    .default(null),
  /**
   * Where the other instances reach this instance's HTTP API, to hand it requests about the
   * calls it anchors (docs/architecture.md "Several instances"); default
   * `http(s)://<sip.advertisedAddress ?? http.address>:<http.port>`.
   */
  apiUrl: z
    .string()
    .regex(/^https?:\/\/[^/]+$/, 'an http:// or https:// URL without a path')
    .nullable()
    .default(null),
  /** How long a request handed to the owning instance may take (a monitor start rings). */
  forwardTimeoutMs: z.number().int().min(100).max(120_000).default(30_000),
  /** How often an instance writes its live calls again, and how long an entry lasts. */
  callRefreshMs: z.number().int().min(100).max(60_000).default(1000),
  callTtlMs: z.number().int().min(500).max(600_000).default(5000),
  /**
   * SIP proxies in front of the instances (Kamailio's address). A digest failure in a
   * request from one of them counts against the phone's address in the Via stack below
   * the proxy's, not the proxy's own (sip/auth/proxiedSource.ts); IP addresses.
   */
  trustedProxies: z
    .array(
      z.string().refine((a) => isIP(a) !== 0, {
        message: 'not an IP address (a proxy is trusted by the address its requests come from)',
      }),
    )
    .max(64)
    .default([])
    .refine((a) => new Set(a).size === a.length, { message: 'an address is listed twice' }),
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
    monitoring: monitoring.prefault({}),
    presence: presence.prefault({}),
    recording: recording.prefault({}),
    announcements: announcements.prefault({}),
    api: api.prefault({}),
    audit: audit.prefault({}),
    log: log.prefault({}),
    cluster: cluster.prefault({}),
    extensions: z.array(extension).default([]),
    queues: z.array(queue).default([]),
  })
  .superRefine((config, ctx) => {
    if (config.cluster.callTtlMs <= config.cluster.callRefreshMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'callTtlMs'],
        message: `must be longer than callRefreshMs (${config.cluster.callRefreshMs})`,
      });
    }
    const numbers = new Set(config.extensions.map((e) => e.number));
    const queueNumbers = new Set(config.queues.map((q) => q.number));
    const pause = config.calls.queuePauseCode;
    for (const [mode, code] of Object.entries(config.monitoring.featureCodes)) {
      if (code.startsWith(pause) || pause.startsWith(code)) {
        ctx.addIssue({
          code: 'custom',
          path: ['calls', 'queuePauseCode'],
          message: `${pause} and ${mode}'s feature code ${code}: one starts with the other`,
        });
      }
    }
    for (const issue of queueIssues(config.queues, numbers)) ctx.addIssue(issue);
    config.trunks.forEach((t, i) => {
      if (t.inboundAuth !== null && numbers.has(t.inboundAuth.username)) {
        ctx.addIssue({
          code: 'custom',
          path: ['trunks', i, 'inboundAuth', 'username'],
          message: `${t.inboundAuth.username} is an extension number; a trunk needs its own`,
        });
      }
      for (const [did, ext] of Object.entries(t.dids)) {
        if (!numbers.has(ext) && !queueNumbers.has(ext)) {
          ctx.addIssue({
            code: 'custom',
            path: ['trunks', i, 'dids', did],
            message: `DID ${did} maps to ${ext}, which is neither an extension nor a queue`,
          });
        }
      }
    });
    config.monitoring.groups.forEach((g, i) => {
      for (const key of ['monitors', 'members'] as const) {
        g[key].forEach((n, j) => {
          // Members may name queues: the group's monitors monitor the calls they answer.
          if (!numbers.has(n) && !(key === 'members' && queueNumbers.has(n))) {
            ctx.addIssue({
              code: 'custom',
              path: ['monitoring', 'groups', i, key, j],
              message:
                key === 'members'
                  ? `${n} is neither an extension nor a queue`
                  : `${n} is not an extension`,
            });
          }
        });
      }
    });
    const tokens = new Set<string>();
    config.api.tokens.forEach((t, i) => {
      if (tokens.has(t.token)) {
        ctx.addIssue({
          code: 'custom',
          path: ['api', 'tokens', i, 'token'],
          message: 'repeats another token',
        });
      }
      tokens.add(t.token);
      if (t.scope !== 'admin' && t.extension === null) {
        ctx.addIssue({
          code: 'custom',
          path: ['api', 'tokens', i, 'extension'],
          message: `a ${t.scope} token acts as an extension: name it`,
        });
      }
      if (t.extension !== null && !numbers.has(t.extension)) {
        ctx.addIssue({
          code: 'custom',
          path: ['api', 'tokens', i, 'extension'],
          message: `${t.extension} is not an extension`,
        });
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

type QueueConfigInput = z.infer<typeof queue>;
type Issue = { code: 'custom'; path: PropertyKey[]; message: string };

/**
 * Queues across keys: numbers unique and not extensions', members that are extensions
 * (once each), overflow to an extension or a queue, and no overflow chain that comes back
 * to a queue it left (a caller would circle for ever).
 */
function queueIssues(queues: readonly QueueConfigInput[], extensions: Set<string>): Issue[] {
  const issues: Issue[] = [];
  const byNumber = new Map<string, QueueConfigInput>();
  queues.forEach((q, i) => {
    if (extensions.has(q.number)) {
      issues.push({
        code: 'custom',
        path: ['queues', i, 'number'],
        message: `${q.number} is an extension number; a queue needs its own`,
      });
    }
    if (byNumber.has(q.number)) {
      issues.push({
        code: 'custom',
        path: ['queues', i, 'number'],
        message: `duplicate queue ${q.number}`,
      });
    }
    byNumber.set(q.number, q);
    const seen = new Set<string>();
    q.members.forEach((m, j) => {
      if (!extensions.has(m)) {
        issues.push({
          code: 'custom',
          path: ['queues', i, 'members', j],
          message: `${m} is not an extension`,
        });
      } else if (seen.has(m)) {
        issues.push({
          code: 'custom',
          path: ['queues', i, 'members', j],
          message: `${m} is listed twice`,
        });
      }
      seen.add(m);
    });
  });
  queues.forEach((q, i) => {
    if (!('extension' in q.overflow)) return;
    const target = q.overflow.extension;
    const path = ['queues', i, 'overflow', 'extension'];
    if (!extensions.has(target) && !byNumber.has(target)) {
      issues.push({
        code: 'custom',
        path,
        message: `${target} is neither an extension nor a queue`,
      });
      return;
    }
    const chain = [q.number];
    let next: string | undefined = target;
    while (next !== undefined && byNumber.has(next)) {
      if (chain.includes(next)) {
        issues.push({
          code: 'custom',
          path,
          message: `queue loop: ${[...chain, next].join(' → ')} overflows back to a queue it left`,
        });
        return;
      }
      chain.push(next);
      const overflow: QueueConfigInput['overflow'] | undefined = byNumber.get(next)?.overflow;
      next = overflow !== undefined && 'extension' in overflow ? overflow.extension : undefined;
    }
  });
  return issues;
}

export type Config = z.infer<typeof configSchema>;
export type QueueConfig = Config['queues'][number];
export type ExtensionConfig = Config['extensions'][number];
export type TrunkConfig = Config['trunks'][number];
export type MonitoringGroupConfig = Config['monitoring']['groups'][number];
export type PresenceConfig = Config['presence'];
export type ApiTokenConfig = Config['api']['tokens'][number];
export type AnnouncementsConfig = Config['announcements'];
