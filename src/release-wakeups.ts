import type { Database } from "./database";
import type { Subscriber } from "./transport";

/**
 * Wakes mutex() waiters the moment a lock is released, through Redis pub/sub
 * on one subscriber connection per Locker, opened on the first wait. Where
 * the transport has no pub/sub (HTTP), listen() returns a no-op and waiters
 * rely on polling alone.
 */
export class ReleaseWakeups {
  private subscriber: Subscriber | undefined;
  private readonly listeners = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Calls `onWake` on each release of `name` until the returned function is called. */
  async listen(name: string, onWake: () => void): Promise<() => void> {
    const open = this.db.transport.openSubscriber;
    if (!open || this.closed) return () => {};
    const channel = this.db.wakeChannel(name);
    let set = this.listeners.get(channel);
    const first = !set;
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(onWake);
    const stop = () => this.remove(channel, onWake);
    if (first) {
      try {
        this.subscriber ??= open.call(
          this.db.transport,
          (ch) => this.listeners.get(ch)?.forEach((wake) => wake()),
          this.onError,
        );
        await this.subscriber.subscribe(channel);
      } catch (error) {
        this.onError(error); // polling still works
      }
    }
    return stop;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    await sub?.close();
  }

  private remove(channel: string, onWake: () => void): void {
    const set = this.listeners.get(channel);
    if (!set?.delete(onWake) || set.size > 0) return;
    this.listeners.delete(channel);
    this.subscriber?.unsubscribe(channel).catch(this.onError);
  }
}
