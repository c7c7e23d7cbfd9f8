// Test support: one seeded adversarial run (issue 11, "Tests") on a real anvil chain. A channel of the scenario's
// size over the in-memory bus, its Byzantine leader and faulty member wired in, its payments sent on schedule, and
// after every checkpoint that lands the invariants checked against the chain ("protected": every member but a
// Byzantine leader and a false challenger; a silent one is protected):
//   money     the contract's ether is the checkpoint's balances plus the deposits it did not include yet plus the
//             credits it owes (and its ether in less out); its balances plus the paid-out exits are the included
//             deposits (core/testing/money-held.ts);
//   receipts  a protected member's balance is what the last checkpoint, its new deposits and the landing leader's
//             receipts of the epoch give it (every receipt that leader wrote, and those a hiding leader kept out
//             of its log: the test sees every write before any filter);
//   once      no `send` of a protected member is covered by landed checkpoints twice, across its re-issues;
//   finality  nothing a protected node shows checkpointed is uncovered; its balance is not above its incoming
//             payments less the sends it shows checkpointed;
//   no loss   its balance is not below the incoming payments it shows checkpointed less every send once;
//   bans      no dispute is lost by, and no ban names, an honest member that was never silent;
//   liveness  a checkpoint within `livenessMs` of the last one, or of when an honest majority of the active
//             members was online again, whenever such a majority is online.
// What breaks nothing but is worth knowing goes to notes: stalls without an honest majority, and a node's history
// that shows a covered payment as not checkpointed.
// Used by core/consensus/adversarial-run.test.ts (a few seeds) and core/testing/adversarial-cli.ts (many).
import { Wallet, hexlify, randomBytes } from 'ethers'
import { ChannelClient, type ChannelEvent, type Devnet } from '../chain/index.js'
import type { ChainPort } from '../consensus/chain-port.js'
import type { Conduct } from '../consensus/conduct.js'
import { sameCheckpoint } from '../consensus/proposal-check.js'
import type { Participant, TransferRecord } from '../consensus/participant.js'
import { reissueId } from '../consensus/payments.js'
import type { Transport } from '../consensus/transport.js'
import { decodeEntry, type Entry } from '../protocol/entries.js'
import type { Hex, ReceiptedTransfer } from '../protocol/types.js'
import { errorMessage } from '../util/error-message.js'
import { describeScenario, duplicatingConduct, hidingLeader, holdingChain, type Scenario, type Silence } from './adversary.js'
import { byzantineConduct, type Byzantine } from './byzantine.js'
import { startCluster, type Cluster } from './cluster.js'
import { moneyHeld, type Checkpointed } from './money-held.js'

export interface RunReport {
  seed: number
  scenario: string
  /** No invariant broken. */
  ok: boolean
  violations: string[]
  /** What happened that breaks nothing but is worth knowing (stalls without an honest majority, history gaps). */
  notes: string[]
  /** The last checkpointed epoch. */
  checkpoints: number
  disputes: number
  /** How often the Byzantine leader's own misbehaviour acted (payments hidden, proposals bent, checkpoints held). */
  attacks: number
  majorityCheckpoints: number
  viewChanges: number
  /** The longest time between two checkpoints seen. */
  maxGapMs: number
  ms: number
  /** At the end, each protected member's net on chain against what its node shows (wei, as strings). */
  members: Array<{ index: number; net: string; inSettled: string; inAll: string; outSettled: string; sent: string }>
  /** The participants' last log lines, when something broke. */
  trace?: string[]
}

export interface RunOptions {
  /** A checkpoint gap longer than this with an honest majority online is a liveness violation (default 30 s). */
  livenessMs?: number
  /** Progress lines of the run itself. */
  log?: (line: string) => void
  /** Keep the participants' log lines and attach the last ones to a report that has violations (or to every one). */
  trace?: boolean | 'always'
  /** The run stops waiting after this long and reports it as a violation, with its trace (default: no bound). */
  deadlineMs?: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** How long a participant may take to stop (its task under way ends first), and one poll of the chain. */
const STOP_MS = 15_000
const POLL_MS = 30_000

/** `promise`, or a rejection saying `what` after `ms`. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** Runs `s` on `devnet` (its first accounts are the members) and checks the invariants; never throws for them. */
export async function runScenario(devnet: Devnet, s: Scenario, opts: RunOptions = {}): Promise<RunReport> {
  const started = Date.now()
  const n = s.members
  const livenessMs = opts.livenessMs ?? 30_000
  const say = opts.log ?? (() => {})
  const report: RunReport = {
    seed: s.seed,
    scenario: describeScenario(s),
    ok: true,
    violations: [],
    notes: [],
    checkpoints: 0,
    disputes: 0,
    attacks: 0,
    majorityCheckpoints: 0,
    viewChanges: 0,
    maxGapMs: 0,
    ms: 0,
    members: [],
  }
  const violation = (line: string): void => {
    if (report.violations.includes(line)) return
    report.violations.push(line)
    say(`VIOLATION ${line}`)
  }
  const note = (line: string): void => {
    if (!report.notes.includes(line)) report.notes.push(line)
  }
  const trace: string[] = []
  const t0 = Date.now()
  const traceLine = (line: string): void => {
    if (!opts.trace) return
    trace.push(`${String(Date.now() - t0).padStart(6)} ${line}`)
    if (trace.length > 3000) trace.splice(0, 1000)
  }

  // The channel: member i holds the devnet's key i.
  const keys = devnet.keys.slice(0, n) as Hex[]
  if (keys.length < n) throw new Error(`the devnet has fewer than ${n} accounts`)
  const wallets = keys.map((k) => new Wallet(k, devnet.provider))
  const channel = await ChannelClient.deploy(wallets[0]!, {
    responseWindow: s.responseWindow,
    challengeWindow: s.challengeWindow,
    staleAfter: 86_400n,
    txCap: 256,
  })
  for (const w of wallets) await channel.as(w).join(hexlify(randomBytes(32)) as Hex, s.deposit)
  const accounts = wallets.map((w) => w.address)
  const members = (account: string): string => `member ${accounts.findIndex((a) => a.toLowerCase() === account.toLowerCase())}`

  // Who misbehaves, and how.
  const L = s.leader
  const M = s.member
  const conduct: Record<number, Conduct> = {}
  const wrapChain: Record<number, (c: ChainPort) => ChainPort> = {}
  const wrapTransport: Record<number, (t: Transport) => Transport> = {}
  let cluster: Cluster | undefined
  if (L) {
    const i = L.index
    const acted = (): void => void report.attacks++
    // A bent proposal counts as an attack.
    const counting = (bent: Conduct): Conduct => ({
      ...bent,
      propose: (honestCp, view) => {
        const cp = bent.propose(honestCp, view)
        if (!sameCheckpoint(cp, honestCp)) acted()
        return cp
      },
    })
    const flags: Byzantine | undefined =
      L.attack === 'omit'
        ? { omitTransfer: true }
        : L.attack === 'reorder'
          ? { reorderReceipts: true }
          : L.attack === 'inflate'
            ? { inflateOwnBalance: s.deposit / 20n + 7n }
            : undefined
    if (flags) conduct[i] = counting(byzantineConduct(keys[i]!, flags))
    if (L.attack === 'duplicate') conduct[i] = counting(duplicatingConduct(keys[i]!, L.omitToo))
    if (L.attack === 'hold-back') wrapChain[i] = holdingChain(L.holdMs ?? 5000, acted)
    if (L.attack === 'hide-receipts') {
      const h = hidingLeader(accounts[L.victim ?? 0]!, () => cluster?.participants[i]?.currentLeader === i, acted)
      conduct[i] = h.conduct
      wrapTransport[i] = h.transport
    }
  }
  if (M?.fault === 'false-challenge') conduct[M.index] = byzantineConduct(keys[M.index]!, { falseChallenge: true })
  // Every entry each member writes (before a hiding leader's filter): the oracle of what was requested and receipted.
  const oracle = new ReceiptOracle()
  const spied: Record<number, (t: Transport) => Transport> = {}
  for (let i = 0; i < n; i++) {
    const inner = wrapTransport[i]
    spied[i] = (t) => oracle.spy(i, inner ? inner(t) : t)
  }
  /** Members whose money the invariants protect: all but a Byzantine leader and a false challenger. */
  const protectedMembers = new Set(Array.from({ length: n }, (_, i) => i))
  if (L && L.attack !== 'silent') protectedMembers.delete(L.index)
  if (M?.fault === 'false-challenge') protectedMembers.delete(M.index)
  /**
   * Honest members: all but a Byzantine leader and a false challenger. A silent one is honest, online or not (a
   * crash is no misbehaviour); it counts towards an online majority while it runs, and a dispute it loses as a
   * leader while silent is no violation.
   */
  const honest = protectedMembers

  cluster = await startCluster(channel, devnet, keys, {
    timing: s.timing,
    conduct,
    wrapChain,
    wrapTransport: spied,
    onLog: (i, line) => traceLine(`[${i}] ${line}`),
  })
  const c = cluster
  const watchParticipant = (p: Participant): void => {
    if (protectedMembers.has(p.index)) p.on('transfer', (r) => oracle.track(r))
    p.on('view-change', (v) => {
      report.viewChanges++
      traceLine(`[${p.index}] (event) view change in epoch ${v.epoch}: ${v.from} -> ${v.to}`)
    })
  }
  c.participants.forEach(watchParticipant)

  const online = Array.from({ length: n }, () => true)
  /** Members that were offline at some time: exempt from the ban check (a silent leader loses by silence). */
  const everOffline = new Set<number>()
  const exited = new Set<number>()
  const sends: bigint[][] = Array.from({ length: n }, () => [])
  const timers = new Set<NodeJS.Timeout>()
  const later = (ms: number, task: () => Promise<void> | void): void => {
    const h = setTimeout(() => {
      timers.delete(h)
      Promise.resolve(task()).catch((err: unknown) => traceLine(`(driver) ${errorMessage(err)}`))
    }, ms)
    timers.add(h)
  }

  // ---------------------------------------------------------------- silences
  interface SilenceState {
    index: number
    plan: Silence
    asLeader: boolean
    triggerAt?: number
    stoppedAt?: number
    back?: boolean
  }
  const silences: SilenceState[] = []
  if (L?.attack === 'silent' && L.silence) silences.push({ index: L.index, plan: L.silence, asLeader: true })
  if (M?.fault === 'silent' && M.silence) silences.push({ index: M.index, plan: M.silence, asLeader: false })
  let checkpointed = 0n
  const tickSilences = async (): Promise<void> => {
    const now = Date.now()
    for (const x of silences) {
      const p = c.participants[x.index]!
      if (exited.has(x.index)) continue
      if (x.stoppedAt === undefined && x.triggerAt === undefined) {
        const due = x.asLeader
          ? p.runningEpoch >= BigInt(x.plan.fromEpoch) && p.currentLeader === x.index
          : checkpointed + 1n >= BigInt(x.plan.fromEpoch)
        if (due) x.triggerAt = now + x.plan.afterMs
      }
      if (x.stoppedAt === undefined && x.triggerAt !== undefined && now >= x.triggerAt) {
        x.stoppedAt = now
        online[x.index] = false
        everOffline.add(x.index)
        say(`member ${x.index} goes silent (epoch ${p.runningEpoch}, leader ${p.currentLeader})`)
        traceLine(`(driver) member ${x.index} goes silent`)
        await within(STOP_MS, p.stop(), `member ${x.index} did not stop`)
      }
      const back = x.plan.backAfterMs
      if (x.stoppedAt !== undefined && !x.back && back !== undefined && now >= x.stoppedAt + back) {
        x.back = true
        say(`member ${x.index} comes back`)
        traceLine(`(driver) member ${x.index} comes back`)
        watchParticipant(await within(STOP_MS, c.restart(x.index), `member ${x.index} did not restart`))
        online[x.index] = true
      }
    }
  }

  // ---------------------------------------------------------------- invariants, after every checkpoint
  let processed = 0n
  let resolvedSeen = 0
  const check = async (cp: Checkpointed, events: ChannelEvent[]): Promise<void> => {
    const e = cp.epoch
    for (const v of (await moneyHeld(devnet.provider, channel, cp, events)).violations) violation(v)
    // The oracle: the balances the landing leader's receipts of the epoch give, each send covered at most once,
    // and every payment a node shows checkpointed covered.
    const covered = oracle.land(cp)
    if (!covered) note(`epoch ${e}: leader ${cp.leader} led more than one round of it; its receipts not checked`)
    else {
      const prev = landed.at(-1)
      for (const i of protectedMembers) {
        const exitEpoch = exitEpochs.get(i)
        if (exitEpoch !== undefined && exitEpoch < e) continue
        const before = (prev?.balances[i] ?? 0n) - (prev?.deposited[i] ?? 0n) + (cp.deposited[i] ?? 0n)
        const me = accounts[i]!.toLowerCase()
        const net = covered.reduce((a, t) => {
          if (t.transfer.to.toLowerCase() === me) return a + t.transfer.amount
          return t.transfer.from.toLowerCase() === me ? a - t.transfer.amount : a
        }, 0n)
        const got = cp.balances[i] ?? 0n
        if (got !== before + net) {
          const basis = `the last checkpoint, new deposits and leader ${cp.leader}'s ${covered.length} receipts of the epoch`
          violation(`receipts, epoch ${e}: member ${i} has ${fmt(got)} on chain; ${basis} give ${fmt(before + net)}`)
        }
      }
    }
    landed.push(cp)
    for (const i of protectedMembers) {
      for (const [first, ids] of oracle.debits(accounts[i]!, c.participants[i]!.transfers())) {
        if (ids.length < 2) continue
        violation(`debited twice: one send of member ${i} (${first}) covered ${ids.length} times by epoch ${e}: ${ids.join(', ')}`)
      }
      for (const r of c.participants[i]!.transfers()) {
        if (r.status !== 'checkpointed' || r.transfer.epoch > e || oracle.isCovered(r.transfer.id)) continue
        if (oracle.uncheckable(r.transfer.epoch)) continue
        const what = `${r.direction === 'out' ? 'payment' : 'incoming payment'} ${r.transfer.id} of epoch ${r.transfer.epoch}`
        violation(`finality: member ${i} shows its ${what} checkpointed; the landed checkpoint does not cover it`)
      }
    }
    // Each protected member's balance against what its node saw settled and what it sent.
    for (const i of protectedMembers) {
      const exitEpoch = exitEpochs.get(i)
      if (exitEpoch !== undefined && exitEpoch < e) continue
      const bounds = memberBounds(i, e)
      const d = (cp.balances[i] ?? 0n) - (cp.deposited[i] ?? 0n)
      if (d < bounds.low) {
        const basis = `settled incoming ${fmt(bounds.inSettled)} - every send once ${fmt(bounds.outAll)}`
        violation(`no loss, epoch ${e}: member ${i} has ${fmt(d)} net on chain, below ${fmt(bounds.low)} (${basis})`)
      }
      if (d > bounds.high) {
        const basis = `all incoming ${fmt(bounds.inAll)} - sends shown checkpointed ${fmt(bounds.outSettled)}`
        violation(`finality, epoch ${e}: member ${i} has ${fmt(d)} net on chain, above ${fmt(bounds.high)} (${basis})`)
      }
    }
  }
  const exitEpochs = new Map<number, bigint>()
  const landed: Checkpointed[] = []
  const memberBounds = (i: number, e: bigint) => {
    const records = c.participants[i]!.transfers()
    let inSettled = 0n
    let inAll = 0n
    let outSettled = 0n
    for (const r of records) {
      const settled = r.status === 'checkpointed' && r.transfer.epoch <= e
      if (r.direction === 'in') {
        inAll += r.transfer.amount
        if (settled) inSettled += r.transfer.amount
      } else if (settled) outSettled += r.transfer.amount
    }
    const outAll = sends[i]!.reduce((a, b) => a + b, 0n)
    return { inSettled, inAll, outSettled, outAll, low: inSettled - outAll, high: inAll - outSettled }
  }
  const banCheck = (events: ChannelEvent[], banned: bigint): void => {
    const resolved = events.filter((ev): ev is Extract<ChannelEvent, { type: 'DisputeResolved' }> => ev.type === 'DisputeResolved')
    for (const ev of resolved.slice(resolvedSeen)) {
      traceLine(`(chain) dispute of epoch ${ev.epoch}: challenger ${ev.challenger}, leader ${ev.leader}, leader right ${ev.leaderRight}`)
      if (ev.leaderRight || !honest.has(ev.leader)) continue
      if (everOffline.has(ev.leader)) note(`epoch ${ev.epoch}: member ${ev.leader}, silent for a while, lost a dispute as leader`)
      else violation(`bans, epoch ${ev.epoch}: honest member ${ev.leader} lost a dispute as leader (challenger ${ev.challenger})`)
    }
    resolvedSeen = resolved.length
    for (const i of honest) {
      if (((banned >> BigInt(i)) & 1n) === 1n && !everOffline.has(i)) violation(`bans: honest member ${i} is banned on chain`)
    }
  }

  // ---------------------------------------------------------------- the driver
  let lastCheckpointAt = Date.now()
  /** Since when an honest majority has been online without a break (undefined: it is not now). */
  let majoritySince: number | undefined = Date.now()
  let gapReported = false
  const majorityOnline = (): boolean => {
    const active = Array.from({ length: n }, (_, i) => i).filter((i) => !exited.has(i))
    const up = active.filter((i) => honest.has(i) && online[i]).length
    return up * 2 > active.length
  }
  const poll = async (): Promise<void> => {
    await tickSilences()
    // Each record's ids as they change (a re-issue renames it), also those whose change no event told.
    for (const i of protectedMembers) for (const r of c.participants[i]!.transfers()) if (r.direction === 'out') oracle.track(r)
    const status = await channel.status()
    if (status.checkpointedEpoch > processed) {
      const events = await channel.events()
      for (const ev of events) {
        if (ev.type === 'Exited' && !exited.has(ev.index)) {
          exited.add(ev.index)
          online[ev.index] = false
          const at = events.find((x): x is Checkpointed => x.type === 'CheckpointSubmitted' && x.transactionHash === ev.transactionHash)
          if (at) exitEpochs.set(ev.index, at.epoch)
        }
      }
      for (const cp of events) {
        if (cp.type !== 'CheckpointSubmitted' || cp.epoch <= processed) continue
        traceLine(`(chain) checkpoint ${cp.epoch} by ${cp.leader} (${cp.txCount} transfers), balances ${cp.balances.map(fmt).join(' ')}`)
        await check(cp, events)
        processed = cp.epoch
      }
      const now = Date.now()
      report.maxGapMs = Math.max(report.maxGapMs, now - lastCheckpointAt)
      lastCheckpointAt = now
      gapReported = false
      checkpointed = status.checkpointedEpoch
      report.checkpoints = Number(checkpointed)
      banCheck(events, await channel.bannedLeaders())
    } else {
      banCheck(await channel.events(), await channel.bannedLeaders())
    }
    if (!majorityOnline()) majoritySince = undefined
    else majoritySince ??= Date.now()
  }
  /**
   * Polls until `done()` or a stall; false on a stall. `needed()` says whether progress is owed now. The liveness
   * bound runs from the last checkpoint or, if later, from when an honest majority was online again.
   */
  const until = async (done: () => boolean, needed: () => boolean, what: string): Promise<boolean> => {
    for (;;) {
      await within(POLL_MS, poll(), 'a poll of the chain did not end')
      if (done()) return true
      if (opts.deadlineMs !== undefined && Date.now() - started > opts.deadlineMs) {
        violation(`the run went past its ${opts.deadlineMs} ms waiting for ${what} (after epoch ${checkpointed})`)
        return false
      }
      const now = Date.now()
      const gap = now - lastCheckpointAt
      const owed = majoritySince === undefined ? 0 : now - Math.max(lastCheckpointAt, majoritySince)
      if (owed > livenessMs && !gapReported && needed()) {
        gapReported = true
        violation(`liveness: no checkpoint after epoch ${checkpointed} for ${gap} ms, ${owed} ms of it with an honest majority online (${what})`)
      }
      // Without an honest majority online a stall is allowed: wait a while for a silent member to come back.
      if (owed > livenessMs + 5_000 || gap > livenessMs + 30_000) {
        report.maxGapMs = Math.max(report.maxGapMs, gap)
        note(`stalled after epoch ${checkpointed} (${what})${owed > livenessMs ? '' : ', without an honest majority online'}`)
        return false
      }
      await sleep(100)
    }
  }

  try {
    say(`seed ${s.seed}: ${report.scenario}`)
    let going = await until(() => checkpointed >= 1n, () => true, 'the deposits')
    for (let k = 0; going && k < s.epochs.length; k++) {
      const plan = s.epochs[k]!
      for (const x of plan.sends) {
        later(x.at, () => {
          if (!online[x.from] || exited.has(x.from) || exited.has(x.to)) return
          sends[x.from]!.push(x.amount)
          c.participants[x.from]!.send(x.to, x.amount).catch(() => {}) // a refusal is the node's to show
        })
      }
      if (plan.deposit) {
        const { member, amount } = plan.deposit
        later(s.timing.epochMs / 3, async () => {
          for (let attempt = 0; ; attempt++) {
            try {
              return void (await channel.as(wallets[member]!).deposit(amount))
            } catch (err) {
              if (attempt >= 3) return note(`the deposit of member ${member} failed: ${errorMessage(err)}`)
              await sleep(200)
            }
          }
        })
      }
      if (plan.exit !== undefined) {
        const i = plan.exit
        later(s.timing.epochMs / 2, () => {
          if (online[i]) c.participants[i]!.requestExit()
        })
      }
      const target = BigInt(k + 2)
      going = await until(() => checkpointed >= target, () => true, `epoch ${target}`)
    }
    // Settle: no new payments; wait until no honest online node has a payment in flight, so the last re-issues land.
    const inFlight = (): boolean =>
      [...protectedMembers].some(
        (i) =>
          online[i] &&
          !exited.has(i) &&
          c.participants[i]!.transfers().some((r) =>
            r.direction === 'out' ? ['requested', 'countersigned', 'receipted'].includes(r.status) : r.status === 'receipted',
          ),
      )
    if (going) {
      const settleBy = Date.now() + 4 * livenessMs
      await until(() => !inFlight() || Date.now() > settleBy, inFlight, 'settling')
      if (inFlight()) note('payments still in flight at the end')
    }
    // History: what each online protected node shows settled against the chain (not an invariant here).
    const last = (await channel.checkpoints()).at(-1)
    for (const i of protectedMembers) {
      if (!online[i] || exited.has(i)) continue
      for (const r of c.participants[i]!.transfers()) {
        if (r.status === 'checkpointed' || !oracle.isCovered(r.transfer.id)) continue
        const out = r.direction === 'out'
        const what = `${out ? 'payment to' : 'payment from'} ${members(out ? r.transfer.to : r.transfer.from)} ${r.transfer.id}`
        const shown = `${r.status}${r.reason ? ` ${r.reason}` : ''}`
        note(`history: member ${i} shows its ${what} (epoch ${r.transfer.epoch}) ${shown}; a landed checkpoint covers it`)
      }
    }
    if (last) {
      for (const i of protectedMembers) {
        const b = memberBounds(i, last.epoch)
        const d = (last.balances[i] ?? 0n) - (last.deposited[i] ?? 0n)
        const w = (x: bigint): string => x.toString()
        report.members.push({ index: i, net: w(d), inSettled: w(b.inSettled), inAll: w(b.inAll), outSettled: w(b.outSettled), sent: w(b.outAll) })
        if (!online[i] || exited.has(i)) continue
        const shown = b.inSettled - b.outSettled
        if (d !== shown) note(`history: member ${i} shows ${fmt(shown)} settled, the chain ${fmt(d)}`)
      }
    }
    const events = await channel.events()
    report.disputes = events.filter((ev) => ev.type === 'Challenged').length
    report.majorityCheckpoints = events.filter((ev) => ev.type === 'CheckpointProposed').length
  } catch (err) {
    violation(`the run failed: ${errorMessage(err)}`)
  } finally {
    for (const h of timers) clearTimeout(h)
    // A participant whose stop never ends holds a task in its queue that never ends: the node is frozen.
    const stops = c.participants.map((p) => within(STOP_MS, p.stop(), `member ${p.index}'s participant did not stop`))
    for (const r of await Promise.allSettled(stops)) if (r.status === 'rejected') violation(`liveness: ${errorMessage(r.reason)}`)
  }
  report.ok = report.violations.length === 0
  report.ms = Date.now() - started
  if ((!report.ok && opts.trace) || opts.trace === 'always') report.trace = trace.slice(-600)
  return report
}

/**
 * What every member wrote, as the test sees it before any filter: each honest sender's requests (a send's re-issues
 * derive their ids from its first one) and every leader's receipts by epoch. A checkpoint that lands covers the
 * receipts its leader gave in that epoch (a leader leads an epoch at most once: a replaced or beaten leader is not
 * taken back in it), hidden ones included: its balances count them, and so does its answer to a challenge.
 */
class ReceiptOracle {
  /** Receipts by leader, epoch and seq. */
  private readonly receipts = new Map<number, Map<bigint, Map<number, ReceiptedTransfer>>>()
  /** Epochs whose leader wrote two receipts at one seq (it led two rounds): not checked. */
  private readonly ambiguous = new Set<bigint>()
  /** Requests by sender account: transfer ids. */
  private readonly requests = new Map<string, Set<string>>()
  /** Transfer ids of one send (its re-issues), as a union-find forest. */
  private readonly parent = new Map<string, string>()
  /** The id each payment record of a node carried when last seen. */
  private readonly lastId = new WeakMap<TransferRecord, string>()
  /** Transfer ids the landed checkpoints cover, with their epoch. */
  private readonly covered = new Map<string, bigint>()

  spy(author: number, t: Transport): Transport {
    return {
      subscribe: (h) => t.subscribe(h),
      append: (entries) => {
        for (const bytes of entries) {
          let e: Entry
          try {
            e = decodeEntry(bytes)
          } catch {
            continue // garbage is not ours to judge here
          }
          if (e.type === 'request') {
            const from = e.transfer.from.toLowerCase()
            const ids = this.requests.get(from) ?? new Set<string>()
            ids.add(e.transfer.id)
            this.requests.set(from, ids)
            for (const k of [1, 2, 3]) this.link(e.transfer.id, reissueId(e.transfer.id, k))
          }
          if (e.type !== 'receipt') continue
          const epoch = e.tx.transfer.epoch
          const byEpoch = this.receipts.get(author) ?? new Map<bigint, Map<number, ReceiptedTransfer>>()
          const bySeq = byEpoch.get(epoch) ?? new Map<number, ReceiptedTransfer>()
          const known = bySeq.get(e.tx.seq)
          if (known && known.transfer.id !== e.tx.transfer.id) this.ambiguous.add(epoch)
          bySeq.set(e.tx.seq, e.tx)
          byEpoch.set(epoch, bySeq)
          this.receipts.set(author, byEpoch)
        }
        return t.append(entries)
      },
    }
  }

  /** The checkpoint landed: the receipts it covers, in seq order (undefined if its leader's are ambiguous). */
  land(cp: { epoch: bigint; leader: number }): ReceiptedTransfer[] | undefined {
    if (this.ambiguous.has(cp.epoch)) return undefined
    const txs = [...(this.receipts.get(cp.leader)?.get(cp.epoch)?.values() ?? [])].sort((a, b) => a.seq - b.seq)
    for (const t of txs) this.covered.set(t.transfer.id, cp.epoch)
    return txs
  }

  isCovered(id: string): boolean {
    return this.covered.has(id)
  }

  uncheckable(epoch: bigint): boolean {
    return this.ambiguous.has(epoch)
  }

  /** A node's payment record, seen again: the ids it went by belong to one send. */
  track(r: TransferRecord): void {
    const before = this.lastId.get(r)
    if (before !== undefined && before !== r.transfer.id) this.link(before, r.transfer.id)
    if (r.firstId) this.link(r.firstId, r.transfer.id)
    this.lastId.set(r, r.transfer.id)
  }

  /**
   * Each send of `account` (all its requests, and its node's records, grouped by send: re-issues derive their ids
   * from the first, and a record carries its send's ids one after the other) with the ids of it the landed
   * checkpoints cover.
   */
  debits(account: string, records: readonly TransferRecord[]): Map<string, string[]> {
    for (const r of records) if (r.direction === 'out') this.track(r)
    const outgoing = records.filter((r) => r.direction === 'out').map((r) => r.transfer.id)
    const ids = new Set([...(this.requests.get(account.toLowerCase()) ?? []), ...outgoing])
    const sends = new Map<string, string[]>()
    for (const id of ids) {
      const root = this.find(id)
      const covered = sends.get(root) ?? []
      if (this.covered.has(id)) covered.push(id)
      sends.set(root, covered)
    }
    return sends
  }

  private find(id: string): string {
    let root = id
    for (let up = this.parent.get(root); up !== undefined && up !== root; up = this.parent.get(root)) root = up
    if (root !== id) this.parent.set(id, root)
    return root
  }

  private link(a: string, b: string): void {
    const ra = this.find(a)
    const rb = this.find(b)
    if (ra !== rb) this.parent.set(rb, ra)
  }
}

/** Wei as ether, signed, every digit. */
function fmt(wei: bigint): string {
  const neg = wei < 0n
  const v = neg ? -wei : wei
  return `${neg ? '-' : ''}${v / 10n ** 18n}.${(v % 10n ** 18n).toString().padStart(18, '0')}`
}
