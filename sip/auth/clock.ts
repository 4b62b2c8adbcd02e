/** The auth module only reads time: the stack's Clock without timers. */
import type { Clock as StackClock } from '../clock.js';

export type Clock = Pick<StackClock, 'now'>;
