// Test helper run as a child process (its own D-Bus environment): opens the keychain, adds an account, and prints
// the outcome as one JSON line: {"ok":true} or {"code":"KEYCHAIN_...","message":...}, each with keytarLoads: whether
// keytar's native module loads in this process at all (so a failure to reach the keychain is told apart from one to
// load keytar).
import { AccountVault, KeytarStore, VaultError } from './index.js'

let keytarLoads = false
try {
  const keytar = ((await import('keytar')) as { default: { getPassword?: unknown } }).default
  keytarLoads = typeof keytar.getPassword === 'function'
} catch {
  keytarLoads = false
}
try {
  const store = await KeytarStore.open(`offchain-probe-${process.pid}`)
  await new AccountVault(store).create()
  console.log(JSON.stringify({ ok: true, keytarLoads }))
} catch (err) {
  console.log(
    JSON.stringify(err instanceof VaultError ? { code: err.code, message: err.message, keytarLoads } : { error: String(err), keytarLoads }),
  )
}
