/**
 * Wires monitoring and the recording tap to the call service (server.ts calls this once):
 * feature-code INVITEs go to the monitoring service, monitoring dialogs are routed to
 * their sessions, answered calls start recording, and an ended call ends its monitor
 * sessions and completes its recording's sidecar. Metrics observe all of it.
 */
import type { Registry } from 'prom-client';
import type { MediaEngine } from '../../media/engine/index.js';
import type { CallService } from '../calls/callService.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import { registerMonitoringMetrics } from '../metrics/monitoringMetrics.js';
import { RecordingTap } from '../recording/recordingTap.js';
import { MonitoringService } from './monitoringService.js';

export interface Supervision {
  monitoring: MonitoringService;
  recordings: RecordingTap;
  /** Ends every monitor session (before the calls end). */
  close(): Promise<void>;
}

export function startSupervision(deps: {
  config: Config;
  calls: CallService;
  engine: MediaEngine;
  registry: Registry;
  logger: Logger;
  /** Wall-clock ms minus the call clock's ms. */
  wallOffset: number;
}): Supervision {
  const { config, calls, logger } = deps;
  const monitoring = new MonitoringService({
    config,
    calls: {
      answeredCallOf(extension) {
        const found = calls.answeredCallOf(extension);
        if (found === undefined) return undefined;
        const { call, side } = found;
        return {
          side,
          call: {
            id: call.record.id,
            media: call.media,
            release: (s) => call.release(s),
            hangUpAfterTakeover: () => void call.end('supervisor-hangup'),
          },
        };
      },
      registerDialog: (key, handler) => calls.registerDialog(key, handler),
      unregisterDialog: (key) => calls.unregisterDialog(key),
    },
    context: (id) => calls.context(id),
    contact: (source) => calls.contact(source),
  });
  const recordings = new RecordingTap(
    config,
    logger.child({ module: 'recording' }),
    deps.wallOffset,
  );
  calls.setInviteInterceptor((incoming, extension, dialled) =>
    monitoring.tryInvite(incoming, extension, dialled),
  );
  calls.on('liveAnswered', (live) => {
    recordings
      .answered(live)
      .catch((err: unknown) =>
        logger.error({ err, callId: live.record.id }, 'recording did not start'),
      );
  });
  calls.on('liveEnded', (live) => {
    const history = monitoring.historyOf(live.record.id);
    void monitoring.callEnded(live.record.id);
    recordings
      .ended(live, history)
      .catch((err: unknown) =>
        logger.error({ err, callId: live.record.id }, 'recording sidecar not written'),
      );
  });
  registerMonitoringMetrics(deps.registry, monitoring, deps.engine, recordings);
  return { monitoring, recordings, close: () => monitoring.close() };
}
