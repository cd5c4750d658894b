/**
 * Node 20 lacks `Promise.withResolvers` (added in Node 22); aws-local-stepfunctions 3.x calls it.
 * Lambda runs nodejs22.x, so only local mode and tests need this.
 */
if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
