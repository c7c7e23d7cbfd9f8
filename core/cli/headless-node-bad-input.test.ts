// The headless node died on a bad line (issue 12, item 7): `null` on stdin ended it with exit 1, so did an RPC
// failure during `state`, and `--epoch-ms abc` ran with NaN. Now a malformed flag exits 2 saying which and why,
// every line that is not a known command gets an `error` event, a command that fails gets one too, and the node
// keeps answering. A real process on a real chain and DHT; its RPC goes through a proxy the test can break.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Wallet } from 'ethers'
import fc from 'fast-check'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { FUZZ_SEED, fuzzRuns } from '../../build/fuzz-settings.js'
import { ChannelClient, startDevnet, type Devnet } from '../chain/index.js'
import { PeerProcess, type PeerEvent } from '../node/peer-process.js'
import type { Hex } from '../protocol/types.js'
import { nodeCommandOptions } from './node-command.js'
import { parseCommandLine } from './stdin-command.js'
import { UsageError } from './usage-error.js'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

/** Runs the CLI with `args` to its end: exit code and everything it printed. */
async function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, output }
}

describe('the node command\'s flags', () => {
  const base = ['--rpc', 'http://127.0.0.1:1', '--chain-id', '31337', '--channel', `0x${'11'.repeat(20)}`, '--data-dir', join(tmpdir(), 'never-made')]

  it('a malformed flag is a UsageError naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--epoch-ms', 'abc'], /--epoch-ms must be a whole number of milliseconds from 10 to 86400000, not "abc"/],
      [['--leader-timeout-ms=-5'], /--leader-timeout-ms must be a whole number/],
      [['--epoch-ms', '1e3'], /--epoch-ms must be a whole number/],
      [['--epoch-ms', ''], /--epoch-ms must be a whole number/],
      [['--chain-id', 'x'], /--chain-id must be a positive whole number, not "x"/],
      [['--channel', '0x12'], /--channel must be an address/],
      [['--join', 'lots'], /--join must be an amount of ether/],
      [['--join', '1e30'], /--join must be an amount of ether/],
      [['--bootstrap', 'host:port'], /bad bootstrap address "host:port"/],
      [['--bootstrap', 'host:70000'], /bad bootstrap address "host:70000"/],
      [['--no-such-flag'], /Unknown option '--no-such-flag'/],
    ]
    for (const [extra, message] of cases) {
      assert.throws(() => nodeCommandOptions([...base, ...extra], 'usage'), (err: unknown) => err instanceof UsageError && message.test(err.message), extra.join(' '))
    }
    assert.equal(nodeCommandOptions([...base, '--epoch-ms', '1500'], 'usage').epochMs, 1500)
  })

  it('the command exits 2 with the message, no stack, before anything starts', async () => {
    const { code, output } = await runCli(['node', ...base, '--epoch-ms', 'abc'])
    assert.equal(code, 2, output)
    assert.match(output, /^error: --epoch-ms must be a whole number of milliseconds from 10 to 86400000, not "abc"\n$/)
  })
})

describe('the headless node reading stdin', () => {
  let devnet: Devnet
  let testnet: Testnet
  let proxy: Server
  let rpcBroken = false
  let peer: PeerProcess
  const dir = mkdtempSync(join(tmpdir(), 'headless-input-'))

  before(async () => {
    devnet = await startDevnet({ accounts: 2 })
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    // The node's RPC endpoint: anvil behind a proxy that answers 500 while rpcBroken.
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (rpcBroken) return void res.writeHead(500).end('broken on purpose')
        fetch(devnet.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
          .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(Buffer.from(await r.arrayBuffer())))
          .catch(() => res.writeHead(502).end())
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const address = proxy.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const channel = await ChannelClient.deploy(new Wallet(devnet.keys[0]!, devnet.provider), { responseWindow: 60n, staleAfter: 86_400n, txCap: 256 })
    peer = PeerProcess.spawn('peer0', {
      rpc: `http://127.0.0.1:${port}`,
      chainId: devnet.chainId,
      channel: channel.address,
      accountKey: devnet.keys[1] as Hex,
      dataDir: join(dir, 'peer0'),
      bootstrap: testnet.bootstrap,
      join: '1',
      epochMs: 1000,
    })
    await peer.waitFor('ready', () => true, 60_000)
  })
  after(async () => {
    await peer?.kill('SIGKILL')
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()))
    await testnet?.destroy()
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Writes raw lines and waits for one `error` event each (in any order: a send's refusal comes later). */
  async function errorsFor(lines: string[], ms = 30_000): Promise<PeerEvent[]> {
    const from = peer.events.length
    peer.child.stdin!.write(lines.map((l) => `${l}\n`).join(''))
    const errors = (): PeerEvent[] => peer.events.slice(from).filter((e) => e.event === 'error')
    const deadline = Date.now() + ms
    while (errors().length < lines.length) {
      if (Date.now() > deadline) throw new Error(`${errors().length} error events for ${lines.length} lines: ${JSON.stringify(peer.events.slice(from))}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    return errors()
  }

  function stillRunning(): void {
    assert.equal(peer.child.exitCode, null, `the node exited: ${JSON.stringify(peer.events.slice(-5))}`)
    assert.equal(peer.child.signalCode, null)
  }

  it('every line that is not a known command gets an error event; the node keeps answering', async () => {
    const lines = [
      'null', '[]', '42', '"state"', 'true', '{}', '', 'not json', '{"cmd":null}', '{"cmd":"nope","id":7}',
      '{"cmd":"constructor"}', '{"cmd":"__proto__"}', '{"__proto__":{"cmd":"quit"}}', '{"cmd":"send"}',
      '{"cmd":"send","to":"1","amount":"5"}', '{"cmd":"send","to":1,"amount":"-5"}', '{"cmd":"send","to":1.5,"amount":"5"}',
      `{"cmd":"send","to":1,"amount":"${2n ** 256n}"}`, '{"cmd":"send","to":99,"amount":"5"}', '{"cmd":"send","to":1,"amount":1e300}',
      '{"cmd":"send","to":5,"amount":"1","id":"no such member"}', // well-formed: the payment itself is refused
      `{"cmd":"${'x'.repeat(100_000)}"}`,
      `{"cmd":"state","pad":"${'x'.repeat(3 * 1024 * 1024)}"}`, // over 1 MiB: skipped unread, never held whole
    ]
    const errors = await errorsFor(lines)
    assert.ok(errors.every((e) => typeof e.message === 'string' && e.message.length > 0 && e.message.length < 400), JSON.stringify(errors))
    assert.ok(errors.some((e) => e.id === 7 && /unknown command "nope"/.test(String(e.message))))
    assert.ok(errors.some((e) => e.id === 'no such member' && e.cmd === 'send'), JSON.stringify(errors))
    assert.ok(errors.some((e) => /AMOUNT_TOO_LARGE|more than a channel can hold/.test(String(e.message))))
    assert.ok(errors.some((e) => /^line of 3145\d{3} bytes skipped: a command is at most 1048576 bytes$/.test(String(e.message))), JSON.stringify(errors.map((e) => String(e.message).slice(0, 80))))
    const state = await peer.state()
    assert.equal(state.me, 0)
    assert.deepEqual(state.history, [], 'a refused line paid something')
    stillRunning()
    // The data directory it made holds its peer key: owner-only.
    assert.equal(statSync(join(dir, 'peer0')).mode & 0o777, 0o700)
    assert.equal(statSync(join(dir, 'peer0', 'peer-key.seed')).mode & 0o777, 0o600)
  })

  it('an RPC failure during state is an error event; state answers again once the RPC is back', async () => {
    rpcBroken = true
    try {
      const [error] = await errorsFor(['{"cmd":"state","id":"while broken"}'])
      assert.equal(error!.id, 'while broken')
      assert.equal(error!.cmd, 'state')
    } finally {
      rpcBroken = false
    }
    stillRunning()
    const state = await peer.state()
    assert.equal(state.me, 0)
  })

  it('fuzz: arbitrary lines each get an error event, and the node still answers state', async () => {
    const names = ['send', 'state', 'exit', 'close-epoch', 'quit']
    const line = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 100 }),
      fc.json({ maxDepth: 3 }),
      fc.record({ cmd: fc.oneof(fc.constantFrom(...names), fc.jsonValue()), to: fc.jsonValue(), amount: fc.jsonValue(), id: fc.jsonValue() }, { requiredKeys: ['cmd'] }).map((o) => JSON.stringify(o)),
    )
    // One line each (no line breaks inside), and none that is a real command (a quit would end the run).
    const lines = fc
      .sample(line, { seed: FUZZ_SEED, numRuns: fuzzRuns(300) })
      .filter((l) => !/[\n\r\u2028\u2029]/.test(l) && !parseCommandLine(l).ok)
    for (let i = 0; i < lines.length; i += 200) await errorsFor(lines.slice(i, i + 200), 60_000)
    stillRunning()
    const state = await peer.state()
    assert.deepEqual(state.history, [])
    peer.command({ cmd: 'quit' })
    await peer.waitFor('closed')
    assert.equal(await peer.exited, 0)
  })
})
