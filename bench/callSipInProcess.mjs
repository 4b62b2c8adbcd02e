#!/usr/bin/env node
/**
 * The SIP and SDP work of one call set-up on the B2BUA's main thread, in one process and
 * without sockets: the messages SIPp's uac_cps.xml and uas_cps.xml send are parsed, the
 * SDP is parsed, checked and written as the B2BUA does (parseSdp, relayOffer, relayAnswer,
 * renderLocalSdp), and what the B2BUA sends is built with its own builders (outbound
 * INVITE, dialog responses, ACK, BYE) and serialised. Not included: transactions, the
 * call state machine, the media engine, events, logging (other benches cover those).
 *
 * Per call, in the order of a real call (A = caller, B = callee):
 *   A→ INVITE (SDP)   parse, dialog, parseSdp, relayOffer, render offer to B
 *   →B INVITE (SDP)   build, Via, serialise;          →A 100  build, serialise
 *   B→ 180            parse, dialog;                  →A 180  build, serialise
 *   B→ 200 (SDP)      parse, parseSdp, relayAnswer, render answer to A
 *   →A 200 (SDP)      build, serialise;               →B ACK  build, serialise
 *   A→ ACK            parse;  A→ BYE parse;  →A 200 build, serialise;  →B BYE build, serialise
 *   B→ 200 (BYE)      parse
 *
 * Reported: µs of this thread's CPU per call (process.threadCpuUsage when the runtime has
 * it, else process.cpuUsage: one thread of JavaScript here, plus V8's helpers), and KB
 * allocated per call (V8's sampling heap profiler, objects collected by minor and major GC
 * included), by file of the allocating frame with --by-file.
 *
 *   node bench/callSipInProcess.mjs [--calls 20000] [--warm 20000] [--rounds 5]
 *        [--dist DIR] [--alloc-calls 20000] [--by-file | --by-function] [--json]
 *
 * A/B: --dist points at another build's dist; run A and B interleaved, read medians.
 */
import inspector from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const CALLS = Number(flag('--calls', 20000));
const WARM = Number(flag('--warm', 20000));
const ROUNDS = Number(flag('--rounds', 5));
const ALLOC_CALLS = Number(flag('--alloc-calls', 20000));
const DIST = path.resolve(flag('--dist', path.join(REPO, 'dist')));
const BY_FILE = argv.includes('--by-file');
const BY_FUNCTION = argv.includes('--by-function');
const JSON_OUT = argv.includes('--json');

const load = (p) => import(pathToFileURL(path.join(DIST, p)).href);
const { parseMessage } = await load('sip/message/parse.js');
const { serializeMessage } = await load('sip/message/serialize.js');
const { buildResponse } = await load('sip/message/response.js');
const { cseqOf } = await load('sip/message/index.js');
const { addVia } = await load('sip/transaction/via.js');
const { dialogFromUasRequest, dialogFromUacResponse, confirmDialog } =
  await load('sip/dialog/create.js');
const { buildDialogResponse } = await load('sip/dialog/response.js');
const { createAck, createInDialogRequest } = await load('sip/dialog/request.js');
const sdp = await load('sip/sdp/index.js');
const { buildOutboundInvite } = await load('src/calls/outboundInvite.js');

const SERVER = { host: '127.0.0.1', port: 5060, transport: 'udp' };
const A = { ip: '127.0.0.1', port: 5061, media: 6000 };
const B = { ip: '127.0.0.1', port: 5062, media: 6002 };
const POLICY = { supported: ['PCMU', 'PCMA', 'G722', 'opus'], telephoneEvent: true };
const MEDIA_ADDRESS = '127.0.0.1';
const CONTACT = `<sip:callwatch@${SERVER.host}:${SERVER.port}>`;
const PID = 4242;

// ------------------------------------------------------------------- what SIPp sends
const sdpBody = (user, ip, port) =>
  `v=0\r\no=${user} 1 1 IN IP4 ${ip}\r\ns=-\r\nc=IN IP4 ${ip}\r\nt=0 0\r\n` +
  `m=audio ${port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n`;
const withBody = (head, body) =>
  Buffer.from(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

function uacInvite(n) {
  return withBody(
    `INVITE sip:1001@${SERVER.host}:${SERVER.port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${A.ip}:${A.port};branch=z9hG4bK-${PID}-${n}-0\r\n` +
      `From: <sip:uac@${A.ip}:${A.port}>;tag=${PID}C${n}\r\n` +
      `To: <sip:1001@${SERVER.host}:${SERVER.port}>\r\n` +
      `Call-ID: ${n}-${PID}@${A.ip}\r\nCSeq: 1 INVITE\r\n` +
      `Contact: <sip:uac@${A.ip}:${A.port}>\r\nMax-Forwards: 70\r\n` +
      `User-Agent: peer-baseline\r\nContent-Type: application/sdp\r\n`,
    sdpBody('uac', A.ip, A.media),
  );
}
function uacInDialog(n, method, cseq, toTag) {
  return Buffer.from(
    `${method} sip:callwatch@${SERVER.host}:${SERVER.port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${A.ip}:${A.port};branch=z9hG4bK-${PID}-${n}-${cseq}\r\n` +
      `From: <sip:uac@${A.ip}:${A.port}>;tag=${PID}C${n}\r\n` +
      `To: <sip:1001@${SERVER.host}:${SERVER.port}>;tag=${toTag}\r\n` +
      `Call-ID: ${n}-${PID}@${A.ip}\r\nCSeq: ${cseq} ${method}\r\n` +
      `Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  );
}
/** SIPp's uas_cps.xml copies Via, From, To, Call-ID, CSeq of what it received. */
function uasResponse(request, status, reason, tag, body) {
  const text = request.toString('latin1');
  const line = (name) => {
    const at = text.indexOf(`\r\n${name}: `);
    return text.slice(at + 2, text.indexOf('\r\n', at + 2));
  };
  const to = line('To');
  const head =
    `SIP/2.0 ${status} ${reason}\r\n${line('Via')}\r\n${line('From')}\r\n` +
    `${tag && !to.includes(';tag=') ? `${to};tag=${tag}` : to}\r\n${line('Call-ID')}\r\n` +
    `${line('CSeq')}\r\nContact: <sip:uas@${B.ip}:${B.port}>\r\n`;
  if (body === undefined) return Buffer.from(`${head}Content-Length: 0\r\n\r\n`);
  return withBody(`${head}Content-Type: application/sdp\r\n`, body);
}

function parsed(bytes) {
  const r = parseMessage(bytes);
  if (!r.ok) throw new Error(`parse: ${r.error.message}\n${bytes.toString()}`);
  return r.message;
}
const origin = () => ({ username: 'callwatch', sessionId: 1234567890, sessionVersion: 1 });

// ------------------------------------------------------------------- one call, timed part
/** Input bytes built outside the measured part (SIPp's side). */
function peerSide(n) {
  return { invite: uacInvite(n) };
}

/** The B2BUA's side of one call; `sink` keeps outputs reachable until the call ends. */
function serverSide(n, input, peer) {
  const sent = [];
  const send = (m) => sent.push(serializeMessage(m));
  // A→ INVITE
  const invite = parsed(input.invite);
  const uas = dialogFromUasRequest(invite, { localTag: `t${n}a`, localContact: CONTACT });
  if (!uas.ok) throw new Error(uas.reason);
  const offer = sdp.parseSdp(invite.body);
  if (!offer.ok) throw new Error(offer.reason);
  const check = sdp.relayOffer(offer.session, { address: MEDIA_ADDRESS, port: 9 }, POLICY);
  if (!check.ok) throw new Error(check.reason);
  send(buildResponse(invite, 100));
  const relayed = sdp.relayOffer(offer.session, { address: MEDIA_ADDRESS, port: 30000 }, POLICY);
  const localB = sdp.renderLocalSdp(sdp.createLocalSdp(origin()), relayed.description);
  const out = buildOutboundInvite({
    requestUri: `sip:uas@${B.ip}:${B.port}`,
    from: { uri: `sip:uac@${SERVER.host}`, tag: `f${n}b` },
    to: { uri: `sip:1001@${SERVER.host}` },
    callId: `c${n}b@callwatch`,
    cseq: 1,
    contact: `sip:callwatch@${SERVER.host}:${SERVER.port}`,
    maxForwards: 69,
    sdp: localB.body,
    userAgent: 'callwatch',
    allow: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'UPDATE', 'REFER', 'NOTIFY'],
  });
  addVia(out, SERVER, `z9hG4bK${n}b`);
  send(out);
  const outBytes = sent[sent.length - 1];
  // B→ 180, →A 180
  const ringing = parsed(peer.ringing(outBytes));
  const early = dialogFromUacResponse(out, ringing);
  if (!early.ok) throw new Error(early.reason);
  send(buildDialogResponse(invite, 180, uas.dialog));
  // B→ 200 with the answer, →A 200 with ours, →B ACK
  const ok = parsed(peer.ok(outBytes));
  const uac = dialogFromUacResponse(out, ok);
  if (!uac.ok) throw new Error(uac.reason);
  confirmDialog(uac.dialog, ok);
  const answer = sdp.parseSdp(ok.body);
  if (!answer.ok) throw new Error(answer.reason);
  const done = sdp.relayAnswer(relayed, answer.session, {
    address: MEDIA_ADDRESS,
    port: 30002,
  });
  if (!done.ok) throw new Error(done.reason);
  const localA = sdp.renderLocalSdp(sdp.createLocalSdp(origin()), done.description);
  send(
    buildDialogResponse(invite, 200, uas.dialog, {
      body: localA.body,
      contentType: 'application/sdp',
    }),
  );
  confirmDialog(uas.dialog);
  send(createAck(uac.dialog, cseqOf(out).seq, { via: SERVER }));
  // A→ ACK, A→ BYE, →A 200, →B BYE, B→ 200
  const toTag = uas.dialog.id.localTag;
  parsed(peer.ack(toTag));
  const bye = parsed(peer.bye(toTag));
  send(buildDialogResponse(bye, 200, uas.dialog));
  const byeB = createInDialogRequest(uac.dialog, 'BYE', { via: SERVER });
  send(byeB);
  parsed(peer.byeOk(sent[sent.length - 1]));
  return sent;
}

/** SIPp's replies, built on demand from what we sent (outside the measured part). */
function peerReplies(n) {
  return {
    ringing: (inv) => uasResponse(inv, 180, 'Ringing', `${PID}S${n}`),
    ok: (inv) => uasResponse(inv, 200, 'OK', `${PID}S${n}`, sdpBody('uas', B.ip, B.media)),
    ack: (tag) => uacInDialog(n, 'ACK', 1, tag),
    bye: (tag) => uacInDialog(n, 'BYE', 2, tag),
    byeOk: (bye) => uasResponse(bye, 200, 'OK'),
  };
}

// The peer's messages are generated ahead, so the measured loop runs the server side only.
function prepare(count, from) {
  const calls = [];
  for (let i = 0; i < count; i++) {
    const n = from + i;
    const peer = peerReplies(n);
    // Replies depend on what we send only through Via/From/To/Call-ID/CSeq, which are the
    // same call after call for a given n: precompute them from a dry run.
    const cache = new Map();
    const memo = (key, fn) => (arg) => {
      let v = cache.get(key);
      if (v === undefined) cache.set(key, (v = fn(arg)));
      return v;
    };
    calls.push({
      n,
      input: peerSide(n),
      peer: {
        ringing: memo('r', peer.ringing),
        ok: memo('o', peer.ok),
        ack: memo('a', peer.ack),
        bye: memo('b', peer.bye),
        byeOk: memo('y', peer.byeOk),
      },
    });
  }
  for (const c of calls) serverSide(c.n, c.input, c.peer); // fills the peer's replies
  return calls;
}

const cpuNow = () => {
  const u = process.threadCpuUsage ? process.threadCpuUsage() : process.cpuUsage();
  return u.user + u.system;
};

function run(calls) {
  let sink = 0;
  const t0 = cpuNow();
  for (const c of calls) sink += serverSide(c.n, c.input, c.peer).length;
  const us = cpuNow() - t0;
  if (sink === 0) throw new Error('nothing sent');
  return us / calls.length;
}

const out = { dist: path.relative(REPO, DIST) || DIST, node: process.version };
let next = 1;
const warm = prepare(WARM, next);
next += WARM;
run(warm);
const rounds = [];
for (let r = 0; r < ROUNDS; r++) {
  const calls = prepare(CALLS, next);
  next += CALLS;
  rounds.push(Math.round(run(calls) * 10) / 10);
}
out.usPerCall = rounds;
out.medianUsPerCall = [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)];
out.bytesOut = serverSide(next, peerSide(next), prepare(1, next)[0].peer).reduce(
  (a, b) => a + b.length,
  0,
);

if (ALLOC_CALLS > 0) {
  const calls = prepare(ALLOC_CALLS, next + 1);
  const session = new inspector.Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (const c of calls) serverSide(c.n, c.input, c.peer);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  let total = 0;
  const byFile = new Map();
  const walk = (node, file) => {
    const url = node.callFrame.url;
    const here =
      BY_FUNCTION && url && !url.startsWith('node:')
        ? `${url}:${node.callFrame.functionName || '(anonymous)'}:${node.callFrame.lineNumber + 1}`
        : url;
    const own = url && !url.startsWith('node:') ? here : file;
    total += node.selfSize;
    if (node.selfSize > 0) byFile.set(own, (byFile.get(own) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, own);
  };
  walk(profile.head, '(root)');
  out.kbAllocatedPerCall = Math.round((total / ALLOC_CALLS / 1024) * 10) / 10;
  if (BY_FILE || BY_FUNCTION) {
    out.kbByFile = Object.fromEntries(
      [...byFile]
        .map(([f, b]) => [
          f.replace(pathToFileURL(DIST).href + '/', '').replace(/^.*node_modules\//, ''),
          Math.round((b / ALLOC_CALLS / 1024) * 10) / 10,
        ])
        .filter(([, kb]) => kb >= 0.1)
        .sort((a, b) => b[1] - a[1]),
    );
  }
}
if (JSON_OUT) process.stdout.write(JSON.stringify(out) + '\n');
else console.log(out);
