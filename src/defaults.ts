/**
 * Every default of pulselock in one frozen object, so that the numbers and
 * their reasons live in one place and cannot drift apart between files.
 * Frozen, so that no code can change a default for every Locker at once.
 * @namespace
 */
export const DEFAULTS = Object.freeze({
  /**
   * How often the liveness thread rewrites this process's liveness record.
   * One write covers every lock of the process, so it can be frequent; five
   * writes fit in one {@link DEFAULTS.reportTtlMs}, so a few slow or lost
   * writes do not make a healthy process look dead.
   * @default 2000
   */
  reportWriteMs: 2000,
  /**
   * How long a liveness record lives without a rewrite. It bounds how fast
   * the fleet takes over the locks of a dead process (G3), and how long a
   * partitioned owner may keep working before it must stop (G4). 10 s rides
   * out a Redis failover or a network blip of a few seconds.
   * @default 10000
   */
  reportTtlMs: 10000,
  /**
   * How long the first acquire waits for the liveness thread to start and
   * make its first write. Starting a thread and connecting to Redis takes
   * well under a second; 15 s covers a cold container on a slow network.
   * @default 15000
   */
  reporterWorkerSpawnTimeoutMs: 15000,
  /**
   * The least time between two ownership rechecks made by heartbeats. A
   * recheck is one cheap read; 5 s means a taken-over owner learns it within
   * seconds while a hot heartbeat loop costs no Redis traffic in between.
   * @default 5000
   */
  lockRecheckMs: 5000,
  /**
   * The least time between two lock extensions made by heartbeats. The lock
   * also survives through the liveness record, so extending once a minute is
   * enough; five extensions fit in one {@link DEFAULTS.lockTtlMs}.
   * @default 60000
   */
  lockExtendMs: 60000,
  /**
   * How long a lock lives without an extension. Long on purpose: a main
   * thread blocked by a long synchronous step (or a long GC pause) must not
   * lose its lock, and a dead holder is found through its liveness record,
   * not through this TTL.
   * @default 300000
   */
  lockTtlMs: 300000,
  /**
   * The first pause of mutex() between two tries, before backoff doubles it.
   * @default 100
   */
  mutexRecheckMs: 100,
  /**
   * The longest pause of mutex() between two tries. On Node a release wakes
   * waiters at once through pub/sub, so the poll is only a fallback and may be
   * slow; 2 s keeps the load of many waiters low.
   * @default 2000
   */
  mutexMaxBackoffMs: 2000,
  /**
   * The largest rate at which the process's clock may run slower than the
   * Redis server's clock. The self-fencing deadline is shortened by this share
   * of each TTL so that an owner stops before Redis expires its record even
   * with such a drift. NTP keeps real drift under 0.05 %.
   * @default 0.002
   */
  clockDriftRate: 0.002,
  /**
   * A fixed safety margin taken off every self-fencing deadline, for timer
   * latency in the owner between the deadline and the abort. Fixed rather
   * than a share of the TTL, since timer latency does not shrink with the TTL;
   * it also sets the shortest TTL a Locker accepts (4 margins, 200 ms).
   * @default 50
   */
  fencingMarginMs: 50,
  /**
   * How long one WAIT may take (RedisDatabase option replicationTimeoutMs).
   * Replication within a data centre takes about a millisecond; half a second
   * rides out a busy replica, yet is far below the fencing windows, so an
   * unreplicated write fails long before anyone could take the lock over.
   * @default 500
   */
  replicationTimeoutMs: 500,
});

export type Defaults = typeof DEFAULTS;
