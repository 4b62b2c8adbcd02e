/**
 * Names of the shared state in Redis (docs/architecture.md "Several instances"). Every
 * key starts with the configured prefix, so several deployments may share one Redis.
 */
export interface ClusterKeys {
  /** One registration binding, expiring with it. */
  binding(extension: string, key: string): string;
  /** Pattern matching every binding key (SCAN at start and after a reconnect). */
  bindingPattern: string;
  /** Pub/sub channel of binding changes. */
  bindingChannel: string;
  /** One live call's owner and summary, expiring unless its owner refreshes it. */
  call(id: string): string;
  /** Sorted set of live call ids (score: start time), the index over call(id). */
  callIndex: string;
  /** An instance's heartbeat, expiring unless refreshed. */
  instance(id: string): string;
  /** The instance that holds one live monitor session, expiring unless refreshed. */
  monitor(id: string): string;
  /** Pub/sub channel of the events each instance's calls raise. */
  eventChannel: string;
  /** One web sign-in session, by the SHA-256 of its id, expiring when unused. */
  session(hash: string): string;
  /** A supervisor's presence other than available, expiring unless its instance refreshes it. */
  presence(extension: string): string;
  /** Pattern matching every presence key. */
  presencePattern: string;
  /** Pub/sub channel of presence changes. */
  presenceChannel: string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    binding: (extension, key) => `${prefix}binding:${extension}:${key}`,
    bindingPattern: `${prefix}binding:*`,
    bindingChannel: `${prefix}bindings`,
    call: (id) => `${prefix}call:${id}`,
    callIndex: `${prefix}calls`,
    instance: (id) => `${prefix}instance:${id}`,
    monitor: (id) => `${prefix}monitor:${id}`,
    eventChannel: `${prefix}events`,
    session: (hash) => `${prefix}session:${hash}`,
    presence: (extension) => `${prefix}presence:${extension}`,
    presencePattern: `${prefix}presence:*`,
    presenceChannel: `${prefix}presence`,
  };
}
