// Test support: the soak (issue 12). N peers as separate `node` processes on a local anvil and a local DHT (all on
// 127.0.0.1); the last one also writes junk into its log (core/testing/hostile-node.ts). For M minutes every peer
// pays random others (each payment a distinct amount, so it is known by payer, payee and amount across re-issues),
// and every few seconds a random peer, the leader or the junk writer included, is killed with SIGKILL and restarted
// from its data directory. Then no new payments and no kills until every payment settles, and the checks:
//   liveness      checkpoints land while peers are being killed, none stalls the channel for long;
//   lost          every payment a peer reported receipted ends on chain: its payer or payee shows it checkpointed;
//   refused       no payment whose `send` was refused is on chain (its payer would pay again);
//   history       its payer's history shows each payment on chain once, checkpointed (a re-issue under a new id
//                 after an epoch boundary is the same payment);
//   once          the chain counts those payments and no more: the checkpoints' transfer counts add up to them,
//                 and the last balances are the deposits plus their net;
//   money         after every checkpoint, the contract's ether against its balances (core/testing/money-held.ts);
//   crashes       no peer exits by itself or reports an unexpected error (an unhandled rejection);
//   heap          each peer's peak heap (sampled from its `state`, a restarted process counts as the same peer).
// Each failure is a line starting with its check's name.
// Used by core/testing/soak-cli.ts (`npm run soak`) and core/testing/soak.test.ts (two minutes).
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet } from 'ethers'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { ChannelClient, startDevnet, type ChannelEvent, type Devnet } from '../chain/index.js'
import { PeerProcess, type PeerEvent } from '../node/peer-process.js'
import { toJson } from '../node/wire.js'
import type { Hex } from '../protocol/types.js'
import { errorMessage } from '../util/error-message.js'
import { mulberry32 } from './adversary.js'
import { HOSTILE_NODE } from './hostile-node.js'
import { moneyHeld } from './money-held.js'

export interface SoakOptions {
  /** Peers, the junk writer (the last) included: 3 to 16. */
  peers: number
  /** How long peers pay and are killed. */
  minutes: number
  /** Seeds the choices (who pays whom, who is killed when); the timing of processes is not reproducible. */
  seed?: number
  /** The mean time between two kills (each gap is drawn from half to one and a half of it). Default 10 s. */
  killEveryMs?: number
  /**
   * The mean time a killed peer stays down before it restarts (each drawn from none to twice it: a leader back
   * quickly resumes its round, one back late finds the epoch handed on). Default 5 s.
   */
  downMs?: number
  /** The mean time between two payments of one peer (at most OPEN_PER_PEER unanswered). Default 2 s. */
  payEveryMs?: number
  /** `garbage`: junk every half second; `flood`: 40,000 junk entries once, 8 s after each start. */
  junk?: 'garbage' | 'flood'
  epochMs?: number
  leaderTimeoutMs?: number
  /** How long the end may wait for payments to settle. Default 180 s. */
  settleMs?: number
  /** How often each peer's heap is sampled. Default 10 s. */
  heapEveryMs?: number
  /** No checkpoint for this long while peers are being killed fails the run and ends the killing. Default 300 s. */
  stallLimitMs?: number
  /** A peer whose heap exceeds this fails the heap check. Default 512 MiB. */
  heapLimitBytes?: number
  /** Keep the work directory (each peer's data directory and event log) even when every check passed. */
  keep?: boolean
  /** Progress lines. */
  log?: (line: string) => void
}

export interface SoakReport {
  ok: boolean
  /** Each failed check, as a sentence. */
  failures: string[]
  seed: number
  peers: number
  /** The member that writes junk. */
  junkPeer: number
  junk: 'garbage' | 'flood'
  minutes: number
  timing: { epochMs: number; leaderTimeoutMs: number; killEveryMs: number; downMs: number; payEveryMs: number }
  /** Wall time: setup, trading with kills, settling. */
  ms: { setup: number; trading: number; settle: number; total: number }
  checkpoints: {
    /** Checkpoints landed after the one that included every peer. */
    landed: number
    /** Of those, while peers were being killed. */
    whileKilling: number
    /** The last checkpointed epoch. */
    lastEpoch: number
    /** Majority checkpoints proposed (one or more votes missing). */
    majority: number
    /** The longest time without a checkpoint while peers were being killed. */
    maxGapMs: number
  }
  /** Distinct view changes the peers reported (epoch, from, to). */
  viewChanges: number
  /** Each challenge: the epoch, who challenged whom, whether a majority's checkpoint was pending, the verdict. */
  disputes: Array<{ epoch: number; challenger: number; leader: number; ofMajority: boolean; verdict: 'leader right' | 'challenger right' | 'open' }>
  kills: { total: number; leader: number; junk: number; byPeer: number[]; restartMsMedian: number; restartMsMax: number }
  payments: {
    sent: number
    /** Reported receipted (or checkpointed) by their payer. */
    receipted: number
    /** Refused, by reason. */
    rejected: Record<string, number>
    /** Their payer was killed before it answered. */
    unanswered: number
    /** Payments on chain at the end (see `chain`). */
    checkpointed: number
    /** Receipted payments not on chain at the end: must be 0. */
    lost: number
    lostList: string[]
    /** Of those, payments whose payer was restarted before they landed and whose node tells them ended unpaid. */
    lostTold: number
    /** Payments on chain that their payer's history does not show once, checkpointed: must be 0. */
    historyMismatches: string[]
    /** Payments whose `send` was refused yet which are on chain (a user would pay again): must be 0. */
    refusedButPaid: string[]
    /** Payments still in flight (requested, countersigned, receipted) in some history when the settling ended. */
    inFlightAtEnd: number
  }
  /** Transfers the checkpoints count, payments shown checkpointed, and whether the last balances are theirs. */
  chain: {
    txCount: number
    /** Payments either party shows checkpointed. */
    shownCheckpointed: number
    /** Payments neither shows checkpointed that the chain's count and balances need (their amounts make them up). */
    unshown: number
    balancesMatch: boolean
  }
  money: { checks: number; violations: string[]; heldWei: string }
  heap: Array<{ peer: number; peakBytes: number; samples: number; junk: boolean }>
  /** The most entries of the junk writer any honest peer counted as ignored (since its own last start). */
  junkIgnored: number
  /** Unexpected error events and processes that ended by themselves. */
  errors: string[]
  /** What happened that is no failure of the channel (a peer shut down from outside the soak). */
  notes: string[]
  /** Where each peer's data directory and event log are (kept when a check failed). */
  workDir: string
}

/** Payments each peer keeps unanswered at most. */
const OPEN_PER_PEER = 2
/** Each payment's amount: this plus its number (distinct amounts tell payments apart across re-issues). */
const BASE_AMOUNT = 10n ** 12n
const DEPOSIT_ETH = '1'
/** A restarted peer that is not ready by then is reported. */
const RESTART_LIMIT_MS = 120_000
const POLL_MS = 2000

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Payment {
  id: number
  from: number
  to: number
  amount: bigint
  state: 'open' | 'receipted' | 'rejected' | 'unanswered'
  reason?: string
}

/** One member: its data directory survives its processes. */
interface Slot {
  index: number
  dir: string
  proc?: PeerProcess
  ready: boolean
  incarnation: number
  /** When the running process was started (restart time: to its `ready`). */
  startedAt: number
  /** Unanswered payments of the running process. */
  open: Set<number>
  /** Unanswered state queries of the running process. */
  queries: Set<string>
  nextPayAt: number
  heapPeak: number
  heapSamples: number
  stderr: string[]
  /** The running process shut down in order (a SIGTERM or SIGINT the soak did not send). */
  closedOrderly: boolean
  log: WriteStream
}

/** A history row of a node's `state` (a TransferRecord as JSON). */
interface Row {
  direction: 'in' | 'out'
  status: string
  reason?: string
  transfer: { id: string; epoch: string; from: string; to: string; amount: string }
}

type Checkpointed = Extract<ChannelEvent, { type: 'CheckpointSubmitted' }>

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const n = o.peers
  if (!Number.isInteger(n) || n < 3 || n > 16) throw new RangeError('peers must be 3 to 16')
  if (!(o.minutes > 0)) throw new RangeError('minutes must be positive')
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31)
  const rand = mulberry32(seed) // the soak's choices are reproducible from its seed
  const junk = o.junk ?? 'garbage'
  const timing = {
    epochMs: o.epochMs ?? 2000,
    leaderTimeoutMs: o.leaderTimeoutMs ?? 8000,
    killEveryMs: o.killEveryMs ?? 10_000,
    downMs: o.downMs ?? 5000,
    payEveryMs: o.payEveryMs ?? 2000,
  }
  const settleMs = o.settleMs ?? 180_000
  const heapEveryMs = o.heapEveryMs ?? 10_000
  const heapLimit = o.heapLimitBytes ?? 512 * 2 ** 20
  const stallLimitMs = o.stallLimitMs ?? 300_000
  const JUNK = n - 1
  const t0 = Date.now()
  const work = mkdtempSync(join(tmpdir(), 'offchain-soak-'))
  const elapsed = (): string => ((Date.now() - t0) / 1000).toFixed(1).padStart(7)
  /** The soak's own lines (kills, progress, failures), also kept beside the peers' event logs. */
  const runLog = createWriteStream(join(work, 'soak.log'), { flags: 'a' })
  const say = (line: string): void => {
    runLog.write(`${elapsed()} ${line}\n`)
    o.log?.(`${elapsed()} ${line}`)
  }

  const failures: string[] = []
  const fail = (line: string): void => {
    if (failures.includes(line)) return
    failures.push(line)
    say(`FAIL ${line}`)
  }
  const errors: string[] = []
  const notes: string[] = []
  const payments = new Map<number, Payment>()
  const viewChanges = new Set<string>()
  const restartMs: number[] = []
  const kills: Array<{ peer: number; leader: boolean }> = []
  const killed = new WeakSet<PeerProcess>()
  const queryWaiters = new Map<string, (e: PeerEvent | undefined) => void>()
  let latestView = { epoch: -1n, leader: -1 }
  let junkIgnored = 0
  let stopping = false
  let trading = false

  let devnet: Devnet | undefined
  let testnet: Testnet | undefined
  const slots: Slot[] = Array.from({ length: n }, (_, index) => ({
    index,
    dir: join(work, `peer${index}`),
    ready: false,
    incarnation: 0,
    startedAt: 0,
    open: new Set<number>(),
    queries: new Set<string>(),
    nextPayAt: 0,
    heapPeak: 0,
    heapSamples: 0,
    stderr: [],
    closedOrderly: false,
    log: createWriteStream(join(work, `peer${index}.log`), { flags: 'a' }),
  }))

  // ---------------------------------------------------------------- peers
  const handle = (slot: Slot, p: PeerProcess, ev: PeerEvent): void => {
    slot.log.write(`${elapsed()} #${slot.incarnation} ${ev.event === 'stderr' ? `stderr ${String(ev.line).trimEnd()}` : toJson(ev)}\n`)
    p.events.length = 0 // read here, never through waitFor: a long run must not keep every event
    if (slot.proc !== p || killed.has(p)) return
    switch (ev.event) {
      case 'ready':
        slot.ready = true
        if (slot.incarnation > 1) restartMs.push(Date.now() - slot.startedAt)
        break
      case 'sent': {
        const pay = payments.get(Number(ev.id))
        if (pay?.state === 'open') pay.state = 'receipted'
        slot.open.delete(Number(ev.id))
        break
      }
      case 'error': {
        const message = String(ev.message)
        if (typeof ev.id === 'number' && payments.has(ev.id)) {
          const pay = payments.get(ev.id)!
          // A node shutting down answers what it still waits for with "participant stopped": no refusal, the
          // payment may still settle (a restarted node shows what it finished).
          if (pay.state === 'open') pay.state = message === 'participant stopped' ? 'unanswered' : 'rejected'
          if (pay.state === 'rejected') pay.reason = message.replace(/^transfer 0x[0-9a-f]+ rejected: /, '')
          slot.open.delete(ev.id)
        } else if (typeof ev.id === 'string' && queryWaiters.has(ev.id)) {
          queryWaiters.get(ev.id)!(undefined)
        } else {
          errors.push(`peer ${slot.index}: ${message}`)
          fail(`crashes: peer ${slot.index} reported an unexpected error: ${message}`)
        }
        break
      }
      case 'state':
        if (typeof ev.id === 'string') queryWaiters.get(ev.id)?.(ev)
        break
      case 'epoch': {
        const epoch = BigInt(String(ev.epoch))
        if (epoch >= latestView.epoch) latestView = { epoch, leader: Number(ev.leader) }
        break
      }
      case 'view-change': {
        viewChanges.add(`${String(ev.epoch)}:${String(ev.from)}->${String(ev.to)}`)
        const epoch = BigInt(String(ev.epoch))
        if (epoch >= latestView.epoch) latestView = { epoch, leader: Number(ev.to) }
        break
      }
      case 'closed':
        slot.closedOrderly = true
        break
      case 'stderr':
        slot.stderr.push(String(ev.line).trimEnd())
        if (slot.stderr.length > 20) slot.stderr.shift()
        break
    }
  }

  const spawn = (slot: Slot, join?: string): void => {
    const p = PeerProcess.spawn(`peer${slot.index}`, {
      rpc: devnet!.rpcUrl,
      chainId: devnet!.chainId,
      channel: channel.address,
      accountKey: devnet!.keys[slot.index + 1] as Hex,
      dataDir: slot.dir,
      bootstrap: testnet!.bootstrap,
      epochMs: timing.epochMs,
      leaderTimeoutMs: timing.leaderTimeoutMs,
      ...(join ? { join } : {}),
      ...(slot.index === JUNK ? { entry: { script: HOSTILE_NODE, args: ['--byzantine', junk] } } : {}),
    })
    slot.proc = p
    slot.ready = false
    slot.incarnation++
    slot.startedAt = Date.now()
    slot.stderr = []
    slot.closedOrderly = false
    p.onEvent((ev) => handle(slot, p, ev))
    void p.exited.then((code) => {
      if (killed.has(p) || stopping || slot.proc !== p) return
      retire(slot)
      const signal = p.child.signalCode
      if ((code === 0 && slot.closedOrderly) || signal === 'SIGTERM' || signal === 'SIGINT') {
        // Stopped by a signal from outside the soak (it sends only SIGKILL; another process on the machine did):
        // no crash, whether it closed in order or was still starting.
        const how = signal ? `ended by ${signal} while starting` : 'closed in order'
        say(`peer ${slot.index} was stopped from outside the soak (${how}); restarted`)
        notes.push(`peer ${slot.index} was stopped by a signal the soak did not send (${how}) at ${elapsed().trim()} s`)
        if (!stopping) spawn(slot)
        return
      }
      // Ended by itself: a crash. Reported, and restarted so the soak goes on.
      const what = `crashes: peer ${slot.index} exited by itself (code ${String(code)}, signal ${String(p.child.signalCode)}); stderr: ${slot.stderr.join(' | ').slice(-800)}`
      errors.push(what)
      fail(what)
      if (!stopping) spawn(slot)
    })
  }

  /** The running process of `slot` is gone: its open payments and queries get no answer. */
  const retire = (slot: Slot): void => {
    slot.ready = false
    for (const id of slot.open) {
      const pay = payments.get(id)
      if (pay?.state === 'open') pay.state = 'unanswered'
    }
    slot.open.clear()
    for (const q of slot.queries) queryWaiters.get(q)?.(undefined)
  }

  const killAndRestart = async (slot: Slot, down: number): Promise<void> => {
    const p = slot.proc!
    killed.add(p)
    retire(slot)
    await p.kill('SIGKILL')
    await sleep(down)
    if (!stopping) spawn(slot)
  }

  /** The `state` of a running peer (undefined if it is down, or dies or fails before it answers). */
  let queryCount = 0
  const query = (slot: Slot): Promise<PeerEvent | undefined> => {
    const p = slot.proc
    if (!p || !slot.ready) return Promise.resolve(undefined)
    const id = `q${++queryCount}`
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), 60_000)
      const done = (e: PeerEvent | undefined): void => {
        clearTimeout(timer)
        queryWaiters.delete(id)
        slot.queries.delete(id)
        resolve(e)
      }
      queryWaiters.set(id, done)
      slot.queries.add(id)
      p.command({ cmd: 'state', id })
    })
  }

  const untilReady = async (slot: Slot, ms: number): Promise<void> => {
    const deadline = Date.now() + ms
    while (!slot.ready) {
      if (Date.now() > deadline) throw new Error(`peer ${slot.index} not ready within ${ms / 1000} s; stderr: ${slot.stderr.join(' | ').slice(-800)}`)
      await sleep(100)
    }
  }

  // ---------------------------------------------------------------- the chain
  let channel!: ChannelClient
  let processed = 0n
  let allIncluded = false
  let moneyChecks = 0
  let heldWei = 0n
  let lastLandedAt = 0
  let maxGapMs = 0
  let landed = 0
  let whileKilling = 0
  let events: ChannelEvent[] = []
  const pollChain = async (): Promise<void> => {
    const status = await channel.status()
    if (status.checkpointedEpoch <= processed) {
      if (trading) maxGapMs = Math.max(maxGapMs, Date.now() - lastLandedAt)
      return
    }
    events = await channel.events()
    for (const cp of events) {
      if (cp.type !== 'CheckpointSubmitted' || cp.epoch <= processed) continue
      const m = await moneyHeld(devnet!.provider, channel, cp, events)
      moneyChecks++
      heldWei = m.held
      for (const v of m.violations) fail(v)
      processed = cp.epoch
      if (allIncluded) landed++
      if (trading) whileKilling++
      if (cp.balances.length === n) allIncluded = true
    }
    const now = Date.now()
    if (trading) maxGapMs = Math.max(maxGapMs, now - lastLandedAt)
    lastLandedAt = now
  }

  // ---------------------------------------------------------------- heap
  const sampleHeaps = async (): Promise<void> => {
    await Promise.all(
      slots.map(async (slot) => {
        const s = await query(slot)
        if (!s) return
        slot.heapPeak = Math.max(slot.heapPeak, Number(s.heapUsedBytes))
        slot.heapSamples++
        if (slot.index !== JUNK) {
          const members = s.members as Array<{ ignoredEntries: number }> | undefined
          junkIgnored = Math.max(junkIgnored, members?.[JUNK]?.ignoredEntries ?? 0)
        }
      }),
    )
  }

  const ms = { setup: 0, trading: 0, settle: 0, total: 0 }
  let accounts: string[] = []
  let histories = new Map<number, Row[]>()
  /** Each peer's `resumed` list at the end: payments of an earlier process of it that ended after its restart. */
  let resumed = new Map<number, Array<{ to: string; amount: string; status: string }>>()
  let inFlightAtEnd = 0
  let background: Promise<void> | undefined
  const ticking = { on: true }
  try {
    say(`soak: ${n} peers (peer ${JUNK} writes junk: ${junk}), ${o.minutes} min, seed ${seed}, work ${work}`)
    devnet = await startDevnet({ accounts: n + 1 })
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    const deployer = new Wallet(devnet.keys[0] as string, devnet.provider)
    // A majority's checkpoint waits 2 s: while the junk writer is muted its vote goes unheard.
    channel = await ChannelClient.deploy(deployer, { responseWindow: 60n, staleAfter: 86_400n, txCap: 256, challengeWindow: 2n })
    say(`chain ${devnet.rpcUrl}, channel ${channel.address}, DHT 127.0.0.1:${testnet.bootstrap[0]?.port}`)
    for (const slot of slots) {
      spawn(slot, DEPOSIT_ETH)
      await untilReady(slot, 120_000) // one after another: peer i is member i
      say(`peer ${slot.index} joined`)
    }
    // The chain poll and heap samples run in the background from here to the end.
    lastLandedAt = Date.now()
    background = (async () => {
      let nextHeap = 0
      while (ticking.on) {
        try {
          await pollChain()
          if (allIncluded && Date.now() >= nextHeap) {
            nextHeap = Date.now() + heapEveryMs
            await sampleHeaps()
          }
        } catch (err) {
          say(`(chain poll) ${errorMessage(err)}`)
        }
        await sleep(POLL_MS)
      }
    })()
    const includedBy = Date.now() + 120_000
    while (!allIncluded) {
      if (Date.now() > includedBy) throw new Error(`no checkpoint included all ${n} peers within 120 s`)
      await sleep(200)
    }
    accounts = (await channel.members()).map((m) => m.account.toLowerCase())
    ms.setup = Date.now() - t0

    // ------------------------------------------------------------ trading, with kills
    const tradeStart = Date.now()
    const tradeEnd = tradeStart + o.minutes * 60_000
    trading = true
    lastLandedAt = Date.now()
    let nextId = 0
    let nextKillAt = tradeStart + timing.killEveryMs * (0.5 + rand())
    let restarting: Promise<void> | undefined
    let nextProgress = Date.now() + 30_000
    for (const slot of slots) slot.nextPayAt = tradeStart + timing.payEveryMs * rand()
    while (Date.now() < tradeEnd) {
      const now = Date.now()
      if (now - lastLandedAt > stallLimitMs) {
        fail(`liveness: no checkpoint for ${((now - lastLandedAt) / 1000).toFixed(0)} s after epoch ${processed} while peers were being killed (the killing ends here)`)
        break
      }
      for (const slot of slots) {
        if (!slot.ready || now < slot.nextPayAt || slot.open.size >= OPEN_PER_PEER) continue
        const to = (slot.index + 1 + Math.floor(rand() * (n - 1))) % n
        const id = ++nextId
        const amount = BASE_AMOUNT + BigInt(id)
        payments.set(id, { id, from: slot.index, to, amount, state: 'open' })
        slot.open.add(id)
        slot.proc!.command({ cmd: 'send', id, to, amount: amount.toString() })
        slot.nextPayAt = now + timing.payEveryMs * (0.5 + rand())
      }
      const down = slots.filter((s) => !s.ready)
      if (now >= nextKillAt && !restarting && down.length === 0) {
        const victim = slots[Math.floor(rand() * n)]!
        const leader = victim.index === latestView.leader
        const down = Math.round(2 * timing.downMs * rand())
        kills.push({ peer: victim.index, leader })
        const who = `${leader ? ' (the leader)' : ''}${victim.index === JUNK ? ' (the junk writer)' : ''}`
        say(`kill peer ${victim.index}${who} in epoch ${latestView.epoch}, down ${(down / 1000).toFixed(1)} s`)
        restarting = killAndRestart(victim, down).finally(() => (restarting = undefined))
        nextKillAt = now + timing.killEveryMs * (0.5 + rand())
      }
      for (const slot of down) {
        if (slot.proc && !killed.has(slot.proc) && now - slot.startedAt > RESTART_LIMIT_MS) {
          fail(`liveness: peer ${slot.index} was not ready ${RESTART_LIMIT_MS / 1000} s after its restart; stderr: ${slot.stderr.join(' | ').slice(-400)}`)
        }
      }
      if (now >= nextProgress) {
        nextProgress = now + 30_000
        const receipted = [...payments.values()].filter((p) => p.state === 'receipted').length
        const heaps = slots.map((s) => (s.heapPeak / 2 ** 20).toFixed(0)).join('/')
        say(`epoch ${latestView.epoch} leader ${latestView.leader} | ${landed} checkpoints | ${payments.size} sent, ${receipted} receipted | ${kills.length} kills, ${viewChanges.size} view changes | heap peaks MiB ${heaps}`)
      }
      await sleep(200)
    }
    trading = false
    await restarting
    ms.trading = Date.now() - tradeStart

    // ------------------------------------------------------------ settling: no payments, no kills
    const settleStart = Date.now()
    say(`trading over: settling (at most ${settleMs / 1000} s)`)
    for (const slot of slots) await untilReady(slot, RESTART_LIMIT_MS).catch((err: unknown) => fail(`liveness: ${errorMessage(err)}`))
    const settleBy = settleStart + settleMs
    for (;;) {
      const states = await Promise.all(slots.map((s) => query(s)))
      histories = new Map(states.flatMap((s, i) => (s ? [[i, s.history as Row[]] as const] : [])))
      resumed = new Map(states.flatMap((s, i) => (s ? [[i, (s.resumed ?? []) as Array<{ to: string; amount: string; status: string }>] as const] : [])))
      const open = [...payments.values()].filter((p) => p.state === 'open').length
      const { unshown } = histories.size === n ? chainView() : { unshown: undefined }
      const unsettled = [...payments.values()].filter((p) => p.state === 'receipted' && !shownOnChain(p) && !unshown?.includes(p)).length
      inFlightAtEnd = [...histories.values()].flat().filter((r) => r.direction === 'out' && ['requested', 'countersigned', 'receipted'].includes(r.status)).length
      if (histories.size === n && open === 0 && unsettled === 0 && inFlightAtEnd === 0) break
      if (Date.now() > settleBy) {
        say(`settling ended with ${open} unanswered, ${unsettled} receipted not yet checkpointed, ${inFlightAtEnd} in flight`)
        const quiet = Date.now() - lastLandedAt
        if (unsettled + inFlightAtEnd > 0 && quiet > 60_000) {
          fail(`liveness: no checkpoint for ${(quiet / 1000).toFixed(0)} s at the end, after epoch ${processed}, with payments in flight`)
        }
        break
      }
      await sleep(3000)
    }
    ms.settle = Date.now() - settleStart
    // The last checkpoints, read once more now that nothing moves.
    await sleep(POLL_MS)
    ticking.on = false
    await background
    await pollChain()
  } catch (err) {
    fail(`soak: the run itself failed: ${errorMessage(err)}`)
  } finally {
    ticking.on = false
    await background
    stopping = true
    await Promise.all(slots.map((s) => s.proc?.kill('SIGKILL')))
    await testnet?.destroy()
    await devnet?.stop()
    await Promise.all([...slots.map((s) => s.log), runLog].map((w) => new Promise((r) => w.end(r))))
  }

  /** The rows of `p` in its payer's (out) or payee's (in) history: its payee and amount (re-issues keep both). */
  function rowsOf(p: Payment, side: 'payer' | 'payee'): Row[] {
    const direction = side === 'payer' ? 'out' : 'in'
    return (histories.get(side === 'payer' ? p.from : p.to) ?? []).filter(
      (r) => r.direction === direction && r.transfer.to.toLowerCase() === accounts[p.to] && BigInt(r.transfer.amount) === p.amount,
    )
  }
  /** Whether either party shows `p` checkpointed (the chain accounting below checks that set against the chain). */
  function shownOnChain(p: Payment): boolean {
    return [...rowsOf(p, 'payer'), ...rowsOf(p, 'payee')].some((r) => r.status === 'checkpointed')
  }
  /**
   * Which payments are on chain. The chain keeps no list, only counts and balances: start from the payments either
   * party shows checkpointed and, if the chain counts more, find the few others whose amounts make up the difference
   * (every amount is distinct). `unshown` is undefined when none do: the chain counts something twice, or something
   * nobody sent.
   */
  function chainView(): { txCount: number; shownSet: Payment[]; unshown: Payment[] | undefined; gap: bigint[] } {
    const all = [...payments.values()]
    const cps = events.filter((e): e is Checkpointed => e.type === 'CheckpointSubmitted')
    const last = cps.at(-1)
    const txCount = cps.reduce((a, e) => a + e.txCount, 0)
    const shownSet = all.filter(shownOnChain)
    const net = Array.from({ length: n }, () => 0n)
    for (const p of shownSet) {
      net[p.from]! -= p.amount
      net[p.to]! += p.amount
    }
    const gap = net.map((x, i) => (last?.balances[i] ?? 0n) - (last?.deposited[i] ?? 0n) - x)
    const missing = txCount - shownSet.length
    const unshown = missing >= 0 && last ? explain(all.filter((p) => !shownSet.includes(p)), missing, gap) : undefined
    return { txCount, shownSet, unshown, gap }
  }
  const shown = (rows: Row[]): string =>
    rows.length === 0 ? 'missing' : rows.map((r) => `${r.status}${r.reason ? ` ${r.reason}` : ''} (${r.transfer.id}, epoch ${r.transfer.epoch})`).join('; ')
  const named = (p: Payment): string => `payment ${p.id}: peer ${p.from} -> peer ${p.to}, ${p.amount} wei`
  /** At most 10 lines of one kind of failure, then a count. */
  const failAll = (kind: string, lines: string[]): void => {
    for (const line of lines.slice(0, 10)) fail(`${kind}: ${line}`)
    if (lines.length > 10) fail(`${kind}: ${lines.length - 10} more (the report lists them all)`)
  }

  // ---------------------------------------------------------------- the checks
  const all = [...payments.values()]
  const receipted = all.filter((p) => p.state === 'receipted')
  const complete = histories.size === n
  if (!complete && accounts.length > 0) fail(`liveness: only ${histories.size} of ${n} peers answered with their history at the end`)

  // Which payments are on chain. The chain keeps no list, only counts and balances: start from the payments either
  // party shows checkpointed and, if the chain counts more, find the few others whose amounts make up the difference
  // (every amount is distinct); if none do, the chain counts something twice or something nobody sent.
  const { txCount, shownSet, unshown, gap } = chainView()
  const balancesMatch = unshown !== undefined
  if (complete && events.length > 0 && !unshown) {
    fail(`once: the checkpoints count ${txCount} transfers and these balances (chain minus shown, wei: ${gap.map((g, i) => `${i}: ${g}`).join(', ')}); the ${shownSet.length} payments shown checkpointed, with any others sent, do not make them up`)
  }
  const onChain = new Set([...shownSet, ...(unshown ?? [])])

  const lostList: string[] = []
  let lostTold = 0
  const historyList: string[] = []
  const refusedButPaid: string[] = []
  if (complete) {
    for (const p of receipted) {
      const payer = rowsOf(p, 'payer')
      if (!onChain.has(p)) {
        // A payer restarted before its payment landed does not send it again; its node tells it ended unpaid.
        const told = (resumed.get(p.from) ?? []).some((r) => r.to.toLowerCase() === accounts[p.to] && BigInt(r.amount) === p.amount && r.status !== 'checkpointed')
        const telling = told ? '; its payer was restarted since and its node tells it ended unpaid' : ''
        lostList.push(`${named(p)}, reported receipted; not on chain (its payer shows ${shown(payer)}, its payee ${shown(rowsOf(p, 'payee'))})${telling}`)
        if (told) lostTold++
      }
      else if (payer.length !== 1 || payer[0]!.status !== 'checkpointed') {
        const basis = unshown?.includes(p) ? `on chain (its amount is in the chain's balances; its payee shows ${shown(rowsOf(p, 'payee'))})` : 'on chain (its payee shows it checkpointed)'
        historyList.push(`${named(p)}, reported receipted, is ${basis} but its payer's history shows ${shown(payer)}`)
      }
    }
    for (const p of all.filter((x) => x.state === 'rejected' && onChain.has(x))) {
      refusedButPaid.push(`${named(p)}, refused to its payer (${p.reason ?? '?'}), is on chain`)
    }
  }
  failAll('lost', lostList)
  failAll('refused but paid', refusedButPaid)
  failAll('history', historyList)
  if (accounts.length > 0 && whileKilling === 0) fail('liveness: no checkpoint landed while peers were being killed')
  for (const slot of slots) {
    if (slot.heapPeak > heapLimit) fail(`heap: peer ${slot.index} peaked at ${(slot.heapPeak / 2 ** 20).toFixed(1)} MiB, above ${(heapLimit / 2 ** 20).toFixed(0)} MiB`)
  }
  const rejected: Record<string, number> = {}
  for (const p of all) if (p.state === 'rejected') rejected[p.reason ?? '?'] = (rejected[p.reason ?? '?'] ?? 0) + 1
  const sorted = [...restartMs].sort((a, b) => a - b)
  const report: SoakReport = {
    ok: failures.length === 0,
    failures,
    seed,
    peers: n,
    junkPeer: JUNK,
    junk,
    minutes: o.minutes,
    timing,
    ms: { ...ms, total: Date.now() - t0 },
    checkpoints: {
      landed,
      whileKilling,
      lastEpoch: Number(processed),
      majority: events.filter((e) => e.type === 'CheckpointProposed').length,
      maxGapMs,
    },
    viewChanges: viewChanges.size,
    disputes: events.flatMap((e, i) => {
      if (e.type !== 'Challenged') return []
      const verdict = events.slice(i).find((v) => v.type === 'DisputeResolved' && v.epoch === e.epoch)
      const ofMajority = events.some((p) => p.type === 'CheckpointProposed' && p.checkpoint.epoch === e.epoch && p.blockNumber <= e.blockNumber)
      return [{
        epoch: Number(e.epoch),
        challenger: e.challenger,
        leader: e.leader,
        ofMajority,
        verdict: verdict?.type !== 'DisputeResolved' ? 'open' as const : verdict.leaderRight ? 'leader right' as const : 'challenger right' as const,
      }]
    }),
    kills: {
      total: kills.length,
      leader: kills.filter((k) => k.leader).length,
      junk: kills.filter((k) => k.peer === JUNK).length,
      byPeer: slots.map((s) => kills.filter((k) => k.peer === s.index).length),
      restartMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
      restartMsMax: sorted.at(-1) ?? 0,
    },
    payments: {
      sent: all.length,
      receipted: receipted.length,
      rejected,
      unanswered: all.filter((p) => p.state === 'unanswered').length,
      checkpointed: onChain.size,
      lost: lostList.length,
      lostList,
      lostTold,
      historyMismatches: historyList,
      refusedButPaid,
      inFlightAtEnd,
    },
    chain: { txCount, shownCheckpointed: shownSet.length, unshown: unshown?.length ?? 0, balancesMatch },
    money: { checks: moneyChecks, violations: failures.filter((f) => f.startsWith('money')), heldWei: heldWei.toString() },
    heap: slots.map((s) => ({ peer: s.index, peakBytes: s.heapPeak, samples: s.heapSamples, junk: s.index === JUNK })),
    junkIgnored,
    errors,
    notes,
    workDir: work,
  }
  // A run with a dispute keeps its peers' logs too: every honest run should have none, so each is worth reading.
  if (report.ok && !o.keep && report.disputes.length === 0) rmSync(work, { recursive: true, force: true })
  return report
}

/**
 * The `count` payments among `candidates` whose amounts make up `gap` (per member: what it received less what it
 * paid), receipted ones tried first; undefined if none do within a bounded search.
 */
function explain(candidates: Payment[], count: number, gap: readonly bigint[]): Payment[] | undefined {
  if (count === 0) return gap.every((g) => g === 0n) ? [] : undefined
  const order = { receipted: 0, unanswered: 1, open: 2, rejected: 3 }
  const c = [...candidates].sort((a, b) => order[a.state] - order[b.state])
  const left = [...gap]
  const chosen: Payment[] = []
  let steps = 0
  const pick = (from: number): boolean => {
    if (chosen.length === count) return left.every((g) => g === 0n)
    for (let k = from; k <= c.length - (count - chosen.length); k++) {
      if (++steps > 2_000_000) return false
      const p = c[k]!
      left[p.from]! += p.amount
      left[p.to]! -= p.amount
      chosen.push(p)
      if (pick(k + 1)) return true
      chosen.pop()
      left[p.from]! -= p.amount
      left[p.to]! += p.amount
    }
    return false
  }
  return pick(0) ? chosen : undefined
}

/** The report as lines a person reads. */
export function describeSoak(r: SoakReport): string[] {
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1)
  const s = (x: number): string => (x / 1000).toFixed(1)
  const rejected = Object.entries(r.payments.rejected).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'
  return [
    `${r.ok ? 'ok' : 'FAILED'}: ${r.peers} peers (peer ${r.junkPeer} writes junk: ${r.junk}), ${r.minutes} min of kills, seed ${r.seed}`,
    `  time               setup ${s(r.ms.setup)} s, trading ${s(r.ms.trading)} s, settling ${s(r.ms.settle)} s`,
    `  checkpoints        ${r.checkpoints.landed} landed (${r.checkpoints.whileKilling} while killing; last epoch ${r.checkpoints.lastEpoch}), ${r.checkpoints.majority} by a majority, longest gap ${s(r.checkpoints.maxGapMs)} s`,
    `  kills              ${r.kills.total} (${r.kills.leader} of the leader, ${r.kills.junk} of the junk writer; per peer ${r.kills.byPeer.join('/')}), restart to ready median ${s(r.kills.restartMsMedian)} s, max ${s(r.kills.restartMsMax)} s`,
    `  view changes       ${r.viewChanges}; disputes ${r.disputes.length}${r.disputes.map((d) => `; epoch ${d.epoch}: peer ${d.challenger} challenged leader ${d.leader}${d.ofMajority ? ' (a majority\'s checkpoint)' : ''}, ${d.verdict}`).join('')}`,
    `  payments           ${r.payments.sent} sent, ${r.payments.receipted} receipted, ${r.payments.unanswered} unanswered (payer killed), rejected: ${rejected}`,
    `  receipted lost     ${r.payments.lost}${r.payments.lostTold ? ` (${r.payments.lostTold} told ended unpaid by their restarted payer's node)` : ''}${r.payments.inFlightAtEnd ? ` (${r.payments.inFlightAtEnd} still in flight at the end)` : ''}; refused but paid ${r.payments.refusedButPaid.length}`,
    `  payers' histories  ${r.payments.historyMismatches.length} payments on chain not shown once, checkpointed, by their payer`,
    `  chain vs histories ${r.chain.txCount} transfers on chain: ${r.chain.shownCheckpointed} payments shown checkpointed${r.chain.unshown ? ` and ${r.chain.unshown} shown by neither party` : ''}; ${r.chain.balancesMatch ? 'they make up the balances' : 'they do NOT make up the count and balances'}`,
    `  money held         ${r.money.checks} checks, ${r.money.violations.length} broken; the contract holds ${r.money.heldWei} wei`,
    `  peak heap (MiB)    ${r.heap.map((h) => `${h.peer}${h.junk ? '(junk)' : ''}: ${mib(h.peakBytes)}`).join(', ')}`,
    `  junk ignored       up to ${r.junkIgnored} entries of peer ${r.junkPeer} counted by an honest peer`,
    ...r.notes.map((x) => `  note: ${x}`),
    ...r.failures.map((f) => `  FAIL ${f}`),
    ...(r.ok && r.disputes.length === 0 ? [] : [`  peers' event logs: ${r.workDir}`]),
  ]
}
