// The in-memory reference of the benchmarks: 4 members in one process over the in-memory bus, against a real anvil
// chain (bench:core prints it; bench:p2p measures its peers against it).
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

/**
 * Each of the 4 members keeps `window` payments of 1 wei open (to the others in turn) until `total` were asked for;
 * the rate of receipted ones and their request-to-receipt times.
 */
async function load(total: number, window: number, send: (from: number, to: number) => Promise<unknown>): Promise<Run> {
  const latencies: number[] = []
  let issued = 0
  const start = now()
  await Promise.all(
    [0, 1, 2, 3].map((from) =>
      payInWindow(
        window,
        () => {
          if (issued >= total) return undefined
          issued++
          const to = (from + 1 + (issued % 3)) % 4
          return () => send(from, to)
        },
        latencies,
      ),
    ),
  )
  const seconds = (now() - start) / 1000
  latencies.sort((a, b) => a - b)
  return { transfersPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) }
}

/**
 * Saturated (64 payments in flight per member, `total` of them after `warmUp`) and light (one at a time) load
 * through one cluster of 4 members in this process.
 */
export async function inMemoryRun(total: number, warmUp: number): Promise<{ saturated: Run; light: Run }> {
  const devnet = await startDevnet({ accounts: 6 })
  try {
    const f = await openChannel(devnet, { members: 4, deposit: parseEther('1'), params: { txCap: CHANNEL_LIMITS.maxTxCap } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // No epoch ends by time; one ends when a member reaches the per-epoch cap (the contract's most, as disputes need).
    const cluster = await startCluster(f.channel, devnet, keys, { timing: { epochMs: 600_000, leaderTimeoutMs: 600_000, chainPollMs: 100 } })
    try {
      await startTrading(cluster)
      const run = (total: number, window: number): Promise<Run> =>
        load(total, window, (from, to) => cluster.participants[from]!.send(to, 1n))
      await run(warmUp, 64) // compiled code, not the first payments' compilation, is what gets measured
      const saturated = await run(total, 64)
      const light = await run(400, 1)
      return { saturated, light }
    } finally {
      await cluster.stop()
    }
  } finally {
    await devnet.stop()
  }
}
