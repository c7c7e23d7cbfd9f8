// The sandbox as a person runs it: a real process with its own DHT and peer processes, here on a chain the test
// started (--rpc), so the summary it writes can be checked against the chain itself. Also with 16 peers (issue 13:
// a channel of 16 separate processes pays over the swarm and lands its checkpoints).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'ethers'
import { ChannelClient, startDevnet, type Devnet } from '../chain/index.js'
import type { SandboxSummary } from './sandbox-command.js'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

/** Runs `sandbox --peers N --epochs E` on `devnet`; returns what it printed and the summary it wrote. */
async function sandbox(devnet: Devnet, peers: number, epochs: number): Promise<{ out: string; summary: SandboxSummary }> {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-test-'))
  try {
    const file = join(dir, 'summary.json')
    const args = ['--import', 'tsx', MAIN, 'sandbox', '--peers', `${peers}`, '--epochs', `${epochs}`, '--rpc', devnet.rpcUrl, '--json', file]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 0, out)
    return { out, summary: JSON.parse(readFileSync(file, 'utf8')) as SandboxSummary }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The summary's checkpoints are the chain's, its balances the last checkpoint's, and they add up to the deposits. */
async function matchesChain(devnet: Devnet, summary: SandboxSummary, peers: number): Promise<void> {
  assert.equal(summary.chainId, '31337')
  assert.equal(summary.peers.length, peers)
  const channel = ChannelClient.at(summary.channel, devnet.provider)
  const onChain = await channel.checkpoints()
  assert.deepEqual(
    summary.checkpoints.map((c) => [c.epoch, c.leader, c.transaction]),
    onChain.slice(0, summary.checkpoints.length).map((e) => [e.epoch.toString(), e.leader, e.transactionHash]),
  )
  const last = onChain[summary.checkpoints.length - 1]
  assert.deepEqual(summary.peers.map((p) => BigInt(p.balanceWei)), last?.balances)
  assert.equal(summary.peers.reduce((s, p) => s + BigInt(p.balanceWei), 0n), parseEther('10') * BigInt(peers), 'money conserved')
  assert.ok(summary.peers.some((p) => BigInt(p.balanceWei) !== parseEther('10')), 'payments moved money')
}

describe('sandbox command', () => {
  it('runs 3 peers to 4 checkpoints with live progress; its summary matches the chain', async () => {
    const devnet = await startDevnet({ accounts: 5 })
    try {
      const { out, summary } = await sandbox(devnet, 3, 4)
      assert.match(out, /epoch \d+ leader \d \| \d+ transfers\/s, \d+ receipted \| \d+ checkpoints \| balances \(ETH\)/)
      assert.ok(summary.checkpoints.length >= 4)
      await matchesChain(devnet, summary, 3)
    } finally {
      await devnet.stop()
    }
  })

  it('runs 16 peers as separate processes: every one in the checkpoints, payments receipted, money conserved', { timeout: 900_000 }, async () => {
    const devnet = await startDevnet({ accounts: 17 })
    try {
      const { out, summary } = await sandbox(devnet, 16, 1)
      await matchesChain(devnet, summary, 16)
      assert.ok(summary.receipted > 0, out)
      console.log(`16 peers: ${summary.receipted} payments receipted in ${summary.seconds} s of trading`)
    } finally {
      await devnet.stop()
    }
  })
})
