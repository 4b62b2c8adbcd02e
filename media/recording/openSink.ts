/**
 * Opens the file a recording is written to, by format: 16-bit PCM WAV, G.711 WAV, or Ogg
 * Opus (RFC 7845, with an encoder from the codec table).
 */
import { hasCodec } from '../codecs/table.js';
import type { RecordingFormat } from '../worker/protocol.js';
import { OggOpusRecorder } from './oggOpusRecorder.js';
import { opusForFiles } from './opusFileEncoder.js';
import type { RecordingSink } from './recordingSink.js';
import { WavRecorder } from './wavRecorder.js';

export interface SinkOptions {
  path: string;
  channels: 1 | 2;
  format: RecordingFormat;
  /** The call's band: 8000, or 16000 when a recorded leg is wideband. */
  sampleRate: number;
  /** For wav-g711: the law (the call's G.711 law, µ-law when it has none). */
  law: 'mulaw' | 'alaw';
  fileMode?: number;
}

export interface OpenedSink {
  sink: RecordingSink;
  encoding: 'pcm16' | 'mulaw' | 'alaw' | 'opus';
}

export async function openSink(o: SinkOptions): Promise<OpenedSink> {
  const mode = o.fileMode !== undefined ? { fileMode: o.fileMode } : {};
  switch (o.format) {
    case 'wav':
      return {
        sink: await WavRecorder.open({
          path: o.path,
          channels: o.channels,
          sampleRate: o.sampleRate,
          frameSamples: o.sampleRate / 50,
          ...mode,
        }),
        encoding: 'pcm16',
      };
    case 'wav-g711':
      // G.711 is an 8 kHz law (ITU-T G.711): a wideband call is written at 8 kHz.
      return {
        sink: await WavRecorder.open({
          path: o.path,
          channels: o.channels,
          sampleRate: 8000,
          frameSamples: 160,
          encoding: o.law,
          ...mode,
        }),
        encoding: o.law,
      };
    case 'ogg-opus': {
      if (!hasCodec('opus')) throw new RangeError('this build has no Opus encoder');
      return {
        sink: await OggOpusRecorder.open({
          path: o.path,
          channels: o.channels,
          codec: opusForFiles(),
          inputSampleRate: o.sampleRate,
          ...mode,
        }),
        encoding: 'opus',
      };
    }
  }
}
