// The embedded sandbox network: a local chain (anvil) and a local DHT on 127.0.0.1, started on first use and
// stopped with the app. Or one given from outside (--rpc/--bootstrap), so several apps share a sandbox.
import createTestnet from 'hyperdht/testnet.js'
import { startDevnet } from '../chain/index.js'
import type { Bootstrap } from '../net/channel-swarm.js'
import type { Network } from './app-core.js'

export const SANDBOX_TIMING = { epochMs: 3000, leaderTimeoutMs: 10_000, chainPollMs: 100 }

export interface Sandbox {
  network(): Promise<Network>
  stop(): Promise<void>
}

export function sandbox(given: { rpcUrl: string; chainId: bigint; bootstrap: Bootstrap } | undefined, log: (line: string) => void): Sandbox {
  const stops: Array<() => Promise<void>> = []
  let started: Promise<Network> | undefined
  const start = async (): Promise<Network> => {
    if (given) return { kind: 'sandbox', ...given, timing: SANDBOX_TIMING }
    const devnet = await startDevnet({ accounts: 2 })
    stops.push(() => devnet.stop())
    const testnet = await createTestnet(3, { host: '127.0.0.1' })
    stops.push(() => testnet.destroy())
    log(`sandbox: chain ${devnet.rpcUrl}, DHT ${testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')}`)
    return { kind: 'sandbox', rpcUrl: devnet.rpcUrl, chainId: devnet.chainId, bootstrap: testnet.bootstrap, timing: SANDBOX_TIMING }
  }
  return {
    network: () => (started ??= start()),
    stop: async () => {
      for (const s of stops.reverse()) await s().catch(() => {})
    },
  }
}
