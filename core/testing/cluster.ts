// Test and benchmark support: a channel on a devnet with N participants over one in-memory bus, in one call.
import { once } from 'node:events'
import { parseEther, Wallet } from 'ethers'
import { openChannel, type ChannelFixture } from '../../contracts/test/fixture.js'
import type { ChannelClient, Devnet } from '../chain/index.js'
import { decodeEntry, type Entry, type EntryType } from '../protocol/entries.js'
import type { Hex } from '../protocol/types.js'
import type { ChainPort } from '../consensus/chain-port.js'
import type { Conduct } from '../consensus/conduct.js'
import { Participant, type Timing } from '../consensus/participant.js'
import type { Transport } from '../consensus/transport.js'
import { byzantineConduct, type Byzantine } from './byzantine.js'
import { MemoryBus } from './memory-bus.js'

export interface Cluster {
  bus: MemoryBus
  participants: Participant[]
  /** Starts a participant for a member that joined on chain after the cluster started. */
  add(privateKey: Hex): Promise<Participant>
  /**
   * Stops member i's participant, as a crash would, and starts a fresh one on the same log (after `whileDown`, which
   * runs while it is away).
   */
  restart(i: number, whileDown?: () => Promise<void>): Promise<Participant>
  /** Waits until a checkpoint for `epoch` is on chain (or throws after `ms`). */
  untilCheckpoint(epoch: bigint, ms?: number): Promise<void>
  stop(): Promise<void>
}

export const FAST: Timing = { epochMs: 600, leaderTimeoutMs: 1500, chainPollMs: 40 }

/** Starts a participant for every member of `channel` (member i holds `keys[i]`). */
export async function startCluster(
  channel: ChannelClient,
  devnet: Devnet,
  initialKeys: readonly Hex[],
  opts: {
    timing?: Timing
    byzantine?: Record<number, Byzantine>
    /** Member i's own misbehaviour, beyond the named Byzantine flags. */
    conduct?: Record<number, Conduct>
    /** Member i's chain calls and log writes pass through these (to hold back or drop some). */
    wrapChain?: Record<number, (chain: ChainPort) => ChainPort>
    wrapTransport?: Record<number, (transport: Transport) => Transport>
    verbose?: boolean
    /** Hears every participant's log lines (as `verbose` prints them). */
    onLog?: (index: number, line: string) => void
  } = {},
): Promise<Cluster> {
  let keys = initialKeys
  const bus = new MemoryBus()
  const make = (privateKey: Hex, index: number): Participant => {
    const chain: ChainPort = channel.as(new Wallet(privateKey, devnet.provider))
    const transport = bus.connect(index)
    const b = opts.byzantine?.[index]
    const conduct = opts.conduct?.[index] ?? (b ? byzantineConduct(privateKey, b) : undefined)
    return new Participant({
      index,
      privateKey,
      chain: opts.wrapChain?.[index]?.(chain) ?? chain,
      transport: opts.wrapTransport?.[index]?.(transport) ?? transport,
      timing: opts.timing ?? FAST,
      ...(conduct ? { conduct } : {}),
      log: (line) => {
        if (opts.verbose) console.log(`[${index}] ${line}`)
        opts.onLog?.(index, line)
      },
    })
  }
  const participants = keys.map(make)
  await Promise.all(participants.map((p) => p.start()))
  return {
    bus,
    participants,
    async add(privateKey) {
      const p = make(privateKey, participants.length)
      keys = [...keys, privateKey]
      participants.push(p)
      await p.start()
      return p
    },
    async restart(i, whileDown) {
      await participants[i]?.stop()
      await whileDown?.()
      const fresh = make(keys[i] as Hex, i)
      participants[i] = fresh
      await fresh.start()
      return fresh
    },
    async untilCheckpoint(epoch, ms = 30_000) {
      const deadline = Date.now() + ms
      while ((await channel.status()).checkpointedEpoch < epoch) {
        if (Date.now() > deadline) throw new Error(`no checkpoint for epoch ${epoch} within ${ms} ms`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    async stop() {
      await Promise.all(participants.map((p) => p.stop()))
    },
  }
}

/** Closes epoch 1, whose checkpoint credits the deposits; resolves once every member runs epoch 2. */
export async function startTrading(cluster: Cluster): Promise<void> {
  cluster.participants[0]!.closeEpochNow()
  await cluster.untilCheckpoint(1n)
  while (cluster.participants.some((p) => p.runningEpoch < 2n)) await new Promise((r) => setTimeout(r, 20))
}

/**
 * A channel of `members` with 1 ETH each and the per-epoch transfer cap `txCap`, whose epochs end only at the cap
 * (their time limit and the leader timeout are a minute), a participant for each, trading in epoch 2. The caller
 * stops the cluster.
 */
export async function cappedChannel(devnet: Devnet, members: number, txCap: number): Promise<{ f: ChannelFixture; cluster: Cluster }> {
  const f = await openChannel(devnet, { members, deposit: parseEther('1'), params: { txCap } })
  const keys = f.members.map((m) => m.wallet.privateKey as Hex)
  const cluster = await startCluster(f.channel, devnet, keys, { timing: { epochMs: 60_000, leaderTimeoutMs: 60_000, chainPollMs: 40 } })
  try {
    await startTrading(cluster)
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return { f, cluster }
}

/**
 * Epoch 2's leader (member 1) goes silent once epoch 1 is checkpointed; resolves when member 0 has seen the view
 * change hand the epoch to member 2 (channels of four or more, so three votes make the change).
 */
export async function silenceSecondLeader(cluster: Cluster): Promise<void> {
  await cluster.untilCheckpoint(1n)
  const p0 = cluster.participants[0]!
  while (p0.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))
  if (p0.currentLeader !== 1) throw new Error(`epoch 2 is led by member ${p0.currentLeader}, not 1`)
  await cluster.participants[1]!.stop()
  const [change] = (await once(p0, 'view-change')) as [{ from: number; to: number }]
  if (change.from !== 1 || change.to !== 2) throw new Error(`view change from ${change.from} to ${change.to}, not 1 to 2`)
}

/** Member `author`'s log as it stands, decoded (read from the bus, as any member would). */
export function logged(cluster: Cluster, author: number): Entry[] {
  return Array.from({ length: cluster.bus.length(author) }, (_, i) => decodeEntry(cluster.bus.entry(author, i)))
}

/** Resolves once member `author`'s log holds an entry of `type`. */
export async function untilLogged(cluster: Cluster, author: number, type: EntryType): Promise<void> {
  while (!logged(cluster, author).some((e) => e.type === type)) await new Promise((r) => setTimeout(r, 20))
}
