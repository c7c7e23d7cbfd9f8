// `node`: one headless peer. Talks JSON lines: commands on stdin, events on stdout, so a supervisor (the sandbox,
// a test, a script) can drive it. The account key comes from a file or the environment, never the command line
// (process lists are public); the per-channel peer key is kept in the data directory, readable by the owner only.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { parseEther } from 'ethers'
import type { Conduct } from '../consensus/conduct.js'
import type { Transport } from '../consensus/transport.js'
import { createPeerKey, type PeerKeyPair } from '../log/peer-key.js'
import { ChannelNode } from '../node/channel-node.js'
import { ACCOUNT_KEY_ENV, toJson } from '../node/wire.js'
import type { Hex } from '../protocol/types.js'
import { errorMessage } from '../util/error-message.js'
import { logUnhandledRejections } from '../util/unhandled-rejections.js'


export interface NodeCommandOptions {
  rpc: string
  chainId: bigint
  channel: string
  keyFile?: string | undefined
  dataDir: string
  bootstrap?: string | undefined
  join?: string | undefined
  epochMs: number
  leaderTimeoutMs: number
}

/** What a test may inject into a node process (core/testing/hostile-node.ts); the product injects nothing. */
export interface NodeInjection {
  conduct?: (accountKey: Hex) => Conduct
  wrapTransport?: (logs: Transport) => Transport
}

/** The `node` command's flags (after `node`). */
export function nodeCommandOptions(args: string[], usage: string): NodeCommandOptions {
  const { values } = parseArgs({
    args,
    options: {
      rpc: { type: 'string' },
      'chain-id': { type: 'string' },
      channel: { type: 'string' },
      'key-file': { type: 'string' },
      'data-dir': { type: 'string' },
      bootstrap: { type: 'string' },
      join: { type: 'string' },
      'epoch-ms': { type: 'string', default: '2000' },
      'leader-timeout-ms': { type: 'string', default: '5000' },
    },
  })
  const need = (name: string, v: string | undefined): string => {
    if (!v) throw new Error(`--${name} is required\n${usage}`)
    return v
  }
  return {
    rpc: need('rpc', values.rpc),
    chainId: BigInt(need('chain-id', values['chain-id'])),
    channel: need('channel', values.channel),
    keyFile: values['key-file'],
    dataDir: need('data-dir', values['data-dir']),
    bootstrap: values.bootstrap,
    join: values.join,
    epochMs: Number(values['epoch-ms']),
    leaderTimeoutMs: Number(values['leader-timeout-ms']),
  }
}

function accountKey(keyFile: string | undefined): Hex {
  const raw = keyFile ? readFileSync(keyFile, 'utf8').trim() : process.env[ACCOUNT_KEY_ENV]
  if (!raw) throw new Error(`no account key: give --key-file or set ${ACCOUNT_KEY_ENV}`)
  const key = raw.startsWith('0x') ? raw : `0x${raw}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error('the account key must be 32 bytes of hex')
  return key as Hex
}

/** The node's peer key for this data directory: created on first start, kept with owner-only permissions. */
function peerKey(dataDir: string): PeerKeyPair {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, 'peer-key.seed')
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 })
  chmodSync(file, 0o600)
  return createPeerKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'))
}

export function parseBootstrap(list: string | undefined): Array<{ host: string; port: number }> | undefined {
  if (!list) return undefined
  return list.split(',').map((hp) => {
    const [host, port] = hp.split(':')
    if (!host || !port || !Number.isInteger(Number(port))) throw new Error(`bad bootstrap address ${hp}: want host:port`)
    return { host, port: Number(port) }
  })
}

export async function runNodeCommand(opts: NodeCommandOptions, inject: NodeInjection = {}): Promise<void> {
  const out = (event: string, data: object = {}): void => {
    process.stdout.write(`${toJson({ event, ...data })}\n`)
  }
  logUnhandledRejections((message) => out('error', { message }))
  const bootstrap = parseBootstrap(opts.bootstrap)
  const privateKey = accountKey(opts.keyFile)
  const node = await ChannelNode.start({
    rpcUrl: opts.rpc,
    chainId: opts.chainId,
    channel: opts.channel,
    privateKey,
    peerKey: peerKey(opts.dataDir),
    dataDir: opts.dataDir,
    ...(bootstrap ? { bootstrap } : {}),
    timing: { epochMs: opts.epochMs, leaderTimeoutMs: opts.leaderTimeoutMs, chainPollMs: 100 },
    ...(opts.join ? { joinWith: parseEther(opts.join) } : {}),
    ...(inject.conduct ? { conduct: inject.conduct(privateKey) } : {}),
    ...(inject.wrapTransport ? { wrapTransport: inject.wrapTransport } : {}),
    log: (line) => out('log', { line }),
  })
  node.events.on('epoch', (e) => out('epoch', e))
  node.events.on('checkpoint', (e) => out('checkpoint', e))
  node.events.on('view-change', (e) => out('view-change', e))
  node.events.on('dispute', (e) => out('dispute', e))
  node.events.on('exited', (e) => out('exited', e))
  out('ready', node.state())

  let closing: Promise<void> | undefined
  const shutdown = (): Promise<void> => (closing ??= node.close().then(() => out('closed')))
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)))
  process.once('SIGINT', () => void shutdown().then(() => process.exit(0)))

  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    let cmd: { cmd?: unknown; to?: unknown; amount?: unknown; id?: unknown }
    try {
      cmd = JSON.parse(line) as typeof cmd
    } catch {
      out('error', { message: 'not JSON' })
      continue
    }
    switch (cmd.cmd) {
      case 'send': {
        const to = Number(cmd.to)
        let amount: bigint
        try {
          amount = BigInt(String(cmd.amount))
        } catch {
          out('error', { id: cmd.id, message: 'amount must be a whole number of wei' })
          break
        }
        const t0 = performance.now()
        node.send(to, amount).then(
          (r) => out('sent', { id: cmd.id, transfer: r.transfer, status: r.status, ms: performance.now() - t0 }),
          (err: unknown) => out('error', { id: cmd.id, message: errorMessage(err) }),
        )
        break
      }
      case 'state':
        await node.refresh()
        out('state', { ...node.state(), history: node.history() })
        break
      case 'exit':
        node.requestExit()
        break
      case 'close-epoch': // as leader, close the running epoch now (benchmarks, a "checkpoint now" button)
        node.participant.closeEpochNow()
        break
      case 'quit':
        await shutdown()
        return
      default:
        out('error', { message: `unknown command ${String(cmd.cmd)}` })
    }
  }
  await shutdown() // stdin closed: the supervisor is gone
}
