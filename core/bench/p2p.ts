// Peer-to-peer benchmark (a benchmark, not a test): with each peer a separate `node` process on a local DHT and
// anvil, for 2, 4, 8, 16 and 64 peers: receipted transfers per second with `window` payments in flight per peer,
// their request-to-receipt p50 and p99, the same for one payment at a time, and the CPU milliseconds all peer
// processes spent per receipted payment under load (what a machine with a core per peer would do), and what an idle
// peer costs (CPU ms a second, all peers joined, nothing sent). The in-memory figure (4 members in one process) comes
// first, as the reference; with 16 or more peers asked for, 16 members in one process follow it, as context for the
// 16-peer rows (how much more the protocol itself costs with 16 members, without processes or replication).
// The window is measured after `warm-up` seconds of the same load and the close of an epoch, not counted: as in the
// in-memory figure, compiled code is what gets measured, not each peer process compiling its payment path (at 16
// peers that compilation was a tenth of the machine's CPU in a window that began with the load). Mostly: each of 16
// peers runs its payment path a quarter as often as each of 4 does, so V8 reaches its optimizing thresholds later,
// and 10 to 20 s into the load a 16-peer member still makes first optimized code (`--warm-up 20` measures past
// that; a longer warm-up also lets the backlog of an overloaded 64-peer run grow: see README). It spans whole
// epochs (see EPOCH_WAIT_MS).
// Usage: npm run bench:p2p [-- --json FILE] [-- --peers 2,4] [-- --seconds S] [-- --warm-up S] [-- --window W]
//   [-- --one-at-a-time N]
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Wallet } from 'ethers'
import createTestnet from 'hyperdht/testnet.js'
import { CHANNEL_LIMITS, ChannelClient, startDevnet } from '../chain/index.js'
import { PeerProcess } from '../node/peer-process.js'
import type { Hex } from '../protocol/types.js'
import { inMemoryRun } from './in-memory-run.js'

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    peers: { type: 'string', default: '2,4,8,16,64' },
    seconds: { type: 'string', default: '10' },
    'warm-up': { type: 'string', default: '3' },
    window: { type: 'string', default: '32' },
    'one-at-a-time': { type: 'string', default: '200' },
  },
})
const COUNTS = values.peers.split(',').map(Number)
const SECONDS = Number(values.seconds)
const WARM_UP_SECONDS = Number(values['warm-up'])
const WINDOW = Number(values.window) // payments each peer keeps open
const SINGLES = Number(values['one-at-a-time'])
const IDLE_SECONDS = 5
/**
 * The measured window begins and ends as an epoch begins (at least `seconds` long), waiting at most this long for
 * each: a member not party to a payment does most of its work for it in a burst as the epoch closes (it reads the
 * leader's receipts to check the proposal), so a window cut mid-epoch charges some payments' work to others. The
 * warm-up thereby includes an epoch's close, so that burst's code is compiled too.
 */
const EPOCH_WAIT_MS = 60_000

interface Row {
  peers: number
  transfersPerSecond: number
  p50Ms: number
  p99Ms: number
  oneAtATimeP50Ms: number
  oneAtATimeP99Ms: number
  cpuMsPerPayment: number
  /** CPU ms a second an idle peer spends (mean over peers, all of them joined, no payment under way). */
  idleCpuMsPerPeerSecond: number
}

const percentile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN

/** CPU milliseconds a process has used (user + system), from /proc (Linux; NaN elsewhere). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime, stime in ticks of 1/100 s
  } catch {
    return NaN
  }
}

async function measure(n: number): Promise<Row> {
  const devnet = await startDevnet({ accounts: n + 1 })
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const work = mkdtempSync(join(tmpdir(), 'bench-p2p-'))
  const peers: PeerProcess[] = []
  try {
    const channel = await ChannelClient.deploy(new Wallet(devnet.keys[0] as string, devnet.provider), {
      responseWindow: 60n,
      staleAfter: 86_400n,
      txCap: CHANNEL_LIMITS.maxTxCap, // the contract's most: a long run's epochs close at it
    })
    for (let i = 0; i < n; i++) {
      const p = PeerProcess.spawn(`peer${i}`, {
        rpc: devnet.rpcUrl,
        chainId: devnet.chainId,
        channel: channel.address,
        accountKey: devnet.keys[i + 1] as Hex,
        dataDir: join(work, `p${i}`),
        bootstrap: testnet.bootstrap,
        join: '10',
        epochMs: 600_000, // no epoch ends by time, only at the per-epoch cap
        leaderTimeoutMs: 600_000,
      })
      peers.push(p)
      await p.waitFor('ready', () => true, 120_000)
      if ((i + 1) % 16 === 0) console.error(`${n} peers: ${i + 1} ready`)
    }
    console.error(`${n} peers: all ready; closing epochs until a checkpoint covers everyone`)
    // Close epochs by hand until a checkpoint covers everyone (their deposits become spendable).
    for (const until = Date.now() + 300_000; !(await channel.events()).some((e) => e.type === 'CheckpointSubmitted' && e.balances.length === n); ) {
      if (Date.now() > until) {
        for (const p of peers.slice(0, 2)) console.error(`${p.name}, last events:\n${p.events.slice(-12).map((e) => JSON.stringify(e)).join('\n')}`)
        throw new Error(`${n} peers: no checkpoint covering everyone within 5 minutes`)
      }
      for (const p of peers) p.command({ cmd: 'close-epoch' })
      await new Promise((r) => setTimeout(r, 1000))
    }
    console.error(`${n} peers: checkpoint covers everyone; idle, then ${WARM_UP_SECONDS} s of load to warm up, then ${SECONDS} s measured`)
    await new Promise((r) => setTimeout(r, 1000))
    const idleBefore = peers.reduce((sum, p) => sum + cpuMs(p.child.pid), 0)
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000))
    const idleCpuMsPerPeerSecond = (peers.reduce((sum, p) => sum + cpuMs(p.child.pid), 0) - idleBefore) / n / IDLE_SECONDS

    const latencies: number[] = []
    let id = 0
    const open = peers.map(() => 0)
    const seen = peers.map((p) => p.events.length)
    let measuring = false
    let loading = true
    let epochBegan: (() => void) | undefined
    /** Waits for the next epoch to begin (peer0 says so); false if none did within EPOCH_WAIT_MS. */
    const nextEpoch = (): Promise<boolean> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          epochBegan = undefined
          resolve(false)
        }, EPOCH_WAIT_MS)
        epochBegan = () => {
          clearTimeout(timer)
          epochBegan = undefined
          resolve(true)
        }
      })
    const pump = setInterval(() => {
      for (const [i, p] of peers.entries()) {
        for (; seen[i]! < p.events.length; seen[i]!++) {
          const e = p.events[seen[i]!]!
          if (e.event === 'epoch' && i === 0) epochBegan?.()
          if (e.event === 'sent' && measuring) latencies.push(Number(e.ms))
          if (e.event === 'sent' || e.event === 'error') open[i]!--
        }
        while (loading && open[i]! < WINDOW) {
          p.command({ cmd: 'send', id: id++, to: (i + 1 + (id % (n - 1))) % n, amount: '1' })
          open[i]!++
        }
      }
    }, 5)
    await new Promise((r) => setTimeout(r, WARM_UP_SECONDS * 1000))
    const whole = { epochs: true }
    const boundary = async (): Promise<void> => {
      if (!(await nextEpoch())) whole.epochs = false
    }
    await boundary()
    measuring = true
    const cpuBefore = peers.map((p) => cpuMs(p.child.pid)) // per peer: a leader that is the bottleneck shows
    const start = performance.now()
    await new Promise((r) => setTimeout(r, SECONDS * 1000))
    await boundary()
    measuring = false
    loading = false
    clearInterval(pump)
    const seconds = (performance.now() - start) / 1000
    const cpuEach = peers.map((p, i) => cpuMs(p.child.pid) - cpuBefore[i]!)
    const cpu = cpuEach.reduce((sum, ms) => sum + ms, 0)
    console.error(`${n} peers: CPU ms under load, each peer: ${cpuEach.map((ms) => ms.toFixed(0)).join(' ')}`)
    console.error(`${n} peers: measured ${seconds.toFixed(1)} s${whole.epochs ? ', whole epochs' : `: no epoch began within ${EPOCH_WAIT_MS / 1000} s, so the window is not whole epochs`}`)
    latencies.sort((a, b) => a - b)
    // Let the payments still in flight finish before timing single ones.
    for (const until = Date.now() + 30_000; open.some((o) => o > 0) && Date.now() < until; ) {
      for (const [i, p] of peers.entries()) for (; seen[i]! < p.events.length; seen[i]!++) if (['sent', 'error'].includes(String(p.events[seen[i]!]!.event))) open[i]!--
      await new Promise((r) => setTimeout(r, 20))
    }

    console.error(`${n} peers: ${latencies.length} receipted under load; ${SINGLES} one at a time`)
    // One payment at a time, from each peer in turn to the next.
    const singles: number[] = []
    for (let k = 0; k < SINGLES; k++) {
      const from = k % n
      const sid = 1_000_000 + k
      peers[from]!.command({ cmd: 'send', id: sid, to: (from + 1) % n, amount: '1' })
      const e = await peers[from]!.waitFor('sent', (x) => x.id === sid, 60_000).catch(() => undefined)
      if (e) singles.push(Number(e.ms))
    }
    singles.sort((a, b) => a - b)
    return {
      peers: n,
      transfersPerSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      oneAtATimeP50Ms: percentile(singles, 0.5),
      oneAtATimeP99Ms: percentile(singles, 0.99),
      cpuMsPerPayment: cpu / latencies.length,
      idleCpuMsPerPeerSecond,
    }
  } finally {
    await Promise.all(peers.map((p) => p.kill('SIGTERM')))
    await testnet.destroy()
    await devnet.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

const inMemory = (await inMemoryRun(2000, 500)).saturated
const reference = inMemory.transfersPerSecond
console.log(`in memory, 4 members in one process: ${reference.toFixed(0)} receipted transfers/s at ${inMemory.cpuMsPerPayment.toFixed(2)} ms of CPU each`)
const inMemoryByMembers = [{ members: 4, transfersPerSecond: reference, cpuMsPerPayment: inMemory.cpuMsPerPayment }]
if (COUNTS.some((n) => n >= 16)) {
  const sixteen = (await inMemoryRun(2000, 500, 16)).saturated
  inMemoryByMembers.push({ members: 16, transfersPerSecond: sixteen.transfersPerSecond, cpuMsPerPayment: sixteen.cpuMsPerPayment })
  const share = ((100 * sixteen.transfersPerSecond) / reference).toFixed(0)
  const times = (sixteen.cpuMsPerPayment / inMemory.cpuMsPerPayment).toFixed(2)
  console.log(`in memory, 16 members in one process: ${sixteen.transfersPerSecond.toFixed(0)}/s at ${sixteen.cpuMsPerPayment.toFixed(2)} ms (${share}% of 4 members' rate, ${times} times their CPU a payment)`)
}
const rows: Row[] = []
console.log(`| peers | receipted/s (window ${WINDOW}) | p50 ms | p99 ms | one at a time p50 ms | p99 ms | CPU ms per payment | idle CPU ms/s per peer |`)
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const n of COUNTS) {
  const r = await measure(n)
  rows.push(r)
  const f = (v: number, d = 1): string => v.toFixed(d)
  console.log(`| ${n} | ${f(r.transfersPerSecond, 0)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.oneAtATimeP50Ms)} | ${f(r.oneAtATimeP99Ms)} | ${f(r.cpuMsPerPayment, 2)} | ${f(r.idleCpuMsPerPeerSecond)} |`)
}
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({ inMemoryTransfersPerSecond: reference, inMemoryByMembers, rows }, null, 2)}\n`)
  console.log(`wrote ${values.json}`)
}
