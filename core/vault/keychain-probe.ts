// Test helper run as a child process (its own D-Bus environment): opens the keychain, adds an account, and prints
// the outcome as one JSON line: {"ok":true} or {"code":"KEYCHAIN_..."}.
import { AccountVault, KeytarStore, VaultError } from './index.js'

try {
  const store = await KeytarStore.open(`offchain-probe-${process.pid}`)
  await new AccountVault(store).create()
  console.log(JSON.stringify({ ok: true }))
} catch (err) {
  console.log(JSON.stringify(err instanceof VaultError ? { code: err.code, message: err.message } : { error: String(err) }))
}
