// The `devnet` command as a person runs it: a real process, a real chain that answers while it runs and is gone
// after Ctrl-C.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ChannelClient, chainProvider } from '../chain/index.js'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (out += c.toString()))
  return { child, output: () => out }
}

async function waitFor(output: () => string, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const m = pattern.exec(output())
    if (m) return m
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('devnet command', () => {
  it('serves a chain with a checkpointed channel until Ctrl-C, then leaves nothing running', async () => {
    const { child, output } = run(['devnet', '--members', '3'])
    try {
      const m = await waitFor(output, /chain (http:\/\/127\.0\.0\.1:\d+) \(chain id (\d+)\), channel (0x[0-9a-fA-F]{40})/, 30_000)
      await waitFor(output, /Ctrl-C stops it/, 30_000)
      const provider = chainProvider('sandbox', m[1] as string, BigInt(m[2] as string))
      const channel = ChannelClient.at(m[3] as string, provider)
      const status = await channel.status()
      assert.equal(status.checkpointedEpoch, 1n)
      assert.equal(status.leader, 1)
      assert.equal(await channel.memberCount(), 3)
      provider.destroy()

      child.kill('SIGINT')
      const [code] = (await once(child, 'exit')) as [number | null]
      assert.equal(code, 0)
      const dead = chainProvider('sandbox', m[1] as string, BigInt(m[2] as string))
      await assert.rejects(dead.send('eth_chainId', []))
      dead.destroy()
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('says what is wrong with a bad option and exits non-zero', async () => {
    const { child, output } = run(['devnet', '--members', '1', '--once'])
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 1)
    assert.match(output(), /--members must be a whole number from 2 to 64/)
  })
})
