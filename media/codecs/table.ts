/**
 * The codecs as data: every codec the engine speaks, by name. Adding a codec is adding
 * an entry here (and its file); relay, mixer, recorder and SDP read its numbers from it.
 */
import type { Codec, CodecName } from './codec.js';
import { PCMA, PCMU } from './g711Codec.js';
import { G722 } from './g722Codec.js';
import { OPUS } from './opusCodec.js';

const table: Partial<Record<CodecName, Codec>> = { PCMU, PCMA, G722, opus: OPUS };

/** The codec called `name`; throws a RangeError for one the engine lacks. */
export function codecOf(name: CodecName): Codec {
  const codec = table[name];
  if (codec === undefined) throw new RangeError(`no codec ${name}`);
  return codec;
}

/** Whether the engine has `name` (a codec listed in CODEC_NAMES may still be missing). */
export function hasCodec(name: string): name is CodecName {
  return Object.hasOwn(table, name);
}
