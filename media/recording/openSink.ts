/**
 * Opens the file a recording is written to, by format: 16-bit PCM WAV, G.711 WAV, or Ogg
 * Opus (RFC 7845, with an encoder from the codec table).
 */
import { hasCodec } from '../codecs/table.js';
import type { RecordingFormat } from '../worker/protocol.js';
import { OggOpusRecorder } from './oggOpusRecorder.js';
import { opusForFiles } from './opusFileEncoder.js';
import { createRecordingFile, type CreateRecordingFile } from './recordingFile.js';
import type { RecordingSink } from './recordingSink.js';
import { DEFAULT_WAV_FILE_MODE, WavRecorder, staggerFirstBlockMs } from './wavRecorder.js';

export interface SinkOptions {
  path: string;
  channels: 1 | 2;
  format: RecordingFormat;
  /** The call's band: 8000, or 16000 when a recorded leg is wideband. */
  sampleRate: number;
  /** For wav-g711: the law (the call's G.711 law, µ-law when it has none). */
  law: 'mulaw' | 'alaw';
  fileMode?: number;
  /** Creates the file (default: node:fs, on this thread; the engine's: the writer thread). */
  createFile?: CreateRecordingFile;
}

/**
 * A WAV's block (the recorder's default), and the steps its first block is shortened in:
 * 10, one per 100 ms sweep of the worker (docs/architecture.md §7.3).
 */
const WAV_BLOCK_MS = 1000;
const WAV_STAGGER_STEPS = 10;
/** WAV recordings this thread opened (each staggers its first block by the next step). */
let wavOpened = 0;

export interface OpenedSink {
  sink: RecordingSink;
  encoding: 'pcm16' | 'mulaw' | 'alaw' | 'opus';
}

/** A sink whose file's header is still on its way: `written` settles when it is on file. */
export interface BegunSink extends OpenedSink {
  /**
   * Resolves when the header is written; rejects (the file closed) when the file could not
   * be created or written. The sink may take frames before, but is not written to the file.
   */
  written: Promise<void>;
}

/** Opens the file and writes its header: the sink is ready to write when this resolves. */
export async function openSink(o: SinkOptions): Promise<OpenedSink> {
  const { sink, encoding, written } = await beginSink(o);
  await written;
  return { sink, encoding };
}

/**
 * The sink at once, its file's create and header still under way (`written`): a room
 * starts feeding it while the writer thread creates the file (docs/architecture.md §7.6).
 */
export async function beginSink(o: SinkOptions): Promise<BegunSink> {
  if (o.format === 'ogg-opus' && !hasCodec('opus')) {
    throw new RangeError('this build has no Opus encoder');
  }
  const create = o.createFile ?? createRecordingFile;
  const file = await create(o.path, o.fileMode ?? DEFAULT_WAV_FILE_MODE);
  // The recorders' begin() own the file from here: a failed start closes it.
  switch (o.format) {
    case 'wav': {
      const { recorder, written } = WavRecorder.begin(file, {
        channels: o.channels,
        sampleRate: o.sampleRate,
        frameSamples: o.sampleRate / 50,
        flushIntervalMs: WAV_BLOCK_MS,
        firstBlockMs: staggerFirstBlockMs(WAV_BLOCK_MS, wavOpened++, WAV_STAGGER_STEPS),
      });
      return { sink: recorder, encoding: 'pcm16', written };
    }
    case 'wav-g711': {
      // G.711 is an 8 kHz law (ITU-T G.711): a wideband call is written at 8 kHz.
      const { recorder, written } = WavRecorder.begin(file, {
        channels: o.channels,
        sampleRate: 8000,
        frameSamples: 160,
        encoding: o.law,
        flushIntervalMs: WAV_BLOCK_MS,
        firstBlockMs: staggerFirstBlockMs(WAV_BLOCK_MS, wavOpened++, WAV_STAGGER_STEPS),
      });
      return { sink: recorder, encoding: o.law, written };
    }
    case 'ogg-opus': {
      const closeFile = async (err: unknown): Promise<never> => {
        await file.close().catch(() => undefined);
        throw err;
      };
      try {
        const { recorder, written } = OggOpusRecorder.begin(file, {
          channels: o.channels,
          codec: opusForFiles(),
          inputSampleRate: o.sampleRate,
        });
        return { sink: recorder, encoding: 'opus', written: written.catch(closeFile) };
      } catch (err) {
        return closeFile(err);
      }
    }
  }
}
