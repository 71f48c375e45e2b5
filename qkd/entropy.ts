/** Binary entropy h(x) in bits; h(0) = h(1) = 0, capped to 1 above 0.5 by the callers that need it. */
export function binaryEntropy(x: number): number {
  if (x <= 0 || x >= 1) return 0;
  return -x * Math.log2(x) - (1 - x) * Math.log2(1 - x);
}
