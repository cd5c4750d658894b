/**
 * Midranks (ties share the mean of the ranks they span, 1-based), the building block of the rank
 * statistics of the validation gate: DeLong's structural components and Spearman's correlation. The same
 * convention as `scipy.stats.rankdata(method="average")`.
 */
export function midranks(values: readonly number[]): Float64Array {
  const order = Array.from(values.keys()).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]!] === values[order[start]!]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!] = rank;
    start = end + 1;
  }
  return ranks;
}
