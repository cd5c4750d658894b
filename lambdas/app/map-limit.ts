/**
 * Runs `fn` over `items` with at most `limit` promises in flight; results in input order. Bounded
 * concurrency keeps a Lambda from opening hundreds of DynamoDB requests at once (batch chunks in the
 * ingest, models in the evaluator).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
