/**
 * Node 20 lacks `Promise.withResolvers` (added in Node 22); aws-local-stepfunctions 3.x calls it.
 * Lambda runs nodejs24.x, so only local mode and tests on Node 20 need this.
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
