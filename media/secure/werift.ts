/**
 * werift, loaded once per thread on first use: it is a large module (its import takes
 * about a second on a busy core), and only a server with WebRTC legs needs it. The media
 * worker starts loading it when it is given a certificate; the engine when it makes one.
 */
export type Werift = typeof import('werift');

let loading: Promise<Werift> | undefined;

export function loadWerift(): Promise<Werift> {
  loading ??= import('werift');
  return loading;
}
