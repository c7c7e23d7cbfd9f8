// The package as a person installs it: `npm pack` of this tree, the tarball installed globally into a temporary
// prefix (dependencies from the registry or npm's cache, native modules built there), and the installed
// `offchain-channel` command run from outside the project: the sandbox with its own anvil, DHT and peer processes.
// Needs the contract and the renderer built (`npm test` does it first); packs with --ignore-scripts so it never
// rebuilds them under other tests.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'ethers'
import type { SandboxSummary } from './sandbox-command.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** Runs a command to its end; its output (stdout and stderr together) comes back, a failure names it. */
async function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ out: string; stdout: string; ms: number }> {
  const started = Date.now()
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let stdout = ''
  child.stdout.on('data', (c: Buffer) => ((out += c.toString()), (stdout += c.toString())))
  child.stderr.on('data', (c: Buffer) => (out += c.toString()))
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  clearTimeout(timer)
  assert.equal(code, 0, `${command} ${args.join(' ')} ended with ${code ?? signal}:\n${out}`)
  return { out, stdout, ms: Date.now() - started }
}

describe('packed install', () => {
  it('npm pack, installed into a fresh prefix: the offchain-channel command runs the sandbox to 2 checkpoints', { timeout: 600_000 }, async () => {
    for (const built of ['core/chain/generated/Channel.ts', 'app/renderer/dist/index.html']) {
      assert.ok(existsSync(join(ROOT, built)), `${built} is missing: run npm run build:contracts and npm run build:renderer first`)
    }
    const dir = mkdtempSync(join(tmpdir(), 'packed-install-'))
    try {
      const pack = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT, 120_000)
      const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
      assert.ok(packed)
      const files = packed.files.map((f) => f.path)
      for (const needed of ['package.json', 'tsconfig.json', 'core/cli/offchain-channel.mjs', 'core/cli/main.ts', 'core/chain/generated/Channel.ts', 'app/renderer/dist/index.html']) {
        assert.ok(files.includes(needed), `the tarball lacks ${needed}`)
      }
      assert.deepEqual(files.filter((f) => f.endsWith('.test.ts') || f.startsWith('contracts/') || f.startsWith('build/')), [], 'no tests, contract sources or build scripts')

      // Globally into its own prefix, the way a command is installed; the current directory is outside the project.
      const prefix = join(dir, 'prefix')
      const install = await run(NPM, ['install', '--global', '--prefix', prefix, join(dir, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'], dir, 420_000)
      console.log(`# npm pack ${(pack.ms / 1000).toFixed(1)} s, npm install of the tarball ${(install.ms / 1000).toFixed(1)} s`)
      const bin = join(prefix, process.platform === 'win32' ? 'offchain-channel.cmd' : join('bin', 'offchain-channel'))
      assert.ok(existsSync(bin), `no ${bin}`)

      const file = join(dir, 'summary.json')
      const sandbox = await run(bin, ['sandbox', '--peers', '2', '--epochs', '2', '--json', file], dir, 180_000)
      console.log(`# installed sandbox to 2 checkpoints ${(sandbox.ms / 1000).toFixed(1)} s`)
      // anvil from the installed @foundry-rs/anvil; each peer a process of the installed command, joined and signing.
      assert.match(sandbox.out, /starting a local chain \(anvil on 127\.0\.0\.1\)/)
      assert.match(sandbox.out, /peer 0 \(0x[0-9a-fA-F]{40}\) joined with 10 ETH/)
      assert.match(sandbox.out, /peer 1 \(0x[0-9a-fA-F]{40}\) joined with 10 ETH/)
      assert.match(sandbox.out, /\d+ checkpoints landed/)

      const summary = JSON.parse(readFileSync(file, 'utf8')) as SandboxSummary
      assert.equal(summary.chainId, '31337')
      assert.match(summary.channel, /^0x[0-9a-fA-F]{40}$/)
      assert.ok(summary.checkpoints.length >= 2, `${summary.checkpoints.length} checkpoints`)
      for (const c of summary.checkpoints) {
        assert.match(c.transaction, /^0x[0-9a-f]{64}$/)
        assert.ok(c.leader === 0 || c.leader === 1)
      }
      const epochs = summary.checkpoints.map((c) => BigInt(c.epoch))
      assert.deepEqual(epochs, [...epochs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'checkpoints in epoch order')
      assert.equal(new Set(epochs).size, epochs.length, 'one checkpoint per epoch')
      assert.equal(summary.peers.length, 2)
      assert.equal(new Set(summary.peers.map((p) => p.address)).size, 2)
      assert.equal(summary.peers.reduce((s, p) => s + BigInt(p.balanceWei), 0n), parseEther('20'), 'the two 10 ETH deposits, conserved')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
