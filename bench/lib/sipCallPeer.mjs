/**
 * A SIPp-like pair of peers in a worker thread, for bench/callSetupInProcess.mjs: a UAC on
 * the trunk's port that calls a DID as the peers' uac_cps.xml does (INVITE with PCMA SDP,
 * ACK to the 200's Contact, BYE after `hold` ms) and a UAS on the extension's registered
 * port that answers as uas_cps.xml does (180, 200 with PCMA SDP, 200 to the BYE). Paced
 * at `rate` calls/s for `calls` calls; no retransmissions (loopback); a call not done in
 * `timeoutMs` counts as failed. Posts { ok, failed, setupMs } when every call has ended.
 *
 * workerData: { server: {host, port}, uacPort, uasPort, did, rate, calls, hold, timeoutMs, tag }
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';

const o = workerData;
const IP = '127.0.0.1';

const sdpBody = (user, port) =>
  `v=0\r\no=${user} 1 1 IN IP4 ${IP}\r\ns=-\r\nc=IN IP4 ${IP}\r\nt=0 0\r\n` +
  `m=audio ${port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n`;
const UAC_SDP = sdpBody('uac', 16000);
const UAS_SDP = sdpBody('uas', 17000);

/** First line and the headers we need (all Via lines, in order), from one datagram. */
function read(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end).split('\r\n');
  const h = { first: lines[0], via: [] };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const c = line.indexOf(':');
    const name = line.slice(0, c).trim().toLowerCase();
    const value = line.slice(c + 1).trim();
    if (name === 'via' || name === 'v') h.via.push(value);
    else if (name === 'from' || name === 'f') h.from = value;
    else if (name === 'to' || name === 't') h.to = value;
    else if (name === 'call-id' || name === 'i') h.callId = value;
    else if (name === 'cseq') h.cseq = value;
    else if (name === 'contact' || name === 'm') h.contact = value;
  }
  return h;
}

const uac = dgram.createSocket('udp4');
const uas = dgram.createSocket('udp4');
const sendTo = (sock, text, port, host = IP) => sock.send(Buffer.from(text, 'latin1'), port, host);
const withBody = (head, body) =>
  `${head}Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

// ------------------------------------------------------------------ UAS (uas_cps.xml)
let uasTag = 0;
uas.on('message', (buf, rinfo) => {
  const m = read(buf);
  const [method] = m.first.split(' ');
  if (method === 'ACK' || m.first.startsWith('SIP/2.0')) return;
  const to = m.to.includes(';tag=') ? m.to : `${m.to};tag=${o.tag}S${++uasTag}`;
  const head = (status, reason) =>
    `SIP/2.0 ${status} ${reason}\r\n${m.via.map((v) => `Via: ${v}\r\n`).join('')}` +
    `From: ${m.from}\r\nTo: ${to}\r\nCall-ID: ${m.callId}\r\nCSeq: ${m.cseq}\r\n` +
    `Contact: <sip:uas@${IP}:${o.uasPort}>\r\n`;
  if (method === 'INVITE') {
    sendTo(uas, `${head(180, 'Ringing')}Content-Length: 0\r\n\r\n`, rinfo.port, rinfo.address);
    sendTo(uas, withBody(head(200, 'OK'), UAS_SDP), rinfo.port, rinfo.address);
  } else {
    sendTo(uas, `${head(200, 'OK')}Content-Length: 0\r\n\r\n`, rinfo.port, rinfo.address);
  }
});

// ------------------------------------------------------------------ UAC (uac_cps.xml)
const calls = new Map(); // Call-ID → call
let ok = 0;
let failed = 0;
let started = 0;
const setupMs = [];

function request(call, method, cseq, uri, toTag) {
  return (
    `${method} ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${IP}:${o.uacPort};branch=z9hG4bK-${o.tag}-${call.n}-${cseq}${method === 'ACK' ? 'a' : ''}\r\n` +
    `From: <sip:uac@${IP}:${o.uacPort}>;tag=${o.tag}C${call.n}\r\n` +
    `To: <sip:${o.did}@${o.server.host}:${o.server.port}>${toTag ? `;tag=${toTag}` : ''}\r\n` +
    `Call-ID: ${call.id}\r\nCSeq: ${cseq} ${method}\r\nMax-Forwards: 70\r\n`
  );
}

function startCall() {
  const n = ++started;
  const call = { n, id: `${n}-${o.tag}@${IP}`, t0: performance.now(), state: 'inviting' };
  calls.set(call.id, call);
  const uri = `sip:${o.did}@${o.server.host}:${o.server.port}`;
  const head =
    request(call, 'INVITE', 1, uri) +
    `Contact: <sip:uac@${IP}:${o.uacPort}>\r\nUser-Agent: peer-baseline\r\n`;
  sendTo(uac, withBody(head, UAC_SDP), o.server.port, o.server.host);
  call.timer = setTimeout(() => end(call, false), o.timeoutMs);
}

function end(call, good) {
  if (!calls.delete(call.id)) return;
  clearTimeout(call.timer);
  clearTimeout(call.bye);
  if (good) ok++;
  else failed++;
  if (ok + failed === o.calls) finish();
}

uac.on('message', (buf) => {
  const m = read(buf);
  const call = calls.get(m.callId);
  if (call === undefined || !m.first.startsWith('SIP/2.0 ')) return;
  const status = Number(m.first.slice(8, 11));
  const method = m.cseq.split(' ')[1];
  if (method === 'INVITE' && status >= 200) {
    const toTag = /;tag=([^;>\s]+)/.exec(m.to)[1];
    const target =
      /<([^>]+)>/.exec(m.contact ?? '')?.[1] ?? `sip:${o.server.host}:${o.server.port}`;
    if (status >= 300) return end(call, false);
    sendTo(
      uac,
      `${request(call, 'ACK', 1, target, toTag)}Content-Length: 0\r\n\r\n`,
      o.server.port,
    );
    if (call.state !== 'inviting') return; // a retransmitted 200: ACK again
    call.state = 'up';
    setupMs.push(performance.now() - call.t0);
    call.bye = setTimeout(() => {
      call.state = 'closing';
      sendTo(
        uac,
        `${request(call, 'BYE', 2, target, toTag)}Content-Length: 0\r\n\r\n`,
        o.server.port,
      );
    }, o.hold);
  } else if (method === 'BYE' && status >= 200) {
    end(call, status === 200);
  }
});

function finish() {
  parentPort.postMessage({ ok, failed, setupMs });
  uac.close();
  uas.close();
  clearInterval(pacer);
}

let pacer;
await Promise.all([
  new Promise((r) => uac.bind(o.uacPort, IP, r)),
  new Promise((r) => uas.bind(o.uasPort, IP, r)),
]);
parentPort.postMessage({ ready: true });
parentPort.once('message', () => {
  // Pace in 10 ms ticks: the calls due by now are started (as SIPp's -r).
  const t0 = performance.now();
  pacer = setInterval(() => {
    const due = Math.min(o.calls, Math.floor(((performance.now() - t0) * o.rate) / 1000) + 1);
    while (started < due) startCall();
    if (started >= o.calls) clearInterval(pacer);
  }, 10);
});
