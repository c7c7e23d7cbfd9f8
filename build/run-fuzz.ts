// `npm run fuzz`: the property tests (fast-check) with many more cases than npm test gives them, from a random seed
// unless one is given, so each run tries new inputs; a failure prints the seed and the shrunk counterexample, and
// `npm run fuzz -- --seed S` replays it.
//   npm run fuzz [-- --scale N] [--seed S] [--only NAME]
// --scale: how many times npm test's count of cases (default 50); --only: the files whose path contains NAME.
// Files run one after another (each starts its own chain, processes or server); exits 1 if any failed.
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { parseArgs } from 'node:util'

const FILES = [
  'core/protocol/entry-decoder-fuzz.test.ts',
  'core/node/api-dispatch-fuzz.test.ts',
  'core/node/ui-server-fuzz.test.ts',
  'core/cli/headless-node-bad-input.test.ts',
]

const { values } = parseArgs({ options: { scale: { type: 'string', default: '50' }, seed: { type: 'string' }, only: { type: 'string' } } })
const scale = Number(values.scale)
const seed = values.seed === undefined ? randomInt(2 ** 31) : Number(values.seed)
if (!(scale > 0) || !Number.isSafeInteger(seed)) {
  console.error('usage: npm run fuzz [-- --scale N] [--seed S] [--only NAME]  (N > 0, S a whole number)')
  process.exit(2)
}
const files = FILES.filter((f) => values.only === undefined || f.includes(values.only))
console.log(`fuzz: seed ${seed}, ${scale} times npm test's cases, ${files.length} files`)
let failed = 0
for (const file of files) {
  const t0 = Date.now()
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=dot', file], {
    stdio: 'inherit',
    env: { ...process.env, FUZZ_SCALE: String(scale), FUZZ_SEED: String(seed) },
  })
  const ok = run.status === 0
  if (!ok) failed++
  console.log(`${ok ? 'passed' : 'FAILED'} ${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}
console.log(`fuzz: ${files.length - failed} passed, ${failed} failed (seed ${seed}, scale ${scale})`)
process.exit(failed === 0 ? 0 : 1)
