// `node --ui`: the app core with the desktop UI served to a browser on 127.0.0.1. The sandbox network is either
// given (--rpc and --bootstrap: several UIs on one devnet and DHT) or started here on first use.
import { homedir } from 'node:os'
import { join } from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { startDevnet } from '../chain/index.js'
import { AppCore, type Network } from '../node/app-core.js'
import { startUiServer } from '../node/ui-server.js'
import { parseBootstrap } from './node-command.js'

export const SANDBOX_TIMING = { epochMs: 3000, leaderTimeoutMs: 10_000, chainPollMs: 100 }

export interface UiCommandOptions {
  dataDir?: string | undefined
  rpc?: string | undefined
  chainId?: bigint | undefined
  bootstrap?: string | undefined
  port?: number | undefined
  log: (line: string) => void
}

export function defaultDataDir(): string {
  return join(homedir(), '.offchain-channels')
}

export async function runUiCommand(opts: UiCommandOptions): Promise<void> {
  const cleanups: Array<() => Promise<void>> = []
  let sandbox: Promise<Network> | undefined
  const startSandbox = async (): Promise<Network> => {
    if (opts.rpc) {
      return { kind: 'sandbox', rpcUrl: opts.rpc, chainId: opts.chainId ?? 31337n, bootstrap: parseBootstrap(opts.bootstrap), timing: SANDBOX_TIMING }
    }
    const devnet = await startDevnet({ accounts: 2 })
    cleanups.push(() => devnet.stop())
    const testnet = await createTestnet(3, { host: '127.0.0.1' })
    cleanups.push(() => testnet.destroy())
    opts.log(`sandbox: chain ${devnet.rpcUrl}, DHT ${testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')}`)
    return { kind: 'sandbox', rpcUrl: devnet.rpcUrl, chainId: devnet.chainId, bootstrap: testnet.bootstrap, timing: SANDBOX_TIMING }
  }
  const core = await AppCore.start({
    dataDir: opts.dataDir ?? defaultDataDir(),
    sandbox: () => (sandbox ??= startSandbox()),
    log: opts.log,
  })
  const server = await startUiServer(core, opts.port === undefined ? {} : { port: opts.port })
  opts.log(`UI ready: open ${server.url}`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.close()
  await core.close()
  for (const c of cleanups.reverse()) await c().catch(() => {})
}
