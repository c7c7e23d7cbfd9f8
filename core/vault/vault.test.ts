import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Wallet } from 'ethers'
import { AccountVault, FileVault, KeytarStore, VaultError, type VaultErrorCode } from './index.js'

const dir = mkdtempSync(join(tmpdir(), 'vault-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const PASS = 'correct horse battery'
const digest = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

async function rejectsWith(code: VaultErrorCode, run: () => unknown, ...secrets: string[]): Promise<void> {
  await assert.rejects(async () => run(), (err: unknown) => {
    assert.ok(err instanceof VaultError, String(err))
    assert.equal(err.code, code, err.message)
    for (const s of secrets) assert.ok(!err.message.includes(s) && !String(err.stack).includes(s), 'a secret leaked into an error')
    return true
  })
}

describe('file vault', () => {
  it('keeps secrets across reopen, in a file only its owner can read, with no secret in clear', async () => {
    const path = join(dir, 'a.vault')
    const v = FileVault.create(path, PASS)
    const account = new AccountVault(v)
    const address = await account.create()
    v.close()
    assert.equal(statSync(path).mode & 0o777, 0o600)
    const key = await new AccountVault(FileVault.open(path, PASS)).privateKey(address)
    assert.equal(new Wallet(key).address, address)
    assert.ok(!readFileSync(path, 'utf8').includes(key.slice(2)), 'private key stored in clear')
  })

  it('a wrong passphrase is refused and the file is left untouched', async () => {
    const path = join(dir, 'b.vault')
    FileVault.create(path, PASS).close()
    const before = digest(path)
    await rejectsWith('WRONG_PASSPHRASE', () => FileVault.open(path, 'not the passphrase'), 'not the passphrase')
    assert.equal(digest(path), before)
  })

  it('a damaged file is reported as such, never overwritten', async () => {
    const path = join(dir, 'c.vault')
    const v = FileVault.create(path, PASS)
    const address = await new AccountVault(v).create()
    v.close()
    const good = readFileSync(path, 'utf8')
    const json = JSON.parse(good) as { entries: Record<string, { box: string }>; kdf: { salt: string } }
    const tampered = structuredClone(json)
    const entry = Object.values(tampered.entries)[0]!
    entry.box = (entry.box[0] === '0' ? '1' : '0') + entry.box.slice(1)
    const damaged: Array<[string, string]> = [
      ['truncated', good.slice(0, good.length / 2)],
      ['not a vault', '{"hello":1}'],
      ['bad salt', JSON.stringify({ ...json, kdf: { ...json.kdf, salt: 'zz' } })],
      ['future version', JSON.stringify({ ...json, version: 9 })],
    ]
    for (const [what, text] of damaged) {
      writeFileSync(path, text)
      await rejectsWith('CORRUPT_VAULT', () => FileVault.open(path, PASS), PASS)
      assert.equal(readFileSync(path, 'utf8'), text, `${what}: file changed`)
    }
    writeFileSync(path, JSON.stringify(tampered))
    const opened = new AccountVault(FileVault.open(path, PASS))
    await rejectsWith('CORRUPT_VAULT', () => opened.signer(address))
  })

  it('a missing file, an existing file and a short passphrase each get their own error', async () => {
    await rejectsWith('VAULT_NOT_FOUND', () => FileVault.open(join(dir, 'none.vault'), PASS))
    const path = join(dir, 'd.vault')
    FileVault.create(path, PASS).close()
    const before = digest(path)
    await rejectsWith('VAULT_EXISTS', () => FileVault.create(path, 'another passphrase'))
    assert.equal(digest(path), before)
    await rejectsWith('WEAK_PASSPHRASE', () => FileVault.create(join(dir, 'e.vault'), 'short'), 'short')
  })
})

describe('accounts', () => {
  it('imports a private key or a JSON keystore, exports a keystore that imports elsewhere, never overwrites', async () => {
    const a = new AccountVault(FileVault.create(join(dir, 'f.vault'), PASS))
    const wallet = Wallet.createRandom()
    assert.equal(await a.importPrivateKey(wallet.privateKey.slice(2)), wallet.address)
    await rejectsWith('ACCOUNT_EXISTS', () => a.importPrivateKey(wallet.privateKey), wallet.privateKey.slice(2))
    await rejectsWith('BAD_PRIVATE_KEY', () => a.importPrivateKey('0x1234'))
    const keystore = await a.exportKeystore(wallet.address, 'keystore pw 1')
    const b = new AccountVault(FileVault.create(join(dir, 'g.vault'), PASS))
    await rejectsWith('BAD_KEYSTORE', () => b.importKeystore(keystore, 'wrong password'), 'wrong password')
    await rejectsWith('BAD_KEYSTORE', () => b.importKeystore('{not json', 'x'))
    assert.equal(await b.importKeystore(keystore, 'keystore pw 1'), wallet.address)
    assert.deepEqual(await b.accounts(), [wallet.address])
    await rejectsWith('ACCOUNT_NOT_FOUND', () => b.signer(Wallet.createRandom().address))
  })

  it('gives each channel its own peer key, the same one every time', async () => {
    const a = new AccountVault(FileVault.create(join(dir, 'h.vault'), PASS))
    const me = await a.create()
    const one = '0x' + '11'.repeat(20)
    const two = '0x' + '22'.repeat(20)
    const k1 = await a.peerKey(me, 31337n, one)
    assert.ok(k1.publicKey.equals((await a.peerKey(me, 31337n, one)).publicKey))
    assert.ok(!k1.publicKey.equals((await a.peerKey(me, 31337n, two)).publicKey))
    assert.ok(!k1.publicKey.equals((await a.peerKey(me, 1n, one)).publicKey))
  })
})

describe('OS keychain (keytar over the Secret Service)', () => {
  it('stores, finds and deletes secrets; refuses to overwrite one', async () => {
    const service = `offchain-test-${process.pid}-${Date.now()}`
    const store = await KeytarStore.open(service)
    const accounts = new AccountVault(store)
    const address = await accounts.create()
    try {
      assert.deepEqual(await accounts.accounts(), [address])
      assert.equal(new Wallet(await accounts.privateKey(address)).address, address)
      const again = new AccountVault(await KeytarStore.open(service))
      const key = await accounts.privateKey(address)
      await rejectsWith('ACCOUNT_EXISTS', () => again.importPrivateKey(key), key.slice(2))
      assert.equal(await again.privateKey(address), key)
      // The store's own refusal, not the account vault's check in front of it: an entry added twice, through
      // another handle on the same keychain service, keeps its first secret.
      const name = `entry-${Date.now()}`
      await store.add(name, 'first secret')
      await rejectsWith('ACCOUNT_EXISTS', () => again.store.add(name, 'second secret'), 'first secret', 'second secret')
      await rejectsWith('ACCOUNT_EXISTS', () => store.add(name, 'second secret'), 'first secret', 'second secret')
      assert.equal(await store.get(name), 'first secret')
      assert.equal(await again.store.get(name), 'first secret')
    } finally {
      for (const n of await store.names()) await store.delete(n)
    }
    assert.deepEqual(await store.names(), [])
  })
})

describe('OS keychain failures', () => {
  const probe = (command: string, env: NodeJS.ProcessEnv): Record<string, string | boolean> => {
    const out = execFileSync('sh', ['-c', command], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 })
    return JSON.parse(out.trim().split('\n').pop()!) as Record<string, string | boolean>
  }
  const node = `"${process.execPath}" --import tsx core/vault/keychain-probe.ts`

  it('no Secret Service: KEYCHAIN_UNAVAILABLE, saying what to do', () => {
    const r = probe(node, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'no-bus')}`, LANG: 'C', LC_ALL: 'C' })
    assert.equal(r.code, 'KEYCHAIN_UNAVAILABLE', JSON.stringify(r))
    assert.match(String(r.message), /vault file/)
    // keytar itself loaded in that process, and what failed is libsecret reaching the session bus at the address
    // given (no socket there): not keytar failing to load, which would be the same code.
    assert.equal(r.keytarLoads, true, JSON.stringify(r))
    assert.match(String(r.message), /\(Could not connect: No such file or directory\)/, JSON.stringify(r))
  })

  it('a locked keychain: KEYCHAIN_LOCKED, nothing stored', () => {
    const home = mkdtempSync(join(dir, 'xdg-'))
    // A private bus and keyring, locked before the app asks; with no display, no unlock prompt can appear.
    const lock = 'dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply /org/freedesktop/secrets ' +
      'org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null'
    const r = probe(
      `dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; ${lock}; ${node}' 2>/dev/null`,
      { XDG_DATA_HOME: home, DISPLAY: '', WAYLAND_DISPLAY: '' },
    )
    assert.equal(r.code, 'KEYCHAIN_LOCKED', JSON.stringify(r))
  })
})
