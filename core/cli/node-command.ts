// `node`: one headless peer. Talks JSON lines: commands on stdin, events on stdout, so a supervisor (the sandbox,
// a test, a script) can drive it. The account key comes from a file or the environment, never the command line
// (process lists are public); the per-channel peer key is kept in the data directory, readable by the owner only.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { parseEther } from 'ethers'
import type { Conduct } from '../consensus/conduct.js'
import type { Transport } from '../consensus/transport.js'
import { createPeerKey, type PeerKeyPair } from '../log/peer-key.js'
import { ChannelNode } from '../node/channel-node.js'
import { amountProblem } from '../node/amount-limit.js'
import { ensureDataDir } from '../node/data-dir.js'
import { ACCOUNT_KEY_ENV, toJson } from '../node/wire.js'
import type { Hex } from '../protocol/types.js'
import { errorMessage } from '../util/error-message.js'
import { logUnhandledRejections } from '../util/unhandled-rejections.js'
import { boundedLines } from './line-reader.js'
import { parseCommandLine } from './stdin-command.js'
import { UsageError } from './usage-error.js'

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

/** The longest stdin line read (a command is well under 1 KiB). */
const MAX_LINE_BYTES = 1024 * 1024
/** Bounds of the timing flags: from 10 ms (tests) to a day. */
const MIN_MS = 10
const MAX_MS = 86_400_000

/** The `node` command's flags (after `node`); UsageError, saying which flag and why, for any malformed one. */
export function nodeCommandOptions(args: string[], usage: string): NodeCommandOptions {
  let values: Record<string, string | undefined>
  try {
    values = parseArgs({
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
    }).values
  } catch (err) {
    throw new UsageError(`${errorMessage(err)}\n${usage}`)
  }
  const need = (name: string): string => {
    const v = values[name]
    if (!v) throw new UsageError(`--${name} is required\n${usage}`)
    return v
  }
  const whole = (name: string, min: number, max: number): number => {
    const v = values[name] ?? ''
    const n = /^[0-9]{1,12}$/.test(v) ? Number(v) : NaN
    if (!(n >= min && n <= max)) throw new UsageError(`--${name} must be a whole number of milliseconds from ${min} to ${max}, not ${JSON.stringify(v)}`)
    return n
  }
  const chainId = need('chain-id')
  if (!/^[0-9]{1,20}$/.test(chainId) || BigInt(chainId) === 0n) throw new UsageError(`--chain-id must be a positive whole number, not ${JSON.stringify(chainId)}`)
  const channel = need('channel')
  if (!/^0x[0-9a-fA-F]{40}$/.test(channel)) throw new UsageError(`--channel must be an address (0x and 40 hex digits), not ${JSON.stringify(channel)}`)
  const join = values.join
  if (join !== undefined) joinDeposit(join) // checked now, used after the node starts
  parseBootstrap(values.bootstrap)
  return {
    rpc: need('rpc'),
    chainId: BigInt(chainId),
    channel,
    keyFile: values['key-file'],
    dataDir: need('data-dir'),
    bootstrap: values.bootstrap,
    join,
    epochMs: whole('epoch-ms', MIN_MS, MAX_MS),
    leaderTimeoutMs: whole('leader-timeout-ms', MIN_MS, MAX_MS),
  }
}

/** `--join ETH` in wei: a positive decimal amount of ether the contract can hold (UsageError otherwise). */
function joinDeposit(eth: string): bigint {
  let wei: bigint
  try {
    if (!/^[0-9]{1,30}(\.[0-9]{1,18})?$/.test(eth)) throw new Error('format')
    wei = parseEther(eth)
  } catch {
    throw new UsageError(`--join must be an amount of ether like 1 or 0.5, not ${JSON.stringify(eth)}`)
  }
  const problem = amountProblem(wei)
  if (problem) throw new UsageError(`--join: ${problem.message}`)
  return wei
}

function accountKey(keyFile: string | undefined): Hex {
  const raw = keyFile ? readFileSync(keyFile, 'utf8').trim() : process.env[ACCOUNT_KEY_ENV]
  if (!raw) throw new UsageError(`no account key: give --key-file or set ${ACCOUNT_KEY_ENV}`)
  const key = raw.startsWith('0x') ? raw : `0x${raw}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError('the account key must be 32 bytes of hex')
  return key as Hex
}

/**
 * The node's peer key for this data directory: created on first start (or anew with `fresh`, when another account
 * registered the old one first), kept with owner-only permissions.
 */
function peerKey(dataDir: string, fresh = false): PeerKeyPair {
  ensureDataDir(dataDir)
  const file = join(dataDir, 'peer-key.seed')
  if (fresh || !existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 })
  chmodSync(file, 0o600)
  return createPeerKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'))
}

export function parseBootstrap(list: string | undefined): Array<{ host: string; port: number }> | undefined {
  if (!list) return undefined
  return list.split(',').map((hp) => {
    const [host, port, ...rest] = hp.split(':')
    const n = /^[0-9]{1,5}$/.test(port ?? '') ? Number(port) : NaN
    if (!host || rest.length > 0 || !(n >= 1 && n <= 65_535)) throw new UsageError(`bad bootstrap address ${JSON.stringify(hp)}: want host:port`)
    return { host, port: n }
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
    replacePeerKey: async () => peerKey(opts.dataDir, true),
    dataDir: opts.dataDir,
    ...(bootstrap ? { bootstrap } : {}),
    timing: { epochMs: opts.epochMs, leaderTimeoutMs: opts.leaderTimeoutMs, chainPollMs: 100 },
    ...(opts.join ? { joinWith: joinDeposit(opts.join) } : {}),
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

  // One line at a time; whatever a line holds and however its command fails, the answer is an event, never a throw.
  for await (const read of boundedLines(process.stdin, MAX_LINE_BYTES)) {
    if ('tooLong' in read) {
      out('error', { message: `line of ${read.tooLong} bytes skipped: a command is at most ${MAX_LINE_BYTES} bytes` })
      continue
    }
    const parsed = parseCommandLine(read.line)
    if (!parsed.ok) {
      out('error', { ...(parsed.id !== undefined ? { id: parsed.id } : {}), message: parsed.message })
      continue
    }
    const cmd = parsed.command
    const echo = cmd.id !== undefined ? { id: cmd.id } : {}
    try {
      switch (cmd.cmd) {
        case 'send': {
          const t0 = performance.now()
          node.send(cmd.to, cmd.amount).then(
            (r) => out('sent', { ...echo, transfer: r.transfer, status: r.status, ms: performance.now() - t0 }),
            (err: unknown) => out('error', { ...echo, cmd: 'send', message: errorMessage(err) }),
          )
          break
        }
        case 'state':
          await node.refresh()
          // The heap in use lets a soak or a flood test see a node's memory from outside.
          out('state', { ...echo, ...node.state(), history: node.history(), resumed: node.resumedPayments(), heapUsedBytes: process.memoryUsage().heapUsed })
          break
        case 'exit':
          node.requestExit()
          break
        case 'close-epoch':
          node.participant.closeEpochNow()
          break
        case 'quit':
          await shutdown()
          return
      }
    } catch (err) {
      out('error', { ...echo, cmd: cmd.cmd, message: errorMessage(err) })
    }
  }
  await shutdown() // stdin closed: the supervisor is gone
}
