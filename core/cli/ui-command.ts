// `node --ui`: the app core with the desktop UI served to a browser on 127.0.0.1. The sandbox network is either
// given (--rpc and --bootstrap: several UIs on one devnet and DHT) or started here on first use.
import { AppCore } from '../node/app-core.js'
import { defaultDataDir } from '../node/data-dir.js'
import { sandbox } from '../node/sandbox-network.js'
import { startUiServer } from '../node/ui-server.js'
import { logUnhandledRejections } from '../util/unhandled-rejections.js'
import { parseBootstrap } from './node-command.js'

export interface UiCommandOptions {
  dataDir?: string | undefined
  rpc?: string | undefined
  chainId?: bigint | undefined
  bootstrap?: string | undefined
  port?: number | undefined
  log: (line: string) => void
}

export async function runUiCommand(opts: UiCommandOptions): Promise<void> {
  logUnhandledRejections(opts.log)
  const box = sandbox(opts.rpc ? { rpcUrl: opts.rpc, chainId: opts.chainId ?? 31337n, bootstrap: parseBootstrap(opts.bootstrap) } : undefined, opts.log)
  const core = await AppCore.start({ dataDir: opts.dataDir ?? defaultDataDir(), sandbox: () => box.network(), log: opts.log })
  const server = await startUiServer(core, opts.port === undefined ? {} : { port: opts.port })
  opts.log(`UI ready: open ${server.url}`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.close()
  await core.close()
  await box.stop()
}
