/**
 * The shortest registry bucket TTL on a cluster (PROTOCOL.md, Registry): entries must outlive
 * a registry stall. A leader election took 4–6 s on nats-server 2.9.10 (8 s seen under load),
 * and the TTL only collects the entries of crashed workers: staleness is judged by
 * `heartbeatAt`, never by the TTL.
 */
export const clusterMinBucketTtlMs = 30_000;

/** The TTL of a registry bucket the worker creates: 3 × heartbeat, at least 30 s on a cluster. */
export function registryBucketTtlMs(heartbeatMs: number, clustered: boolean): number {
  const ttl = 3 * heartbeatMs;
  return clustered ? Math.max(ttl, clusterMinBucketTtlMs) : ttl;
}

/**
 * What is wrong with the TTL of an existing bucket, if anything: shorter than 2 × heartbeat
 * (live entries may expire between heartbeats), or, on a cluster, shorter than 30 s (entries
 * expire during a leader election). `0` is no TTL: nothing expires.
 */
export function bucketTtlProblem(
  ttlMs: number,
  heartbeatMs: number,
  clustered: boolean,
): string | undefined {
  if (ttlMs <= 0) return undefined;
  if (ttlMs < 2 * heartbeatMs) {
    return 'registry bucket TTL is shorter than 2 x heartbeat: live entries may expire between heartbeats';
  }
  if (clustered && ttlMs < clusterMinBucketTtlMs) {
    return 'registry bucket TTL is shorter than 30 s on a cluster: entries may expire while a JetStream leader is elected';
  }
  return undefined;
}

/** A watched entry's last sign of life, for {@link registryStalled}. */
export interface Silence {
  /** Local epoch ms of the last update seen. */
  readonly seenAt: number;
  readonly heartbeatMs: number;
}

/**
 * Whether the whole bucket has gone silent: no entry updated for 2 × the longest heartbeat.
 * While workers live, one of them writes every heartbeat, so an entry that goes stale while
 * the bucket is not silent belongs to a dead worker and may be dropped. A JetStream leader
 * election stops every write at once (PROTOCOL.md: the registry stalled, not the workers):
 * entries then go stale one after the other within one heartbeat, each while the bucket is
 * silent. The reader confirms those with `$SRV.PING.<svc>` before it drops any, and keeps the
 * instances that answer. A lone worker's death looks the same: the ping decides.
 */
export function registryStalled(entries: readonly Silence[], now: number): boolean {
  if (entries.length === 0) return false;
  const newest = Math.max(...entries.map((e) => e.seenAt));
  const longest = Math.max(...entries.map((e) => e.heartbeatMs));
  return now - newest > 2 * longest;
}
