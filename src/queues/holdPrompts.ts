/**
 * The queues' WAV prompts (docs/architecture.md §9.5): each `holdAudio.file` and each
 * position announcement's file (`announcePosition.prompts`) is read,
 * checked and converted (media/prompts/promptWav.ts) and loaded into the media engine's
 * workers once, at start, like the announcements (src/announcements/prompts.ts). A file
 * that is missing or not a fitting WAV fails the start with a StartError naming its key
 * (`queues[1].holdAudio.file`, `queues[0].announcePosition.prompts.numbers[2]`) and the
 * file.
 */
import { loadPromptFile } from '../../media/engine/index.js';
import type { MediaEngine, Prompt } from '../../media/engine/index.js';
import type { QueueConfig } from '../config/schema.js';
import { startStep } from '../util/startError.js';

/** A queue's position announcement: "you are caller number", then the position's number. */
export interface PositionPrompts {
  intro: Prompt;
  /** numbers[0] says "one". */
  numbers: Prompt[];
}

export interface QueuePrompts {
  /** Each queue with a WAV hold file: its number → the loaded prompt. */
  hold: Map<string, Prompt>;
  /** Each queue announcing positions: its number → its prompts. */
  position: Map<string, PositionPrompts>;
}

/** Reads every queue's hold file and position prompts, then loads them into the engine. */
export async function loadQueuePrompts(
  queues: readonly QueueConfig[],
  engine: MediaEngine,
): Promise<QueuePrompts> {
  const load = (key: string, path: string): Promise<Prompt> =>
    startStep('loading a queue prompt', key, () => engine.loadPrompt(loadPromptFile(path)));
  const prompts: QueuePrompts = { hold: new Map(), position: new Map() };
  for (const [i, queue] of queues.entries()) {
    if ('file' in queue.holdAudio) {
      prompts.hold.set(
        queue.number,
        await load(`queues[${i}].holdAudio.file`, queue.holdAudio.file),
      );
    }
    const announce = queue.announcePosition;
    if (announce === null) continue;
    const key = `queues[${i}].announcePosition.prompts`;
    const intro = await load(`${key}.intro`, announce.prompts.intro);
    const numbers: Prompt[] = [];
    for (const [j, file] of announce.prompts.numbers.entries()) {
      numbers.push(await load(`${key}.numbers[${j}]`, file));
    }
    prompts.position.set(queue.number, { intro, numbers });
  }
  return prompts;
}
