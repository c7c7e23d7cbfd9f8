// Peer-key squatting (issue 12, item 4): in an open channel a stranger who learns a joiner's peer key (from its join
// transaction waiting in the mempool, or from a log) can register it first. The contract refuses a key twice, and the
// app used to retry with the same stored key: the victim could never join. Now the app sees the key taken, makes a
// new one, keeps it, and joins with it. Two app cores on a real chain and a local DHT.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Wallet, parseEther } from 'ethers'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { useDevnet } from '../../contracts/test/fixture.js'
import { ChannelClient } from '../chain/index.js'
import { peerKeyHex } from '../log/peer-key.js'
import { appCoreOnDevnet } from '../testing/app-core-on-devnet.js'
import { AccountVault, FileVault, type SecretStore } from '../vault/index.js'
import { AppCore, inviteFor } from './app-core.js'

const TIMING = { epochMs: 800, leaderTimeoutMs: 8000, chainPollMs: 100 }

describe('peer-key squatting', () => {
  const devnet = useDevnet({ accounts: 4 })
  const dir = mkdtempSync(join(tmpdir(), 'squat-'))
  let testnet: Testnet
  const cores: AppCore[] = []

  before(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
  })
  after(async () => {
    await Promise.all(cores.map((c) => c.close()))
    await testnet.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  async function appCore(name: string, key: string, store: SecretStore): Promise<AppCore> {
    const c = await appCoreOnDevnet({ dir, name, key, devnet: devnet(), testnet, timing: TIMING, store })
    cores.push(c)
    return c
  }

  it('a stranger registers the joiner\'s peer key first: the app joins with a new key, and keeps it', async () => {
    const d = devnet()
    const alice = await appCore('alice', d.keys[1]!, await FileVault.create(join(dir, 'alice.vault'), 'a passphrase', { preset: 'interactive' }))
    const created = await alice.createChannel({ depositWei: parseEther('1').toString() })
    const channel = created.address

    // Bob's app will use the peer key its vault holds for this channel; the stranger registers that key first.
    const bobStore = await FileVault.create(join(dir, 'bob.vault'), 'a passphrase', { preset: 'interactive' })
    const bobAccount = new Wallet(d.keys[2]!).address
    const stolen = await new AccountVault(bobStore).peerKey(bobAccount, d.chainId, channel)
    const stranger = ChannelClient.at(channel, new Wallet(d.keys[3]!, d.provider))
    await stranger.join(peerKeyHex(stolen.publicKey), parseEther('0.01'))

    const bob = await appCore('bob', d.keys[2]!, bobStore)
    const joined = await bob.joinChannel({ invite: inviteFor(d.chainId, channel), depositWei: parseEther('1').toString() })
    assert.equal(joined.state, 'running')
    const members = await ChannelClient.at(channel, d.provider).members()
    const bobs = members.find((m) => m.account === bobAccount)
    assert.ok(bobs, 'bob joined')
    assert.notEqual(bobs.peerKey, peerKeyHex(stolen.publicKey), 'with a key of its own')
    const kept = await new AccountVault(bobStore).peerKey(bobAccount, d.chainId, channel)
    assert.equal(bobs.peerKey, peerKeyHex(kept.publicKey), 'the new key is the one the vault keeps for later starts')

    // Its node runs on the swarm with the key it registered: Alice's app sees it online (connected under that key).
    const bobOnline = async (): Promise<boolean> => (await alice.channel(channel)).members.find((m) => m.account === bobAccount)?.online === true
    for (const until = Date.now() + 60_000; !(await bobOnline()) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 250))
    assert.ok(await bobOnline(), 'Alice sees Bob online')
  })
})
