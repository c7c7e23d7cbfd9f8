// The randomised adversarial run over many seeds (`npm run adversarial -- --seeds N`): one anvil, one channel per
// seed (core/testing/adversary.ts draws the scenario, core/testing/adversarial-run.ts runs it and checks the
// invariants after every checkpoint), a line per seed and a summary. Exits 1 if any invariant broke.
//
//   --seeds N        how many seeds (default 20), from --from S (default 1)
//   --seed S         just this one (repeatable)
//   --epochs E       trading epochs per run instead of the seed's 3 to 5
//   --liveness-ms M  the longest gap between checkpoints allowed with an honest majority online (default 30000)
//   --json FILE      every report (violations with the participants' last log lines)
//   --trace          the participants' last log lines in every report of --json, not only in broken ones
//   --verbose        the runs' own progress lines
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startDevnet } from '../chain/index.js'
import { describeScenario, scenario, type Scenario } from './adversary.js'
import { runScenario, type RunReport } from './adversarial-run.js'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    from: { type: 'string', default: '1' },
    seed: { type: 'string', multiple: true },
    epochs: { type: 'string' },
    'liveness-ms': { type: 'string' },
    json: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
  },
})

const seeds = values.seed?.length
  ? values.seed.map(Number)
  : Array.from({ length: Number(values.seeds) }, (_, i) => Number(values.from) + i)
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
  console.error('seeds are non-negative integers')
  process.exit(2)
}
const epochs = values.epochs === undefined ? undefined : Number(values.epochs)
const livenessMs = values['liveness-ms'] === undefined ? undefined : Number(values['liveness-ms'])

/** The longest one seed may take before it is reported as hung. */
const RUN_LIMIT_MS = 10 * 60_000

function hungReport(s: Scenario): RunReport {
  const violations = [`the run did not end within ${RUN_LIMIT_MS / 1000} s`]
  const zero = { checkpoints: 0, disputes: 0, attacks: 0, majorityCheckpoints: 0, viewChanges: 0, maxGapMs: 0 }
  return { seed: s.seed, scenario: describeScenario(s), ok: false, violations, notes: [], ...zero, ms: RUN_LIMIT_MS, members: [] }
}

const devnet = await startDevnet({ accounts: 10 })
const reports: RunReport[] = []
const kinds = new Map<string, { runs: number; broken: number }>()
const kindsOf = (s: Scenario): string[] => [
  `${s.members} members`,
  s.leader ? `leader ${s.leader.attack}` : 'honest leaders',
  s.member ? `member ${s.member.fault}` : 'honest members',
]
const started = Date.now()
try {
  for (const seed of seeds) {
    const s = scenario(seed, epochs === undefined ? {} : { epochs })
    const run = runScenario(devnet, s, {
      trace: values.trace ? 'always' : true,
      ...(livenessMs === undefined ? {} : { livenessMs }),
      ...(values.verbose ? { log: (line: string) => console.log(`  ${line}`) } : {}),
    })
    // A run bounds its own waits; this is the last resort, so that one hung seed does not hold up the rest.
    let watchdog: NodeJS.Timeout | undefined
    const hung = new Promise<RunReport>((resolve) => {
      watchdog = setTimeout(() => resolve(hungReport(s)), RUN_LIMIT_MS)
    })
    const r = await Promise.race([run, hung]).finally(() => clearTimeout(watchdog))
    reports.push(r)
    for (const k of kindsOf(s)) {
      const x = kinds.get(k) ?? { runs: 0, broken: 0 }
      x.runs++
      if (!r.ok) x.broken++
      kinds.set(k, x)
    }
    const stats = [
      `${r.checkpoints} checkpoints`,
      `${r.attacks} attacks`,
      `${r.disputes} disputes`,
      `${r.majorityCheckpoints} majority`,
      `${r.viewChanges} view-change events`,
      `max gap ${(r.maxGapMs / 1000).toFixed(1)} s`,
      `${(r.ms / 1000).toFixed(1)} s`,
    ].join(', ')
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} seed ${seed}: ${r.scenario} | ${stats}`)
    for (const v of r.violations) console.log(`       violation: ${v}`)
    for (const n of r.notes) console.log(`       note: ${n}`)
  }
} finally {
  await devnet.stop()
}

const broken = reports.filter((r) => !r.ok)
const took = ((Date.now() - started) / 1000).toFixed(0)
console.log(`\n${reports.length} seeds in ${took} s: ${reports.length - broken.length} ok, ${broken.length} with violations`)
for (const [k, x] of [...kinds.entries()].sort()) console.log(`  ${k.padEnd(26)} ${String(x.runs).padStart(4)} runs, ${x.broken} broken`)
if (broken.length) {
  console.log('\nviolations by kind:')
  const byKind = new Map<string, number[]>()
  for (const r of broken) {
    for (const v of r.violations) {
      const kind = v.split(/[,:]/)[0] ?? v
      byKind.set(kind, [...(byKind.get(kind) ?? []), r.seed])
    }
  }
  for (const [k, s] of byKind) console.log(`  ${k}: seeds ${[...new Set(s)].join(' ')}`)
}
const notes = reports.filter((r) => r.notes.length)
if (notes.length) {
  console.log(`\n${notes.length} seeds with notes (stalls without an honest majority, history gaps): ${notes.map((r) => r.seed).join(' ')}`)
}
if (values.json) writeFileSync(values.json, JSON.stringify(reports, (_, v: unknown) => (typeof v === 'bigint' ? `${v}` : v), 2))
process.exit(broken.length ? 1 : 0)
