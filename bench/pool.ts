/**
 * Runs tasks `0 … count-1` on `concurrency` workers. Each worker runs its tasks one after another (so a worker can
 * own state, e.g. an account), and takes the next free task index when it finishes one. The first failure stops
 * every worker from taking new tasks and is rethrown once the tasks in flight have settled.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number, worker: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (id: number): Promise<void> => {
    while (!failure && next < count) {
      const index = next++;
      try {
        await task(index, id);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, id) => worker(id)));
  if (failure) throw failure.error;
}

/**
 * Runs one worker per queue: worker `w` runs the items of `queues[w]` one after another (so it never races itself
 * on a resource its queue owns, e.g. an account). As in {@link runPool}, the first failure stops every worker from
 * taking new items and is rethrown once the items in flight have settled.
 */
export async function runQueues<T>(
  queues: readonly (readonly T[])[],
  task: (item: T, worker: number) => Promise<void>,
): Promise<void> {
  let failure: { error: unknown } | undefined;
  const worker = async (queue: readonly T[], id: number): Promise<void> => {
    for (const item of queue) {
      if (failure) return;
      try {
        await task(item, id);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(queues.map((queue, id) => worker(queue, id)));
  if (failure) throw failure.error;
}
