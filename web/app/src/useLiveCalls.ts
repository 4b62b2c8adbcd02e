/**
 * The live calls a signed-in user may see, kept current from the event stream: the list
 * is loaded when the stream (re)opens, and each event about a call reloads that call
 * (`call.ended` removes it), except `call.quality`, which carries the call's whole quality
 * and is applied to a call already shown (no request every 2 s per call; nor a 404 for a
 * call whose end follows in a replay). No polling. `extra` receives every event
 * (presence etc.).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api/client.js';
import { EventStream, type StreamEvent } from './eventStream.js';
import type { LiveCall } from './model.js';

export interface LiveCalls {
  calls: LiveCall[];
  connected: boolean;
  /** Reloads one call now (after an action of this page). */
  refresh(id: string): void;
  /** Reloads the whole list (what may be joined changed, e.g. with presence). */
  reload(): void;
}

declare global {
  interface Window {
    /** The page's event stream (tests drop its socket to check resumption). */
    callwatchEvents?: EventStream;
  }
}

export function useLiveCalls(onEvent?: (e: StreamEvent) => void): LiveCalls {
  const [calls, setCalls] = useState<Map<string, LiveCall>>(new Map());
  const [connected, setConnected] = useState(false);
  const ended = useRef(new Set<string>());
  const handler = useRef(onEvent);
  handler.current = onEvent;

  const put = (call: LiveCall) =>
    setCalls((m) => (ended.current.has(call.id) ? m : new Map(m).set(call.id, call)));
  const drop = (id: string) =>
    setCalls((m) => {
      if (!m.has(id)) return m;
      const next = new Map(m);
      next.delete(id);
      return next;
    });

  // One request per call at a time: an event during a request asks for one more after it,
  // so an older answer never lands after a newer one (answers may come out of order).
  const inflight = useRef(new Map<string, { again: boolean }>());
  const refresh = (id: string) => {
    if (ended.current.has(id)) return;
    const running = inflight.current.get(id);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    inflight.current.set(id, state);
    api
      .GET('/v1/calls/{id}', { params: { path: { id } } })
      .then(({ data, response }) => {
        if (response.ok && data) put(data as LiveCall);
        else if (response.status === 404) drop(id);
      })
      .catch(() => {})
      .finally(() => {
        inflight.current.delete(id);
        if (state.again) refresh(id);
      });
  };

  // The whole list, likewise one request at a time; a call event during it (whose own
  // reload may answer first) asks for the list once more, so an older list never wins.
  const listing = useRef<{ again: boolean } | undefined>(undefined);
  const reloadAll = () => {
    if (listing.current) {
      listing.current.again = true;
      return;
    }
    const state = { again: false };
    listing.current = state;
    api
      .GET('/v1/calls', {})
      .then(({ data, response }) => {
        if (!response.ok || !data || state.again) return;
        const list = (data.calls ?? []) as LiveCall[];
        setCalls(new Map(list.filter((c) => !ended.current.has(c.id)).map((c) => [c.id, c])));
      })
      .catch(() => {})
      .finally(() => {
        listing.current = undefined;
        if (state.again) reloadAll();
      });
  };

  useEffect(() => {
    const stream = new EventStream({
      onOpen: () => reloadAll(),
      onState: setConnected,
      onEvent: (e) => {
        handler.current?.(e);
        // Several instances: events were lost during a Redis outage; the list is reloaded.
        if (e.type === 'cluster.events-gap') {
          reloadAll();
          return;
        }
        const id = typeof e.callId === 'string' ? e.callId : undefined;
        if (id === undefined) return;
        if (listing.current) listing.current.again = true;
        // A call's last events may follow its end (the monitor session of a supervisor
        // whose leaving ended the call): it is gone, there is nothing to reload.
        if (ended.current.has(id)) return;
        if (e.type === 'call.quality') {
          const quality = e.quality as LiveCall['quality'];
          setCalls((m) => {
            const call = m.get(id);
            return call === undefined ? m : new Map(m).set(id, { ...call, quality });
          });
        } else if (e.type === 'call.ended') {
          ended.current.add(id);
          drop(id);
        } else {
          refresh(id);
        }
      },
    });
    window.callwatchEvents = stream;
    stream.start();
    return () => {
      stream.stop();
      if (window.callwatchEvents === stream) window.callwatchEvents = undefined;
    };
  }, []);

  return { calls: [...calls.values()], connected, refresh, reload: reloadAll };
}

/** The time now, once a second (the ticking durations). */
export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}
