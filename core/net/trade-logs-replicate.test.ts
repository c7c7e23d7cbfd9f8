// Trade logs over a real local DHT: members' Hypercores replicate through Hyperswarm and arrive in order; a
// non-member key is refused by every firewall; a member reopened from disk replays its own log first.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { createPeerKey, type PeerKeyPair } from '../log/peer-key.js'
import { TradeLogs } from '../log/trade-logs.js'
import { ChannelSwarm, channelTopic } from './channel-swarm.js'
import { until } from '../testing/until.js'

interface Peer {
  logs: TradeLogs
  swarm: ChannelSwarm
  got: Array<{ author: number; position: number; text: string }>
  /** The swarm's log lines (connections, refusals). */
  lines: string[]
}


describe('trade logs over hyperswarm', () => {
  let testnet: Testnet
  const dirs: string[] = []
  const keys: PeerKeyPair[] = [createPeerKey(), createPeerKey(), createPeerKey()]
  const members = new Set(keys.map((k) => k.publicKey.toString('hex')))
  const topic = channelTopic(31337n, '0x0000000000000000000000000000000000000001')
  const peers: Peer[] = []

  before(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
  })
  after(async () => {
    for (const p of peers) await Promise.all([p.swarm.close(), p.logs.close()]).catch(() => {})
    await testnet.destroy()
    for (const d of dirs) for (const p of [d, `${d}.journal`]) rmSync(p, { recursive: true, force: true }) // TradeLogs journals beside its store
  })

  async function startPeer(index: number, key: PeerKeyPair, dir = mkdtempSync(join(tmpdir(), 'logs-'))): Promise<Peer> {
    if (!dirs.includes(dir)) dirs.push(dir)
    const logs = new TradeLogs(dir, key, index)
    await logs.open()
    for (const [i, k] of keys.entries()) if (i !== index) await logs.follow(i, k.publicKey)
    const swarm = new ChannelSwarm({
      keyPair: key,
      topic,
      store: logs.store,
      isMember: (pk) => members.has(pk.toString('hex')),
      bootstrap: testnet.bootstrap,
      log: (line) => lines.push(line),
    })
    const lines: string[] = []
    const peer: Peer = { logs, swarm, got: [], lines }
    logs.subscribe((author, position, entry) => peer.got.push({ author, position, text: Buffer.from(entry).toString() }))
    await swarm.join()
    return peer
  }

  it('every member receives every log in order', async () => {
    for (const [i, k] of keys.entries()) peers.push(await startPeer(i, k))
    await peers[0]!.logs.append([0, 1, 2, 3, 4].map((n) => Buffer.from(`zero-${n}`)))
    await peers[1]!.logs.append([0, 1, 2].map((n) => Buffer.from(`one-${n}`)))
    for (const p of peers) {
      await until(() => p.got.length === 8, 'replication')
      for (const author of [0, 1]) {
        const mine = p.got.filter((g) => g.author === author)
        assert.deepEqual(mine.map((g) => g.position), mine.map((_, i) => i), 'in order')
      }
    }
    assert.deepEqual(peers[2]!.got.filter((g) => g.author === 0).map((g) => g.text), [0, 1, 2, 3, 4].map((n) => `zero-${n}`))
  })

  it('refuses a peer whose key is not a member\'s', async () => {
    const outsiderKey = createPeerKey()
    const outsiderTag = outsiderKey.publicKey.toString('hex').slice(0, 8)
    // Every member follows the outsider's log as if it were a member's, so a connection to it would replicate
    // that log: only the firewalls keep it out.
    for (const p of peers) await p.logs.follow(3, outsiderKey.publicKey)
    const outsider = await startPeer(3, outsiderKey)
    peers.push(outsider)
    await outsider.logs.append([Buffer.from('let me in')])
    const refusedIt = (p: Peer): boolean => p.lines.some((l) => l.startsWith(`refused a connection from ${outsiderTag}`))
    const tookIt = (p: Peer): boolean => p.got.some((g) => g.author === 3)
    // Until every member has either refused the outsider or replicated its log.
    await until(() => peers.slice(0, 3).every((p) => refusedIt(p) || tookIt(p)), 'every member met the outsider')
    for (const [i, p] of peers.slice(0, 3).entries()) {
      assert.ok(!p.got.some((g) => g.author === 3), `member ${i} replicated the outsider's log`)
      assert.ok(refusedIt(p), `member ${i}'s firewall refused the outsider`)
    }
    assert.equal(outsider.swarm.connectedPeers().length, 0, 'nobody talks to the outsider')
    for (const p of peers.slice(0, 3)) {
      assert.ok(!p.swarm.connectedPeers().some((k) => k.equals(outsiderKey.publicKey)))
      assert.ok(!p.got.some((g) => g.text === 'let me in'))
    }
    assert.ok(peers.slice(0, 3).some((p) => p.swarm.refused > 0), 'a firewall refused it')
  })

  it('a member reopened from disk replays its own log first, then catches up with the others', async () => {
    const p2 = peers[2]!
    await p2.logs.append([Buffer.from('two-0'), Buffer.from('two-1')])
    await until(() => peers[0]!.got.some((g) => g.text === 'two-1'), 'two-1 replicated')
    const dir = dirs[2] as string
    await Promise.all([p2.swarm.close(), p2.logs.close()])
    await peers[0]!.logs.append([Buffer.from('zero-while-away')])
    const back = await startPeer(2, keys[2] as PeerKeyPair, dir)
    peers[2] = back
    await until(() => back.got.some((g) => g.text === 'zero-while-away'), 'catch-up after restart')
    assert.deepEqual(back.got.slice(0, 2).map((g) => g.text), ['two-0', 'two-1'], 'own log first')
    assert.equal(back.got.filter((g) => g.author === 0).length, 6)
  })
})
