/** The value at quantile `q` (0..1) of `values`, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Formats a number with a fixed number of decimals. */
export const fmt = (value: number, digits = 1): string => value.toFixed(digits);

/** One line of a benchmark report: the figure, the baseline, and their ratio. */
export function report(
  name: string,
  figure: { value: number; unit: string },
  baseline?: { label: string; value: number },
): void {
  const parts = [`${name}: ${fmt(figure.value)} ${figure.unit}`];
  if (baseline) {
    parts.push(`baseline (${baseline.label}): ${fmt(baseline.value)} ${figure.unit}`);
    parts.push(`ratio: ${fmt(figure.value / baseline.value, 3)}`);
  }
  console.log(parts.join(' | '));
}
