// Pushes over a real Hyperswarm connection on a local DHT. A push is lost only without an open channel: a full
// send buffer (Protomux's send answering false) still delivers it. Taken as lost, that made a busy leader store a
// Hypercore block at every tick for its entries to travel by log, and every member paid for each block.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import HyperDHT from 'hyperdht'
import Hyperswarm, { type Connection } from 'hyperswarm'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { randomBytes } from 'node:crypto'
import { PushLinks } from './push-links.js'
import { until } from '../testing/until.js'


describe('push links', () => {
  let testnet: Testnet
  const swarms: Hyperswarm[] = []

  before(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
  })

  after(async () => {
    for (const s of swarms) await s.destroy()
    await testnet.destroy()
  })

  it('delivers every push sent into a full buffer, says false once the connection goes, and reports the loss', async () => {
    const topic = randomBytes(32)
    const got: Array<{ position: number; size: number }> = []
    let lost = 0
    const sender = new PushLinks(topic, () => {}, () => lost++)
    const receiver = new PushLinks(topic, (_from, position, entry) => got.push({ position, size: entry.byteLength }))
    const conns: Connection[] = []
    for (const links of [sender, receiver]) {
      // As ChannelSwarm does on a local DHT: loopback, not firewalled (else the peers try to holepunch each other).
      const swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1', ephemeral: true, firewalled: false }) })
      swarms.push(swarm)
      swarm.on('connection', (conn: Connection) => {
        conn.on('error', () => {})
        conns.push(conn)
        links.attach(conn)
      })
      swarm.join(topic, { server: true, client: true })
      await swarm.flush() // one after the other: two announcing at once can miss each other
    }
    await until(() => conns.length === 2, 'the two peers connect')
    const receiverKey = swarms[1]!.keyPair.publicKey

    // 400 entries of 8 KB in one go, with no chance for the stream to drain: its buffer fills early on.
    const answers: boolean[] = []
    for (let i = 0; i < 400; i++) answers.push(sender.send(receiverKey, i, randomBytes(8000)))
    assert.ok(answers.every(Boolean), 'every push counts as sent')
    await until(() => got.length === 400, 'all 400 pushes arrive')
    assert.deepEqual(got.map((g) => g.position), [...Array(400).keys()])

    // From the moment the connection is torn down, before its channel says it closed: such a push would be dropped.
    for (const c of conns) c.destroy()
    assert.equal(sender.send(receiverKey, 400, randomBytes(10)), false, 'a push into a closing connection is refused')
    await until(() => !sender.send(receiverKey, 401, randomBytes(10)), 'a push without a connection is refused', 10_000)
    // What was written and not yet sent is gone with the connection: the sender is told, to store its log now.
    await until(() => lost === 1, 'the closed push channel is reported', 10_000)
  })
})
