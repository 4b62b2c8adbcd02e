/**
 * Route sets and request targeting (RFC 3261 §12.1.1, §12.1.2, §12.2.1.1, §16.12).
 *
 * With a loose router first in the route set (`;lr`), the Request-URI is the remote
 * target and the Route headers are the route set. With a strict router first (RFC 2543,
 * no `;lr`), the Request-URI is that first route, the Route headers are the rest of the
 * route set followed by the remote target.
 */
import {
  attempt,
  formatNameAddr,
  formatUri,
  isSipUri,
  parseUri,
  tryParseNameAddr,
  type NameAddr,
  type Uri,
} from '../message/index.js';

/** Parses Record-Route values (one per list element); undefined if any is malformed. */
export function parseRouteSet(values: readonly string[]): NameAddr[] | undefined {
  const routes: NameAddr[] = [];
  for (const value of values) {
    const route = tryParseNameAddr(value);
    if (route === undefined) return undefined;
    routes.push(route);
  }
  return routes;
}

/** A route through a loose router (RFC 3261 §19.1.1 `lr` parameter). */
export function isLooseRoute(route: NameAddr): boolean {
  return isSipUri(route.uri) && route.uri.params.has('lr');
}

const METHOD_TEXT = /method/i;

/**
 * A URI made fit for a Request-URI: no `method` parameter and no headers (§19.1.1
 * table 1; §12.2.1.1 "stripping any parameters that are not allowed in a Request-URI").
 */
export function requestUriText(uriText: string, parsed?: Uri): string {
  // Without a '?' there are no headers, and without "method" (any case: parameter names
  // are compared lowercased, never unescaped) no method parameter: the text is fit as it
  // is, and a dialog's remote target, reused for every request in it, is not parsed again.
  if (parsed === undefined && !uriText.includes('?') && !METHOD_TEXT.test(uriText)) {
    return uriText;
  }
  const uri = parsed ?? attempt(() => parseUri(uriText));
  if (uri === undefined || !isSipUri(uri)) return uriText;
  if (!uri.params.has('method') && uri.headers.length === 0) return uriText;
  const params = new Map(uri.params);
  params.delete('method');
  return formatUri({ ...uri, params, headers: [] });
}

export interface RequestTarget {
  /** The Request-URI. */
  requestUri: string;
  /** Route header values, in order. */
  routes: string[];
}

/** §12.2.1.1: Request-URI and Route headers for a request within a dialog. */
export function targetRequest(routeSet: readonly NameAddr[], remoteTarget: string): RequestTarget {
  const [first, ...rest] = routeSet;
  if (first === undefined) return { requestUri: requestUriText(remoteTarget), routes: [] };
  if (isLooseRoute(first)) {
    return { requestUri: requestUriText(remoteTarget), routes: routeSet.map(formatNameAddr) };
  }
  return {
    requestUri: requestUriText(first.uriText, first.uri),
    routes: [...rest.map(formatNameAddr), `<${remoteTarget}>`],
  };
}
