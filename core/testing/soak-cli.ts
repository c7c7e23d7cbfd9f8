// The soak (`npm run soak -- --peers N --minutes M`): peers as separate processes on a local chain and DHT, paying
// each other while a random one is killed with SIGKILL and restarted every few seconds, one writing junk; then the
// checks of core/testing/soak.ts. Exits 1 if any failed.
//
//   --peers N          peers, the junk writer included (default 4)
//   --minutes M        how long to pay and kill (default 2)
//   --seed S           the choices' seed (default random, printed)
//   --kill-every-ms T  the mean time between kills (default 10000)
//   --down-ms T        the mean time a killed peer stays down, each drawn from 0 to twice it (default 5000)
//   --pay-every-ms T   the mean time between two payments of a peer (default 2000)
//   --junk KIND        garbage (junk every half second, default) or flood (40,000 entries once per start)
//   --epoch-ms T, --leader-timeout-ms T   the peers' timing (default 2000, 8000)
//   --settle-ms T      how long the end may wait for payments to settle (default 180000)
//   --stall-limit-ms T no checkpoint for this long while killing fails and ends the killing (default 300000)
//   --heap-limit-mib M a peer's heap above this fails (default 512)
//   --json FILE        the report
//   --keep             keep the work directory (data directories, each peer's event log) even if all is well
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { toJson } from '../node/wire.js'
import { describeSoak, runSoak } from './soak.js'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '4' },
    minutes: { type: 'string', default: '2' },
    seed: { type: 'string' },
    'kill-every-ms': { type: 'string' },
    'down-ms': { type: 'string' },
    'pay-every-ms': { type: 'string' },
    junk: { type: 'string', default: 'garbage' },
    'epoch-ms': { type: 'string' },
    'leader-timeout-ms': { type: 'string' },
    'settle-ms': { type: 'string' },
    'stall-limit-ms': { type: 'string' },
    'heap-limit-mib': { type: 'string' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})

/** A flag's number, or exit 2 saying what is wrong. */
function num(name: keyof typeof values, min: number, max: number): number | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  const x = Number(v)
  if (typeof v !== 'string' || !/^[0-9]+(\.[0-9]+)?$/.test(v) || !(x >= min && x <= max)) {
    console.error(`--${name} must be a number from ${min} to ${max}, not ${JSON.stringify(v)}`)
    process.exit(2)
  }
  return x
}

if (values.junk !== 'garbage' && values.junk !== 'flood') {
  console.error(`--junk must be garbage or flood, not ${JSON.stringify(values.junk)}`)
  process.exit(2)
}
const peers = num('peers', 3, 16)!
if (!Number.isInteger(peers)) {
  console.error('--peers must be a whole number')
  process.exit(2)
}
const heapMiB = num('heap-limit-mib', 1, 65_536)
const opt = <K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> => (v === undefined ? {} : ({ [key]: v } as Record<K, number>))
const report = await runSoak({
  peers,
  minutes: num('minutes', 0.1, 10_000)!,
  junk: values.junk,
  keep: values.keep,
  log: (line) => console.log(line),
  ...opt('seed', num('seed', 0, 2 ** 31)),
  ...opt('killEveryMs', num('kill-every-ms', 1000, 3_600_000)),
  ...opt('downMs', num('down-ms', 0, 3_600_000)),
  ...opt('payEveryMs', num('pay-every-ms', 10, 3_600_000)),
  ...opt('epochMs', num('epoch-ms', 10, 86_400_000)),
  ...opt('leaderTimeoutMs', num('leader-timeout-ms', 10, 86_400_000)),
  ...opt('settleMs', num('settle-ms', 0, 86_400_000)),
  ...opt('stallLimitMs', num('stall-limit-ms', 1000, 86_400_000)),
  ...opt('heapLimitBytes', heapMiB === undefined ? undefined : heapMiB * 2 ** 20),
})
console.log('')
for (const line of describeSoak(report)) console.log(line)
if (values.json) writeFileSync(values.json, `${toJson(report)}\n`)
process.exit(report.ok ? 0 : 1)
