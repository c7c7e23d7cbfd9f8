// The in-memory reference of the benchmarks: 4 members (or more) in one process over the in-memory bus, against a
// real anvil chain (bench:core prints it; bench:p2p measures its peers against it, and prints 16 members as context
// for its 16-peer rows: what the protocol itself costs more with more members, without processes or replication).
import { parseEther } from 'ethers'
import { openChannel } from '../../contracts/test/fixture.js'
import { CHANNEL_LIMITS, startDevnet } from '../chain/index.js'
import type { Hex } from '../protocol/index.js'
import { startCluster, startTrading } from '../testing/cluster.js'
import { payInWindow } from './windowed-load.js'

const now = (): number => performance.now()
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

export interface Run {
  transfersPerSecond: number
  p50Ms: number
  p99Ms: number
}

/** A run in this process, with what it cost. */
export interface InMemoryRun extends Run {
  /** This process's CPU (all its threads) over the run, per receipted payment. */
  cpuMsPerPayment: number
}

/** Payments open at once in a saturated run, shared by the members. */
const OPEN = 256

/**
 * Each of the `members` keeps `window` payments of 1 wei open (to the others in turn) until `total` were asked for;
 * the rate of receipted ones, their request-to-receipt times and the CPU they cost.
 */
async function load(members: number, total: number, window: number, send: (from: number, to: number) => Promise<unknown>): Promise<InMemoryRun> {
  const latencies: number[] = []
  let issued = 0
  const start = now()
  const cpu = process.cpuUsage()
  await Promise.all(
    Array.from({ length: members }, (_, from) =>
      payInWindow(
        window,
        () => {
          if (issued >= total) return undefined
          issued++
          const to = (from + 1 + (issued % (members - 1))) % members
          return () => send(from, to)
        },
        latencies,
      ),
    ),
  )
  const seconds = (now() - start) / 1000
  const used = process.cpuUsage(cpu)
  latencies.sort((a, b) => a - b)
  return {
    transfersPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuMsPerPayment: (used.user + used.system) / 1000 / latencies.length,
  }
}

/**
 * Saturated (256 payments in flight shared by the members: 64 each of 4; `total` of them after `warmUp`) and light
 * (one at a time) load through one cluster of `members` in this process.
 */
export async function inMemoryRun(total: number, warmUp: number, members = 4): Promise<{ saturated: InMemoryRun; light: InMemoryRun }> {
  const devnet = await startDevnet({ accounts: members + 2 })
  try {
    const f = await openChannel(devnet, { members, deposit: parseEther('1'), params: { txCap: CHANNEL_LIMITS.maxTxCap } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // No epoch ends by time; one ends when a member reaches the per-epoch cap (the contract's most, as disputes need).
    const cluster = await startCluster(f.channel, devnet, keys, { timing: { epochMs: 600_000, leaderTimeoutMs: 600_000, chainPollMs: 100 } })
    try {
      await startTrading(cluster)
      const run = (total: number, window: number): Promise<InMemoryRun> =>
        load(members, total, window, (from, to) => cluster.participants[from]!.send(to, 1n))
      const open = Math.max(1, Math.floor(OPEN / members))
      await run(warmUp, open) // compiled code, not the first payments' compilation, is what gets measured
      const saturated = await run(total, open)
      const light = await run(400, 1)
      return { saturated, light }
    } finally {
      await cluster.stop()
    }
  } finally {
    await devnet.stop()
  }
}
