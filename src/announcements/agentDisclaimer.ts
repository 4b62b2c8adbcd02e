/**
 * The agent's disclaimer (docs/architecture.md §6.9): when a monitoring session becomes
 * active (any mode but takeover, any trigger: feature code, API, the web app, the
 * adapters), the configured prompt plays to the monitored agent's leg alone. The customer,
 * the supervisor and the recording never hear it: a prompt goes into the named leg's
 * outbound audio only, and supervisors and the recording hear what the parties send.
 * A takeover releases the agent at once, so nothing is played then.
 */
import type { Prompt } from '../../media/engine/index.js';
import type { LiveCall } from '../calls/callService.js';
import type { Logger } from '../logging.js';
import type { MonitorSessionRecord } from '../monitoring/monitorSession.js';
import { inBackground } from '../util/background.js';

export interface AgentDisclaimerDeps {
  /** Sessions becoming active (MonitoringService 'attached'). */
  onAttached(listener: (record: MonitorSessionRecord) => void): void;
  /** The answered call by id. */
  answeredCall(callId: string): { live: LiveCall } | undefined;
  prompt: Prompt;
  logger: Logger;
}

export function playAgentDisclaimer(deps: AgentDisclaimerDeps): void {
  deps.onAttached((record) => {
    if (record.modes[0]?.mode === 'takeover') return;
    const live = deps.answeredCall(record.callId)?.live;
    if (live === undefined) return;
    const side = (['a', 'b'] as const).find((s) => live.extensions[s] === record.agent);
    if (side === undefined) return;
    inBackground(
      live.media.playPrompt([side], deps.prompt).then(() => undefined),
      deps.logger,
      'playing the agent disclaimer failed',
      { callId: record.callId },
    );
  });
}
