// The embedded devnet: a real anvil that answers on loopback with funded keys, and leaves no process behind.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { Wallet, parseEther } from 'ethers'
import { ChainError, ChannelClient, chainProvider, startDevnet } from './index.js'

function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('devnet', () => {
  it('starts on 127.0.0.1 with funded dev accounts and stops without leaving a process', async () => {
    const devnet = await startDevnet({ accounts: 3, balanceEth: 50, chainId: 4242 })
    try {
      assert.match(devnet.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal((await devnet.provider.getNetwork()).chainId, 4242n)
      assert.equal(devnet.keys.length, 3)
      for (const key of devnet.keys) {
        assert.equal(await devnet.provider.getBalance(new Wallet(key).address), parseEther('50'))
      }
      assert.ok(running(devnet.pid))
    } finally {
      await devnet.stop()
    }
    assert.equal(running(devnet.pid), false, 'anvil is gone')
    const dead = chainProvider('sandbox', devnet.rpcUrl, 4242n)
    await assert.rejects(dead.getBlockNumber())
    dead.destroy()
  })

  it('moves the chain clock forward', async () => {
    const devnet = await startDevnet({ accounts: 1 })
    try {
      const t0 = (await devnet.provider.getBlock('latest'))?.timestamp ?? 0
      await devnet.increaseTime(1000)
      const t1 = (await devnet.provider.getBlock('latest'))?.timestamp ?? 0
      assert.ok(t1 - t0 >= 1000, `clock moved ${t1 - t0} s`)
    } finally {
      await devnet.stop()
    }
  })

  it('reports an unfunded sender as a typed error, not an ethers exception', async () => {
    const devnet = await startDevnet({ accounts: 1 })
    try {
      const poor = Wallet.createRandom(devnet.provider)
      await assert.rejects(
        ChannelClient.deploy(poor, { responseWindow: 60n, staleAfter: 86_400n, txCap: 8 }),
        (err: unknown) => err instanceof ChainError && err.code === 'INSUFFICIENT_FUNDS',
      )
      const rich = new Wallet(devnet.keys[0] as string, devnet.provider)
      await assert.rejects(
        ChannelClient.deploy(rich, { responseWindow: 60n, staleAfter: 30n, txCap: 8 }),
        (err: unknown) => err instanceof ChainError && err.code === 'ParamOutOfRange',
      )
    } finally {
      await devnet.stop()
    }
  })
})

describe('devnet owner killed', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`takes its anvil down with it on ${signal}`, async () => {
      const script = `
        import { startDevnet } from ${JSON.stringify(new URL('./devnet.ts', import.meta.url).href)}
        const d = await startDevnet({ accounts: 1 })
        console.log('pid ' + d.pid)
        setInterval(() => {}, 1000)
      `
      const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let out = ''
      owner.stdout.on('data', (c: Buffer) => (out += c.toString()))
      const deadline = Date.now() + 30_000
      while (!/pid (\d+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const pid = Number(/pid (\d+)/.exec(out)?.[1])
      assert.ok(running(pid), 'anvil runs while its owner does')
      owner.kill(signal)
      await once(owner, 'exit')
      const until = Date.now() + 5_000
      while (running(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      assert.equal(running(pid), false, 'no orphan anvil')
    })
  }
})
