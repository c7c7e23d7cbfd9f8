// Test support: an app core on a test's own chain and local DHT, with an account imported and the sandbox network
// chosen, as a person would after the first run. Keys go to a vault file unless a store is given.
import { join } from 'node:path'
import type { Testnet } from 'hyperdht/testnet.js'
import type { Devnet } from '../chain/index.js'
import type { Timing } from '../consensus/participant.js'
import { AppCore } from '../node/app-core.js'
import { FileVault, type SecretStore } from '../vault/index.js'

export async function appCoreOnDevnet(o: {
  dir: string
  name: string
  key: string
  devnet: Devnet
  testnet: Testnet
  timing: Timing
  store?: SecretStore
}): Promise<AppCore> {
  const network = async () => ({ kind: 'sandbox' as const, rpcUrl: o.devnet.rpcUrl, chainId: o.devnet.chainId, bootstrap: o.testnet.bootstrap, timing: o.timing })
  const secretStore = o.store ?? (await FileVault.create(join(o.dir, `${o.name}.vault`), 'a passphrase', { preset: 'interactive' }))
  const core = await AppCore.start({ dataDir: join(o.dir, o.name), secretStore, sandbox: network })
  await core.importPrivateKey(o.key)
  await core.useNetwork({ kind: 'sandbox' })
  return core
}
