// AppCore's own state on disk: a damaged settings file is set aside (never lost, never a crash), and what it keeps
// survives a restart.
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FileVault } from '../vault/index.js'
import { AppCore, parseInvite } from './app-core.js'
import { ApiCallError } from './node-api.js'

const dir = mkdtempSync(join(tmpdir(), 'app-core-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('AppCore settings and invites', () => {
  it('sets a damaged settings.json aside and starts fresh', async () => {
    for (const [i, text] of ['{"accounts":"x"}', 'not json', '{"accounts":[],"channels":{"1":["0x12"]}}'].entries()) {
      const data = join(dir, `damaged-${i}`)
      mkdirSync(data)
      writeFileSync(join(data, 'settings.json'), text)
      const core = await AppCore.start({ dataDir: data, secretStore: await FileVault.create(join(data, 'v.vault'), 'a passphrase', { preset: 'interactive' }) })
      assert.deepEqual((await core.status()).accounts, [])
      const aside = readdirSync(data).filter((f) => f.startsWith('settings.json.damaged-'))
      assert.equal(aside.length, 1)
      assert.equal(readFileSync(join(data, aside[0]!), 'utf8'), text, 'the damaged file was not kept as it was')
      await core.close()
    }
  })

  it('keeps its accounts and selection across a restart', async () => {
    const data = join(dir, 'kept')
    const store = await FileVault.create(join(dir, 'kept.vault'), 'a passphrase', { preset: 'interactive' })
    const first = await AppCore.start({ dataDir: data, secretStore: store })
    const address = await first.createAccount()
    await first.close()
    const again = await AppCore.start({ dataDir: data, secretStore: await FileVault.open(join(dir, 'kept.vault'), 'a passphrase') })
    const s = await again.status()
    assert.deepEqual([s.accounts, s.account], [[address], address])
    await again.close()
  })

  it('keeps its data directory owner-only (0700), tightening one an earlier version left open', async () => {
    const fresh = join(dir, 'fresh', 'nested', 'data') // every directory it makes is 0700
    const core = await AppCore.start({ dataDir: fresh, secretStore: await FileVault.create(join(dir, 'fresh.vault'), 'a passphrase', { preset: 'interactive' }) })
    await core.createAccount()
    await core.close()
    for (const d of [fresh, join(dir, 'fresh', 'nested'), join(dir, 'fresh')]) assert.equal(statSync(d).mode & 0o777, 0o700, d)
    assert.equal(statSync(join(fresh, 'settings.json')).mode & 0o777, 0o600)
    const open = join(dir, 'left-open')
    mkdirSync(open, { mode: 0o755 })
    chmodSync(open, 0o755)
    const again = await AppCore.start({ dataDir: open, secretStore: await FileVault.create(join(dir, 'open.vault'), 'a passphrase', { preset: 'interactive' }) })
    await again.close()
    assert.equal(statSync(open).mode & 0o777, 0o700)
  })

  it('reads invites strictly', () => {
    assert.deepEqual(parseInvite(' offchain:31337:0x9023d322fa513f93c1f8f6c6d533c907faf804ee '), {
      chainId: 31337n,
      channel: '0x9023d322fA513F93C1f8f6c6d533C907Faf804EE',
    })
    for (const bad of ['', 'offchain:x:0x12', 'offchain:1:0x9023d322fa513f93c1f8f6c6d533c907faf804', 'http://evil']) {
      assert.throws(() => parseInvite(bad), (e: unknown) => e instanceof ApiCallError && e.code === 'BAD_INVITE')
    }
  })
})
