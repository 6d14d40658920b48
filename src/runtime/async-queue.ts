/** A minimal push → async-iterate queue, so `stream()` can hand events out as they happen. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(result: IteratorResult<T>) => void> = [];
  private done = false;

  push(item: T): void {
    if (this.done) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.items.push(item);
  }

  end(): void {
    this.done = true;
    for (const waiter of this.waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterate();
  }

  /** An iterator whose early exit (`break`, `return`) calls `onReturn` and drops what is queued. */
  iterate(onReturn?: () => void): AsyncIterator<T> {
    return {
      return: () => {
        onReturn?.();
        this.end();
        this.items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
    };
  }
}
