/**
 * Reads an Ogg Opus file (RFC 7845) the recorder wrote and decodes it with the codec
 * table's own Opus decoder (the local sox cannot read Ogg Opus): every page's CRC is
 * checked (RFC 3533 §6), OpusHead parsed, each channel's stream decoded at 16 kHz, the
 * pre-skip dropped and the end trimmed to the last page's granule position (RFC 7845
 * §4). Stereo files are two mono streams (mapping family 1): the first stream of each
 * packet is in self-delimiting framing (RFC 6716 Appendix B).
 */
import { codecOf } from '../../media/codecs/table.js';
import { oggCrc } from '../../media/recording/oggMuxer.js';

export interface OggPage {
  flags: number;
  granule: number;
  sequence: number;
  packets: Buffer[];
  /** Bytes of the file up to the end of this page. */
  end: number;
}

export interface OggOpusFile {
  pages: OggPage[];
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  mappingFamily: number;
  /** Decoded audio per channel at 16 kHz, pre-skip removed, trimmed to the granule. */
  channelData: Int16Array[];
  sampleRate: 16000;
  /** Bytes after the last complete page (a page cut by a crash), 0 for a whole file. */
  trailing: number;
}

/** Every complete page of `buf` (CRC-checked; throws on a bad one). */
export function oggPages(buf: Buffer): { pages: OggPage[]; trailing: number } {
  const pages: OggPage[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 27) break;
    if (buf.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no page at ${at}`);
    const segments = buf[at + 26]!;
    if (buf.length - at < 27 + segments) break;
    const lacing = buf.subarray(at + 27, at + 27 + segments);
    const size = 27 + segments + lacing.reduce((s, v) => s + v, 0);
    if (buf.length - at < size) break;
    const page = Buffer.from(buf.subarray(at, at + size));
    const crc = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    if (oggCrc(page) !== crc) throw new Error(`bad CRC on the page at ${at}`);
    const packets: Buffer[] = [];
    let off = 27 + segments;
    let len = 0;
    for (const v of lacing) {
      len += v;
      if (v < 255) {
        packets.push(page.subarray(off, off + len));
        off += len;
        len = 0;
      }
    }
    if (len > 0) throw new Error(`the page at ${at} ends inside a packet`);
    at += size;
    pages.push({
      flags: page[5]!,
      granule: Number(page.readBigInt64LE(6)),
      sequence: page.readUInt32LE(18),
      packets,
      end: at,
    });
  }
  return { pages, trailing: buf.length - at };
}

function length(p: Buffer, at: number): [number, number] {
  const b = p[at]!;
  return b < 252 ? [b, 1] : [b + 4 * p[at + 1]!, 2];
}

/** Splits a two-stream packet: [stream 0 undelimited, stream 1]. Codes 0–2 only. */
function splitStreams(p: Buffer): [Buffer, Buffer] {
  const toc = p[0]!;
  const code = toc & 3;
  if (code === 0 || code === 1) {
    const [n, size] = length(p, 1);
    const body = code === 0 ? n : 2 * n;
    const end = 1 + size + body;
    const first = Buffer.concat([Buffer.from([toc]), p.subarray(1 + size, end)]);
    return [first, p.subarray(end)];
  }
  if (code === 2) {
    const [n1, s1] = length(p, 1);
    const [n2, s2] = length(p, 1 + s1);
    const end = 1 + s1 + s2 + n1 + n2;
    const first = Buffer.concat([p.subarray(0, 1 + s1), p.subarray(1 + s1 + s2, end)]);
    return [first, p.subarray(end)];
  }
  throw new Error('a code 3 first stream: not handled by this reader');
}

export function readOggOpus(buf: Buffer): OggOpusFile {
  const { pages, trailing } = oggPages(buf);
  const head = pages[0]?.packets[0];
  if (!head || head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('no OpusHead');
  const channels = head[9]!;
  const preSkip = head.readUInt16LE(10);
  const inputSampleRate = head.readUInt32LE(12);
  const mappingFamily = head[18]!;
  const opus = codecOf('opus');
  const decoders = Array.from({ length: channels }, () => opus.createDecoder());
  const parts: number[][] = Array.from({ length: channels }, () => []);
  const out = new Int16Array(opus.maxFrameSamples);
  for (const page of pages.slice(2)) {
    for (const packet of page.packets) {
      const streams = channels === 1 ? [packet] : splitStreams(packet);
      streams.forEach((s, ch) => {
        const n = decoders[ch]!.decode(s, 0, s.length, out);
        if (n < 0) throw new Error(`a corrupt Opus packet on page ${page.sequence}`);
        for (let i = 0; i < n; i++) parts[ch]!.push(out[i]!);
      });
    }
  }
  for (const d of decoders) d.close();
  const ratio = 48000 / opus.sampleRate;
  const last = pages[pages.length - 1]!;
  const skip = Math.round(preSkip / ratio);
  const end = Math.round(last.granule / ratio);
  const channelData = parts.map((p) => Int16Array.from(p.slice(skip, Math.max(skip, end))));
  return {
    pages,
    channels,
    preSkip,
    inputSampleRate,
    mappingFamily,
    channelData,
    sampleRate: 16000,
    trailing,
  };
}
