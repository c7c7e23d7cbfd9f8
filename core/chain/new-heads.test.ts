// New-block notices from a chain's node: a real anvil tells of each block it mines and the subscription says when it
// is lost; a node that refuses the subscription or sends junk gets no notice out of it and crashes nothing.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { WebSocketServer } from 'ws'
import { NewHeads, startDevnet, webSocketUrl } from './index.js'

/** Resolves when `check` holds, polling every 20 ms; fails after `ms`. */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
  }
}

describe('new-block notices', () => {
  it('come for each block a local chain mines, and say when the chain is gone', async () => {
    const devnet = await startDevnet({ accounts: 1 })
    const live: boolean[] = []
    let blocks = 0
    let stopped = false
    const heads = new NewHeads(webSocketUrl(devnet.rpcUrl), () => blocks++, (l) => live.push(l))
    try {
      await until('the subscription', () => live.includes(true))
      for (let i = 1; i <= 3; i++) {
        await devnet.provider.send('evm_mine', [])
        await until(`notice of block ${i}`, () => blocks === i)
      }
      await devnet.stop()
      stopped = true
      await until('the subscription lost', () => live.at(-1) === false)
      assert.deepEqual(live, [true, false])
    } finally {
      heads.close()
      if (!stopped) await devnet.stop()
    }
  })

  it('a node that refuses the subscription or sends junk gives no notice, and the watcher stays up', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(server, 'listening')
    const asked: string[] = []
    server.on('connection', (socket) => {
      socket.on('message', (data) => {
        asked.push(String(data))
        for (const junk of ['not json', 'null', '42', '{"id":1}', '{"id":1,"result":7}', Buffer.from([0xff, 0x00])]) socket.send(junk)
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'subscriptions not supported' } }))
      })
    })
    const live: boolean[] = []
    let blocks = 0
    const heads = new NewHeads(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, () => blocks++, (l) => live.push(l))
    try {
      await until('the subscription asked for', () => asked.length === 1)
      await new Promise((r) => setTimeout(r, 300))
      assert.equal(JSON.parse(asked[0]!).method, 'eth_subscribe')
      assert.equal(blocks, 0)
      assert.deepEqual(live, [], 'never live')
    } finally {
      heads.close()
      server.close()
    }
  })
})
