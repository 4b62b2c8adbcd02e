/**
 * The queues' WAV hold audio (docs/architecture.md §9.5): each `holdAudio.file` is read,
 * checked and converted (media/prompts/promptWav.ts) and loaded into the media engine's
 * workers once, at start, like the announcements (src/announcements/prompts.ts). A file
 * that is missing or not a fitting WAV fails the start with a StartError naming its key
 * (`queues[1].holdAudio.file`) and the file.
 */
import { loadPromptFile } from '../../media/engine/index.js';
import type { MediaEngine, Prompt } from '../../media/engine/index.js';
import type { QueueConfig } from '../config/schema.js';
import { startStep } from '../util/startError.js';

/** Each queue with a WAV hold file: its number → the loaded prompt. */
export async function loadHoldPrompts(
  queues: readonly QueueConfig[],
  engine: MediaEngine,
): Promise<Map<string, Prompt>> {
  const prompts = new Map<string, Prompt>();
  for (const [i, queue] of queues.entries()) {
    if (!('file' in queue.holdAudio)) continue;
    const path = queue.holdAudio.file;
    const prompt = await startStep('loading hold audio', `queues[${i}].holdAudio.file`, () =>
      engine.loadPrompt(loadPromptFile(path)),
    );
    prompts.set(queue.number, prompt);
  }
  return prompts;
}
