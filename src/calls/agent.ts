/**
 * Who the agent of a call is: the extension monitoring attaches to, whose seat a
 * takeover gives the supervisor (docs/architecture.md §4, §9.2.1). One rule for the whole
 * server: the calling extension of an outbound call (an agent dialling a customer), else
 * the callee extension (a customer or a colleague calling in), else the calling
 * extension. A side a takeover released is nobody's seat any more: never the agent.
 */
import type { Side } from './callMedia.js';
import type { CallDirection } from './dialPlan.js';

export interface Agent {
  extension: string;
  side: Side;
}

export function agentOf(
  direction: CallDirection,
  extensions: Partial<Record<Side, string>>,
  released?: Side,
): Agent | undefined {
  const at = (side: Side): Agent | undefined => {
    const extension = extensions[side];
    return extension === undefined || side === released ? undefined : { extension, side };
  };
  return (direction === 'outbound' ? at('a') : undefined) ?? at('b') ?? at('a');
}
