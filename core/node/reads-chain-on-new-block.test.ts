// A node on a local chain reads it when the chain's node announces a block, not at its poll: with the poll set to a
// minute, a member joining on chain shows in the channel view within two seconds (the member list's own fallback
// read comes every five). Before, every peer polled the chain every 100 ms, most of an idle peer's CPU.
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
import type { AppCore } from './app-core.js'

const MINUTE = 60_000
const TIMING = { epochMs: MINUTE, leaderTimeoutMs: MINUTE, chainPollMs: MINUTE }

describe('a node reads the chain when it moves', () => {
  const devnet = useDevnet({ accounts: 3 })
  const dir = mkdtempSync(join(tmpdir(), 'new-block-'))
  let testnet: Testnet
  let alice: AppCore | undefined

  before(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
  })
  after(async () => {
    await alice?.close()
    await testnet.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a member joining on chain shows within two seconds, with the poll set to a minute', async () => {
    const d = devnet()
    alice = await appCoreOnDevnet({ dir, name: 'alice', key: d.keys[1]!, devnet: d, testnet, timing: TIMING })
    const { address } = await alice.createChannel({ depositWei: parseEther('1').toString() })
    assert.equal((await alice.channel(address)).members.length, 1)

    const bob = ChannelClient.at(address, new Wallet(d.keys[2]!, d.provider))
    await bob.join(peerKeyHex(Buffer.alloc(32, 7)), parseEther('0.5'))
    const joinedAt = Date.now()
    for (;;) {
      if ((await alice.channel(address)).members.length === 2) break
      assert.ok(Date.now() - joinedAt < 2000, 'the join not seen within 2 s: the node waited for its poll')
      await new Promise((r) => setTimeout(r, 50))
    }
  })
})
