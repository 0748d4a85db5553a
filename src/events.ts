/** A tiny synchronous event channel: subscribe() returns the function that unsubscribes. */
export class Events<T> {
  readonly #listeners = new Set<(event: T) => void>();

  subscribe(listener: (event: T) => void): () => void {
    if (typeof listener !== "function") {
      throw new TypeError("pulselock: errors.subscribe() needs a function");
    }
    // Wrap so that subscribing the same function twice gives two independent subscriptions.
    const entry = (event: T) => listener(event);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /** Delivers to every listener; a throwing listener neither stops the others nor escapes. */
  emit(event: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's own bug must not break the lock machinery that reported the event.
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}
