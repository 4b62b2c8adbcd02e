/**
 * The canonical 44-byte RIFF/WAVE header of 16-bit PCM audio (the recording tap's file
 * format), and a tolerant reader of WAV headers. Pure: buffers in, buffers out.
 *
 *   offset  size  field
 *        0     4  "RIFF"
 *        4     4  RIFF size = 36 + data bytes (everything after this field)
 *        8     4  "WAVE"
 *       12     4  "fmt "
 *       16     4  16 (size of the PCM fmt chunk)
 *       20     2  1 = WAVE_FORMAT_PCM
 *       22     2  channels
 *       24     4  sample rate
 *       28     4  byte rate = sample rate × block align
 *       32     2  block align = channels × 2
 *       34     2  16 bits per sample
 *       36     4  "data"
 *       40     4  data bytes
 *       44        interleaved little-endian int16 samples (left first)
 *
 * All fields little-endian (Microsoft/IBM "Multimedia Programming Interface and Data
 * Specifications 1.0", 1991; WAVEFORMATEX in mmreg.h). The only fields that change while a
 * file is written are the two sizes: `patchWavSizes` rewrites them in place, so an
 * incremental writer keeps one header buffer and rewrites it after each data write.
 *
 * Limit: both sizes are uint32, so a file holds at most MAX_WAV_DATA_BYTES = 4 GiB − 44
 * of audio (the whole file then stays within 4 GiB; RIFF size 0xFFFFFFF8). `wavHeader`
 * throws a RangeError beyond it; the recorder stops before it.
 *
 * `readWavHeader` walks the chunks (word-aligned, unknown ones such as LIST skipped), so it
 * reads files written by other tools too, and needs only a prefix of the file that reaches
 * the start of the audio: the data size is returned as declared, not checked against the
 * buffer.
 */

export const WAV_HEADER_SIZE = 44;
export const WAV_FORMAT_PCM = 1;
/** Largest data size of one file: 4 GiB − the header (multiple of 4: whole stereo frames). */
export const MAX_WAV_DATA_BYTES = 2 ** 32 - WAV_HEADER_SIZE;

const BITS_PER_SAMPLE = 16;

/**
 * Throws a RangeError unless `channels` is 1 or 2 and the byte rate of `sampleRate` with
 * `bytesPerSample` per channel fits the header's uint32.
 */
function checkFormat(channels: 1 | 2, sampleRate: number, bytesPerSample: number): void {
  if (channels !== 1 && channels !== 2) {
    throw new RangeError(`WAV channels must be 1 or 2, not ${String(channels)}`);
  }
  if (
    !Number.isInteger(sampleRate) ||
    sampleRate <= 0 ||
    sampleRate * channels * bytesPerSample >= 2 ** 32
  ) {
    throw new RangeError(`invalid WAV sample rate ${sampleRate}`);
  }
}

/**
 * Writes "RIFF", "WAVE" and the fmt chunk at 12 (sizes are patched later): 16 bytes for
 * PCM, 18 (WAVEFORMATEX with cbSize 0) for another format.
 */
function writeRiffFmt(
  buf: Buffer,
  fmtBytes: 16 | 18,
  formatTag: number,
  channels: 1 | 2,
  sampleRate: number,
  bitsPerSample: number,
): void {
  const blockAlign = channels * (bitsPerSample / 8);
  buf.write('RIFF', 0, 'latin1');
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(fmtBytes, 16);
  buf.writeUInt16LE(formatTag, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * blockAlign, 28);
  buf.writeUInt16LE(blockAlign, 32);
  buf.writeUInt16LE(bitsPerSample, 34);
  if (fmtBytes === 18) buf.writeUInt16LE(0, 36);
}

/** A 44-byte header for 16-bit PCM with `dataBytes` of audio (allocates: not per frame). */
export function wavHeader(channels: 1 | 2, sampleRate: number, dataBytes: number): Buffer {
  checkFormat(channels, sampleRate, BITS_PER_SAMPLE / 8);
  const buf = Buffer.alloc(WAV_HEADER_SIZE);
  writeRiffFmt(buf, 16, WAV_FORMAT_PCM, channels, sampleRate, BITS_PER_SAMPLE);
  buf.write('data', 36, 'latin1');
  patchWavSizes(buf, dataBytes);
  return buf;
}

/** Rewrites the RIFF size (offset 4) and data size (offset 40) of a 44-byte header in place. */
export function patchWavSizes(header: Buffer, dataBytes: number): void {
  if (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > MAX_WAV_DATA_BYTES) {
    throw new RangeError(`WAV data size ${dataBytes} outside [0, ${MAX_WAV_DATA_BYTES}]`);
  }
  header.writeUInt32LE(WAV_HEADER_SIZE - 8 + dataBytes, 4);
  header.writeUInt32LE(dataBytes, 40);
}

export interface WavHeaderInfo {
  /** The fmt chunk's format tag (1 = PCM, 3 = float, 6 = A-law, 7 = µ-law, 0xFFFE = extensible). */
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  /** The RIFF size field as declared (file size − 8 for a finished file). */
  riffBytes: number;
  /** Offset of the first audio byte (44 for a canonical header). */
  dataOffset: number;
  /** The data chunk's size as declared (may exceed the buffer: only a prefix was read). */
  dataBytes: number;
}

/**
 * Reads the header of a RIFF/WAVE file from a buffer holding at least its start (up to the
 * data chunk's header). Throws an Error naming what is missing or malformed.
 */
export function readWavHeader(buf: Buffer): WavHeaderInfo {
  if (
    buf.length < 12 ||
    buf.toString('latin1', 0, 4) !== 'RIFF' ||
    buf.toString('latin1', 8, 12) !== 'WAVE'
  ) {
    throw new Error('not a RIFF/WAVE file');
  }
  const riffBytes = buf.readUInt32LE(4);
  let fmt: Omit<WavHeaderInfo, 'riffBytes' | 'dataOffset' | 'dataBytes'> | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const start = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || start + 16 > buf.length) throw new Error('WAV fmt chunk too short');
      fmt = {
        formatTag: buf.readUInt16LE(start),
        channels: buf.readUInt16LE(start + 2),
        sampleRate: buf.readUInt32LE(start + 4),
        blockAlign: buf.readUInt16LE(start + 12),
        bitsPerSample: buf.readUInt16LE(start + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before its fmt chunk');
      return { ...fmt, riffBytes, dataOffset: start, dataBytes: size };
    }
    off = start + size + (size & 1);
  }
  throw new Error(fmt ? 'WAV has no data chunk' : 'WAV has no fmt chunk');
}

/** WAVE_FORMAT_ALAW and WAVE_FORMAT_MULAW (mmreg.h): 8-bit G.711 samples. */
export const WAV_FORMAT_ALAW = 6;
export const WAV_FORMAT_MULAW = 7;
/**
 * Size of the header of a G.711 WAV: RIFF (12) + an 18-byte fmt chunk (26: WAVEFORMATEX
 * with cbSize 0, required for a non-PCM format) + a fact chunk (12: samples per channel,
 * required for a non-PCM format) + the data chunk's header (8).
 *
 *   offset  size  field
 *       36     2  cbSize = 0
 *       38     4  "fact"
 *       42     4  4
 *       46     4  samples per channel
 *       50     4  "data"
 *       54     4  data bytes
 *       58        interleaved 8-bit G.711 samples (left first)
 */
export const WAV_LAW_HEADER_SIZE = 58;
export const MAX_WAV_LAW_DATA_BYTES = 2 ** 32 - WAV_LAW_HEADER_SIZE - 2;

/** A 58-byte header for G.711 (µ-law or A-law, one byte per sample) with `dataBytes`. */
export function wavLawHeader(
  channels: 1 | 2,
  sampleRate: number,
  formatTag: typeof WAV_FORMAT_ALAW | typeof WAV_FORMAT_MULAW,
  dataBytes: number,
): Buffer {
  checkFormat(channels, sampleRate, 1);
  const buf = Buffer.alloc(WAV_LAW_HEADER_SIZE);
  writeRiffFmt(buf, 18, formatTag, channels, sampleRate, 8);
  buf.write('fact', 38, 'latin1');
  buf.writeUInt32LE(4, 42);
  buf.write('data', 50, 'latin1');
  patchWavLawSizes(buf, dataBytes, channels);
  return buf;
}

/** Rewrites the RIFF size, the fact chunk's sample count and the data size in place. */
export function patchWavLawSizes(header: Buffer, dataBytes: number, channels: number): void {
  if (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > MAX_WAV_LAW_DATA_BYTES) {
    throw new RangeError(`WAV data size ${dataBytes} outside [0, ${MAX_WAV_LAW_DATA_BYTES}]`);
  }
  header.writeUInt32LE(WAV_LAW_HEADER_SIZE - 8 + dataBytes, 4);
  header.writeUInt32LE(Math.floor(dataBytes / channels), 46);
  header.writeUInt32LE(dataBytes, 54);
}
