// The sandbox as a person runs it: a real process with its own DHT and peer processes, here on a chain the test
// started (--rpc), so the summary it writes can be checked against the chain itself.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'ethers'
import { ChannelClient, startDevnet } from '../chain/index.js'
import type { SandboxSummary } from './sandbox-command.js'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

describe('sandbox command', () => {
  it('runs 3 peers to 4 checkpoints with live progress; its summary matches the chain', async () => {
    const devnet = await startDevnet({ accounts: 5 })
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-test-'))
    try {
      const file = join(dir, 'summary.json')
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'sandbox', '--peers', '3', '--epochs', '4', '--rpc', devnet.rpcUrl, '--json', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      child.stdout.on('data', (c: Buffer) => (out += c.toString()))
      child.stderr.on('data', (c: Buffer) => (out += c.toString()))
      const [code] = (await once(child, 'exit')) as [number | null]
      assert.equal(code, 0, out)
      assert.match(out, /epoch \d+ leader \d \| \d+ transfers\/s, \d+ receipted \| \d+ checkpoints \| balances \(ETH\)/)

      const summary = JSON.parse(readFileSync(file, 'utf8')) as SandboxSummary
      assert.equal(summary.chainId, '31337')
      assert.ok(summary.checkpoints.length >= 4)
      assert.equal(summary.peers.length, 3)
      const channel = ChannelClient.at(summary.channel, devnet.provider)
      const onChain = await channel.checkpoints()
      assert.deepEqual(
        summary.checkpoints.map((c) => [c.epoch, c.leader, c.transaction]),
        onChain.slice(0, summary.checkpoints.length).map((e) => [e.epoch.toString(), e.leader, e.transactionHash]),
      )
      const last = onChain[summary.checkpoints.length - 1]
      assert.deepEqual(summary.peers.map((p) => BigInt(p.balanceWei)), last?.balances)
      assert.equal(summary.peers.reduce((s, p) => s + BigInt(p.balanceWei), 0n), parseEther('30'), 'money conserved')
      assert.ok(summary.peers.some((p) => BigInt(p.balanceWei) !== parseEther('10')), 'payments moved money')
    } finally {
      await devnet.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
