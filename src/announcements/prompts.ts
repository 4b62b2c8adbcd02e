/**
 * The announcements' prompts (docs/architecture.md §6.9): each configured WAV file is read,
 * checked and converted (media/prompts/promptWav.ts) and loaded into the media engine's
 * workers once, at start. A file that is missing or not a fitting WAV fails the start
 * with a StartError naming its key (`announcements.callerOnAnswer`) and the file.
 */
import { loadPromptFile } from '../../media/engine/index.js';
import type { MediaEngine, Prompt } from '../../media/engine/index.js';
import type { AnnouncementsConfig } from '../config/schema.js';
import { startStep } from '../util/startError.js';

export interface AnnouncementPrompts {
  /** Played to the caller when a call is answered, before the parties are connected. */
  callerOnAnswer: Prompt | null;
  /** Played to the agent alone when a monitoring session begins. */
  agentOnMonitor: Prompt | null;
}

/** Reads every configured prompt, then loads it into the engine. */
export async function loadAnnouncements(
  config: AnnouncementsConfig,
  engine: MediaEngine,
): Promise<AnnouncementPrompts> {
  const load = async (key: keyof AnnouncementsConfig): Promise<Prompt | null> => {
    const path = config[key];
    if (path === null) return null;
    return startStep('loading a prompt', `announcements.${key}`, () =>
      engine.loadPrompt(loadPromptFile(path)),
    );
  };
  return {
    callerOnAnswer: await load('callerOnAnswer'),
    agentOnMonitor: await load('agentOnMonitor'),
  };
}
