import type { RedisDatabase } from "../../src/database";
import type { ReleaseWakeups } from "../../src/release-wakeups";
import type { Subscriber } from "../../src/transport";

interface Channel {
  listeners: Set<() => void>;
  /** Settles once the subscription is in place (or failed, leaving polling). */
  ready: Promise<void>;
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

  /** Calls `onWake` on each release announced on `name_` (a lock's db.wakeChannel(), a semaphore's key) until the returned function is called. */
  async listen(name_: string, onWake: () => void): Promise<() => void> {
    const open = this.#db.transport.openSubscriber;
    if (!open || this.#closed) return () => {};
    let channel = this.#channels.get(name_);
    if (!channel) {
      const subscriber = (this.#subscriber ??= open.call(
        this.#db.transport,
        (ch) => this.#channels.get(ch)?.listeners.forEach((wake) => wake()),
        this.#onError,
      ));
      // A failed subscription only costs speed: polling still finds the release.
      channel = { listeners: new Set(), ready: subscriber.subscribe(name_).catch(this.#onError) };
      this.#channels.set(name_, channel);
    }
    channel.listeners.add(onWake);
    await channel.ready;
    return () => this.#remove(name_, onWake);
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
      sub?.unsubscribe(name).catch(this.#onError);
      return;
    }
    this.#subscriber = undefined;
    sub?.close().catch(this.#onError);
  }
}
