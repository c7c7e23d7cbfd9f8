// Reading a channel's events through an endpoint that limits log queries, as public RPC endpoints do: the reads
// start at the channel's deployment block, and a range the endpoint refuses is read again in smaller windows.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { Wallet, parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import { ChainError } from './errors.js'
import { ChannelClient, chainProvider } from './index.js'

interface LogQuery {
  fromBlock: number
  toBlock: number
}

/**
 * A JSON-RPC endpoint in front of anvil that refuses eth_getLogs over more than `maxRange` blocks with the error
 * QuickNode-like endpoints give, or every eth_getLogs as rate-limited, and records the log queries it was sent.
 */
async function limitedEndpoint(upstream: string, mode: { maxRange: number } | 'rate-limited'): Promise<{ url: string; queries: LogQuery[]; server: Server }> {
  const queries: LogQuery[] = []
  const answer = async (call: { id: number; method: string; params: Array<{ fromBlock: string; toBlock: string }> }): Promise<object> => {
    if (call.method === 'eth_getLogs') {
      const q = { fromBlock: Number(call.params[0]!.fromBlock), toBlock: Number(call.params[0]!.toBlock) }
      queries.push(q)
      const error =
        mode === 'rate-limited'
          ? { code: 429, message: 'Too Many Requests: rate limit exceeded' }
          : q.toBlock - q.fromBlock + 1 > mode.maxRange
            ? { code: -32614, message: `eth_getLogs is limited to a ${mode.maxRange} block range` }
            : undefined
      if (error) return { jsonrpc: '2.0', id: call.id, error }
    }
    const r = await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call) })
    return (await r.json()) as object
  }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const parsed = JSON.parse(body) as Parameters<typeof answer>[0] | Array<Parameters<typeof answer>[0]>
      // ethers batches calls made in the same moment into one array.
      const replies = Array.isArray(parsed) ? Promise.all(parsed.map(answer)) : answer(parsed)
      replies
        .then((r) => {
          res.setHeader('content-type', 'application/json')
          res.end(JSON.stringify(r))
        })
        .catch(() => res.destroy())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries, server }
}

describe('channel events through a limited endpoint', () => {
  const devnet = useDevnet({ accounts: 4 })
  const servers: Server[] = []
  let channelAddress = ''

  before(async () => {
    const d = devnet()
    await d.provider.send('anvil_mine', ['0x200']) // a chain with history before the channel
    const f = await openChannel(d, { members: 2, deposit: parseEther('1') })
    channelAddress = f.channel.address
    // Deposits spread over a few hundred blocks, so a full read needs several windows.
    for (let i = 0; i < 3; i++) {
      await d.provider.send('anvil_mine', ['0x64'])
      await f.channel.as(f.members[i % 2]!.wallet).deposit(parseEther('0.1'))
    }
  })

  after(() => {
    for (const s of servers) s.close()
  })

  it('reads every event from the deployment block on, in windows the endpoint accepts', async () => {
    const d = devnet()
    const direct = ChannelClient.at(channelAddress, d.provider)
    const expected = await direct.events(0)
    assert.deepEqual(expected.map((e) => e.type), ['Joined', 'Joined', 'Deposited', 'Deposited', 'Deposited'])
    const deployment = await direct.deploymentBlock()
    assert.ok(deployment > 0x200 && deployment < expected[0]!.blockNumber, `deployed in block ${deployment}, before the first join`)

    const endpoint = await limitedEndpoint(d.rpcUrl, { maxRange: 50 })
    servers.push(endpoint.server)
    const limited = ChannelClient.at(channelAddress, new Wallet(d.keys[0]!, chainProvider('sandbox', endpoint.url, d.chainId)))
    const events = await limited.events()
    assert.deepEqual(
      events.map((e) => [e.type, e.blockNumber, e.transactionHash]),
      expected.map((e) => [e.type, e.blockNumber, e.transactionHash]),
    )
    assert.ok(endpoint.queries.every((q) => q.fromBlock >= deployment), 'nothing asked of blocks before the deployment')
    const accepted = endpoint.queries.filter((q) => q.toBlock - q.fromBlock < 50)
    assert.ok(accepted.length >= 6, `${accepted.length} windows of at most 50 blocks cover the ${expected.at(-1)!.blockNumber - deployment} blocks`)
    // The window size that worked is kept: a second read asks nothing too wide.
    const before = endpoint.queries.length
    await limited.checkpoints()
    assert.ok(endpoint.queries.slice(before).every((q) => q.toBlock - q.fromBlock < 50))
  })

  it('reports a rate-limited endpoint at once, without retrying in smaller windows', async () => {
    const d = devnet()
    const endpoint = await limitedEndpoint(d.rpcUrl, 'rate-limited')
    servers.push(endpoint.server)
    const limited = ChannelClient.at(channelAddress, chainProvider('sandbox', endpoint.url, d.chainId))
    await assert.rejects(limited.events(), (err) => err instanceof ChainError && /Too Many Requests/.test(err.message))
    assert.equal(endpoint.queries.length, 1)
  })
})
