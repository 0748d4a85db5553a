import type { RedisDatabase } from "../../src/database";
import type { ReleaseWakeups } from "../../src/release-wakeups";
import type { Subscriber } from "../../src/transport";

interface Channel {
  listeners: Set<() => void>;
  /** Settles once the subscription is in place (or failed, leaving polling); undefined once it has. */
  ready: Promise<void> | undefined;
}

/**
 * Wakes mutex() waiters the moment a lock is released, through Redis pub/sub
 * on one subscriber connection per Locker, opened on the first wait and
 * closed when nobody waits any more. Where
 * the transport has no pub/sub (HTTP), listen() returns a no-op and waiters
 * rely on polling alone.
 */
export class PubSubWakeups implements ReleaseWakeups {
  #subscriber: Subscriber | undefined;
  readonly #channels = new Map<string, Channel>();
  #closed = false;

  readonly #db: RedisDatabase;
  readonly #onError: (error: unknown) => void;

  constructor(db: RedisDatabase, onError: (error: unknown) => void) {
    this.#db = db;
    this.#onError = onError;
  }

  /** Calls `onWake` on each release announced on `name_` (a lock's db.wakeChannel(), a semaphore's key) until `stop`; see ReleaseWakeups. */
  listen(name_: string, onWake: () => void): { stop: () => void; ready?: Promise<void> } {
    const open = this.#db.transport.openSubscriber;
    if (!open || this.#closed) return { stop: () => {} };
    let channel = this.#channels.get(name_);
    if (!channel) {
      if (!this.#subscriber) {
        // The subscriber's own failures name it, so that those of one already closed are dropped (see #report).
        let opened: Subscriber | undefined;
        this.#subscriber = opened = open.call(
          this.#db.transport,
          (ch) => this.#channels.get(ch)?.listeners.forEach((wake) => wake()),
          (error) => this.#report(opened, error),
        );
      }
      const subscriber = this.#subscriber;
      // A failed subscription only costs speed: polling still finds the release.
      const created: Channel = { listeners: new Set(), ready: undefined };
      created.ready = subscriber.subscribe(name_).then(
        () => void (created.ready = undefined),
        (error: unknown) => {
          created.ready = undefined;
          this.#report(subscriber, error);
        },
      );
      this.#channels.set(name_, (channel = created));
    }
    channel.listeners.add(onWake);
    return { stop: () => this.#remove(name_, onWake), ...(channel.ready ? { ready: channel.ready } : {}) };
  }

  /**
   * A failure of the subscriber in use goes to `locker.errors`; one of a subscriber already closed (a SUBSCRIBE still
   * out when terminate() or the last waiter closed it) is that close, not a fault, and would fire error monitors on
   * every clean shutdown. (`sub` is undefined only while open() runs, before it can be closed.)
   */
  #report(sub: Subscriber | undefined, error: unknown): void {
    if (!this.#closed && (sub === undefined || sub === this.#subscriber)) this.#onError(error);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    await sub?.close();
  }

  /**
   * Unsubscribes a channel nobody waits on; with no channel left, closes the
   * connection, so that an idle Locker holds no socket that keeps a process
   * alive (a cluster client's sockets cannot be unref'd).
   */
  #remove(name: string, onWake: () => void): void {
    const channel = this.#channels.get(name);
    if (!channel?.listeners.delete(onWake) || channel.listeners.size > 0) return;
    this.#channels.delete(name);
    const sub = this.#subscriber;
    if (this.#channels.size > 0) {
      sub?.unsubscribe(name).catch((error: unknown) => this.#report(sub, error));
      return;
    }
    this.#subscriber = undefined;
    // Nobody waits any more: a close that fails leaves nothing to do, and nothing anyone should be told of.
    sub?.close().catch(() => {});
  }
}
