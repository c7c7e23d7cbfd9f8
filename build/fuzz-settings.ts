// How many cases the property tests (fast-check) run, and from which seed. npm test runs each with its own small
// count and a fixed seed, so it stays fast and repeatable; `npm run fuzz` (build/run-fuzz.ts) sets FUZZ_SCALE (a
// multiple of those counts) and FUZZ_SEED for a longer run. Only tests read these variables, never the product.

/** The seed every property test starts from: FUZZ_SEED, else a fixed one. */
export const FUZZ_SEED: number = (() => {
  const v = Number(process.env.FUZZ_SEED)
  return Number.isSafeInteger(v) ? v : 20_251_212
})()

/** `inTests` cases in npm test, FUZZ_SCALE times as many in a fuzz run. */
export function fuzzRuns(inTests: number): number {
  const scale = Number(process.env.FUZZ_SCALE)
  return Number.isFinite(scale) && scale > 0 ? Math.max(1, Math.round(inTests * scale)) : inTests
}
