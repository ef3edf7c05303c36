import { expect } from 'vitest';

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** Asserts that `fn` throws an instance of `type` whose contract `code` is `code`, and returns the error. */
export function expectCode<E extends Error & { code: string }>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
  code: string,
): E {
  expect(fn).toThrow(type);
  const error = caught(fn) as E;
  expect(error.code).toBe(code);
  return error;
}
