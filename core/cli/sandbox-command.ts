// `sandbox`: the whole product on one machine. A devnet (or --rpc), a local DHT, a fresh channel, N peers as
// separate `node` processes paying each other, live progress, and a summary once E checkpoints have landed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonRpcProvider, Wallet, formatEther, parseEther } from 'ethers'
import createTestnet from 'hyperdht/testnet.js'
import { CHANNEL_LIMITS, ChannelClient, chainProvider, devKeys, startDevnet, type Devnet } from '../chain/index.js'
import { PeerProcess } from '../node/peer-process.js'
import type { Hex } from '../protocol/types.js'
import { toJson } from '../node/wire.js'
import { errorMessage } from '../util/error-message.js'

export interface SandboxOptions {
  peers: number
  /** Stop once this many checkpoints have landed (Infinity: until Ctrl-C). */
  epochs: number
  rpc?: string | undefined
  json?: string | undefined
  depositEth: string
  log: (line: string) => void
}

export interface SandboxSummary {
  chainId: string
  channel: string
  checkpoints: Array<{ epoch: string; leader: number; transaction: string }>
  peers: Array<{ address: string; balanceWei: string }>
  /** Payments receipted while trading, and for how long it traded. */
  receipted: number
  seconds: number
}

const IN_FLIGHT = 8 // payments each peer keeps open

export async function runSandbox(opts: SandboxOptions): Promise<SandboxSummary> {
  if (!Number.isInteger(opts.peers) || opts.peers < 2 || opts.peers > 16) throw new RangeError('--peers must be 2 to 16')
  if (opts.epochs !== Infinity && (!Number.isInteger(opts.epochs) || opts.epochs < 1)) {
    throw new RangeError('--epochs must be a positive whole number')
  }
  parseEther(opts.depositEth) // a readable error now rather than from every peer
  const log = opts.log
  const work = mkdtempSync(join(tmpdir(), 'offchain-sandbox-'))
  let devnet: Devnet | undefined
  const peers: PeerProcess[] = []
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  let stopping = false
  const onSignal = (): void => {
    stopping = true
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    let rpc: string
    let chainId: bigint
    if (opts.rpc) {
      rpc = opts.rpc
      chainId = await chainIdOf(rpc)
    } else {
      log('starting a local chain (anvil on 127.0.0.1) ...')
      devnet = await startDevnet({ accounts: opts.peers + 1 })
      rpc = devnet.rpcUrl
      chainId = devnet.chainId
    }
    const provider = chainProvider('sandbox', rpc, chainId)
    const keys = devKeys(opts.peers + 1) // the chain's first accounts are funded (anvil's dev mnemonic)
    const channel = await ChannelClient.deploy(new Wallet(keys[0] as string, provider), {
      responseWindow: 60n,
      staleAfter: 86_400n,
      txCap: CHANNEL_LIMITS.maxTxCap, // the most a dispute can carry
    })
    log(`chain ${rpc} (chain id ${chainId}), channel ${channel.address}, local DHT at 127.0.0.1:${testnet.bootstrap[0]?.port}`)

    for (let i = 0; i < opts.peers; i++) {
      const p = PeerProcess.spawn(`peer${i}`, {
        rpc,
        chainId,
        channel: channel.address,
        accountKey: keys[i + 1] as Hex,
        dataDir: join(work, `peer${i}`),
        bootstrap: testnet.bootstrap,
        join: opts.depositEth,
        epochMs: 2000,
        leaderTimeoutMs: 8000,
      })
      peers.push(p)
      await p.waitFor('ready', () => true, 60_000)
      log(`peer ${i} (${new Wallet(keys[i + 1] as string).address}) joined with ${opts.depositEth} ETH`)
    }
    log('waiting for a checkpoint that includes every peer ...')
    while (!(await channel.events()).some((e) => e.type === 'CheckpointSubmitted' && e.balances.length === opts.peers)) {
      if (stopping) throw new Error('interrupted')
      await new Promise((r) => setTimeout(r, 200))
    }

    // Drive payments: each peer keeps a few open to random others; count receipts as they arrive.
    let receipted = 0
    let nextId = 0
    const open = peers.map(() => 0)
    const issue = (i: number): void => {
      while (open[i]! < IN_FLIGHT) {
        const to = (i + 1 + Math.floor(Math.random() * (opts.peers - 1))) % opts.peers
        peers[i]!.command({ cmd: 'send', id: nextId++, to, amount: (1n + BigInt(Math.floor(Math.random() * 1e6))) * 10n ** 9n })
        open[i]!++
      }
    }
    const seen = peers.map(() => 0)
    const pump = setInterval(() => {
      for (const [i, p] of peers.entries()) {
        for (; seen[i]! < p.events.length; seen[i]!++) {
          const e = p.events[seen[i]!]!
          if (e.event === 'sent') receipted++
          if (e.event === 'sent' || e.event === 'error') open[i]!--
        }
        if (!stopping) issue(i)
      }
    }, 20)

    const started = Date.now()
    let lastCount = 0
    let lastTime = started
    let checkpoints = await channel.checkpoints()
    // Peers join one after another while epochs land, so E may be reached before trading starts: the run goes on
    // at least until one epoch of payments is checkpointed.
    const until = Math.max(opts.epochs, checkpoints.length + 1)
    try {
      while (checkpoints.length < until && !stopping) {
        await new Promise((r) => setTimeout(r, 1000))
        checkpoints = await channel.checkpoints()
        const status = await channel.status()
        const now = Date.now()
        const rate = ((receipted - lastCount) * 1000) / (now - lastTime)
        lastCount = receipted
        lastTime = now
        const balances = checkpoints.at(-1)?.balances.map((b) => Number(formatEther(b)).toFixed(4)).join(' ') ?? ''
        log(
          `epoch ${status.runningEpoch} leader ${status.leader} | ${rate.toFixed(0)} transfers/s, ${receipted} receipted | ` +
            `${checkpoints.length} checkpoints | balances (ETH) ${balances}`,
        )
      }
    } finally {
      clearInterval(pump)
    }

    const members = await channel.members()
    const last = checkpoints.at(-1)
    const seconds = Math.round((Date.now() - started) / 1000)
    const summary: SandboxSummary = {
      chainId: chainId.toString(),
      channel: channel.address,
      checkpoints: checkpoints.map((c) => ({ epoch: c.epoch.toString(), leader: c.leader, transaction: c.transactionHash })),
      peers: members.map((m) => ({ address: m.account, balanceWei: (last?.balances[m.index] ?? 0n).toString() })),
      receipted,
      seconds,
    }
    log(`${checkpoints.length} checkpoints landed; ${receipted} payments receipted in ${seconds} s`)
    if (opts.json) {
      writeFileSync(opts.json, `${toJson(summary)}\n`)
      log(`summary written to ${opts.json}`)
    }
    provider.destroy()
    return summary
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    await Promise.all(peers.map((p) => p.kill('SIGTERM')))
    await testnet.destroy()
    await devnet?.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

/** Asks the node itself: a provider with a static network would just echo back what we told it. */
async function chainIdOf(rpc: string): Promise<bigint> {
  const provider = new JsonRpcProvider(rpc)
  try {
    return BigInt((await provider.send('eth_chainId', [])) as string)
  } catch (err) {
    throw new Error(`no chain answers at ${rpc}: ${errorMessage(err).slice(0, 200)}`)
  } finally {
    provider.destroy()
  }
}

