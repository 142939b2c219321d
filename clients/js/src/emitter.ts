// A small typed event emitter (the browser build has no runtime
// dependencies). A listener that throws does not stop the others, nor the
// client: the error is reported on the next tick, where it is visible.

type Listener<A extends unknown[]> = (...args: A) => void;

export class Emitter<Events extends { [name: string]: unknown[] }> {
  private listeners: { [E in keyof Events]?: Listener<Events[E]>[] } = {};

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    (this.listeners[event] ??= []).push(listener);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const list = this.listeners[event];
    if (!list) return;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
  }

  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const listener of [...(this.listeners[event] ?? [])]) {
      callSafely(listener, ...args);
    }
  }
}

/** Calls an application callback; a throw is rethrown asynchronously. */
export function callSafely<A extends unknown[]>(fn: ((...args: A) => void) | undefined, ...args: A): void {
  if (!fn) return;
  try {
    fn(...args);
  } catch (error) {
    setTimeout(() => {
      throw error;
    }, 0);
  }
}
