/**
 * `Promise.withResolvers` (ES2024, Node 22+) for Node 20: `aws-local-stepfunctions` calls it while running Task
 * states. Import this module for its side effect before loading that package; on Node 22+ it does nothing.
 */

interface PromiseWithResolversShim<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const PromiseWithShim = Promise as PromiseConstructor & {
  withResolvers?: <T>() => PromiseWithResolversShim<T>;
};

if (typeof PromiseWithShim.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    // Not enumerable, like the built-in it stands in for.
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): PromiseWithResolversShim<T> {
      let resolve!: PromiseWithResolversShim<T>['resolve'];
      let reject!: PromiseWithResolversShim<T>['reject'];
      // `this`, not `Promise`, so that subclasses get instances of themselves, as the specification requires.
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
