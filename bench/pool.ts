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
