// Test support for the randomised adversarial run (issue 11, "Tests"): a seeded generator of scenarios (channel
// size, which members misbehave and how, a payment schedule over several epochs) and the misbehaviours it draws
// from that core/testing/byzantine.ts does not have, each small: a leader that hides a payer's receipts, one that
// counts a transfer twice (re-receipts it at a new seq), one that holds its checkpoint back. Silent leaders and
// members are driven by the runner (core/testing/adversarial-run.ts), which stops and restarts their participants.
import { honestConduct, type Conduct } from '../consensus/conduct.js'
import { overrideChain, type ChainPort } from '../consensus/chain-port.js'
import type { Timing } from '../consensus/participant-types.js'
import type { Transport } from '../consensus/transport.js'
import { hashTransfer, receiptLeaf } from '../protocol/eip712.js'
import { decodeEntry, type Entry } from '../protocol/entries.js'
import { sign } from '../protocol/fast-ecdsa.js'
import { merkleRoot } from '../protocol/merkle.js'
import type { Checkpoint, Hex, ReceiptedTransfer } from '../protocol/types.js'

// ------------------------------------------------------------------------------------------------ the generator

/** mulberry32: a small deterministic PRNG, numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Rng {
  private readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  float(): number {
    return this.next()
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

/** What a Byzantine leader does in every epoch it leads. */
export type LeaderAttack =
  /** Keeps its receipts out of its log from the victim's first payment on; its root is that of what it showed. */
  | 'hide-receipts'
  /** Leaves its first receipt out of the proposal and of its answers (byzantine.ts omitTransfer). */
  | 'omit'
  /** Counts its first receipt twice: re-receipted at a new seq in the proposal and in its answers. */
  | 'duplicate'
  /** Proposes the receipts' root in reverse order, answers with the list reversed (byzantine.ts reorderReceipts). */
  | 'reorder'
  /** Moves money from another member to itself, answering with a payment it forged (byzantine.ts inflateOwnBalance). */
  | 'inflate'
  /** Holds its checkpoint back before submitting it (the members may have moved on to the next leader meanwhile). */
  | 'hold-back'
  /** Goes silent some time into the first epoch it leads (before or after proposing); may come back later. */
  | 'silent'

export type MemberFault =
  /** Goes silent at some epoch (its participant stops), and may come back (restarted on its log) later. */
  | 'silent'
  /** Challenges every proposal with a list that hides its first outgoing payment (byzantine.ts falseChallenge). */
  | 'false-challenge'

export interface Silence {
  /** Epoch at (or after) which it goes silent; a silent leader waits for its first epoch as leader from there. */
  fromEpoch: number
  /** Milliseconds into that epoch (for a leader: after it became the leader). */
  afterMs: number
  /** Milliseconds after which it comes back (restarted on its log); undefined: never. */
  backAfterMs: number | undefined
}

export interface PlannedSend {
  /** Milliseconds after the previous epoch's checkpoint was seen (it may go out in a later epoch). */
  at: number
  from: number
  to: number
  amount: bigint
}

export interface PlannedEpoch {
  sends: PlannedSend[]
  /** An honest member tops its deposit up during the epoch. */
  deposit?: { member: number; amount: bigint }
  /** An honest member asks to exit during the epoch. */
  exit?: number
}

export interface Scenario {
  seed: number
  members: number
  /** Deposit of each member on joining (wei). */
  deposit: bigint
  timing: Timing
  /** Seconds (contract bounds: response window at least 30, challenge window at least 2). */
  responseWindow: bigint
  challengeWindow: bigint
  leader?: { index: number; attack: LeaderAttack; victim?: number; holdMs?: number; omitToo?: boolean; silence?: Silence }
  member?: { index: number; fault: MemberFault; silence?: Silence }
  /** The trading epochs after the first checkpoint (which credits the deposits), in order. */
  epochs: PlannedEpoch[]
}

export const LEADER_ATTACKS: readonly LeaderAttack[] = ['hide-receipts', 'omit', 'duplicate', 'reorder', 'inflate', 'hold-back', 'silent']
export const MEMBER_FAULTS: readonly MemberFault[] = ['silent', 'false-challenge']

const ETHER = 10n ** 18n

/**
 * The scenario of `seed`: 2, 3 or 5 members; perhaps one Byzantine leader and one faulty member (never a dishonest
 * majority: a Byzantine leader and a false challenger together only among 5); a payment schedule over 3 to 5
 * trading epochs; now and then a deposit or, among 5, an honest member's exit.
 */
export function scenario(seed: number, opts: { epochs?: number } = {}): Scenario {
  const rng = new Rng(seed)
  const n = rng.pick([2, 3, 5])
  const epochMs = 100 * rng.int(6, 12)
  const timing: Timing = { epochMs, leaderTimeoutMs: n === 5 ? 2000 : 1500, chainPollMs: 40 }
  const count = opts.epochs ?? rng.int(3, 5)
  let gone = false
  /** A silence; `mayStay`: it may last to the end of the run (else it ends, or nothing lands for the rest of it). */
  const silence = (mayStay: boolean): Silence => {
    const stays = mayStay && !gone && rng.chance(0.4)
    gone ||= stays
    return {
      fromEpoch: rng.int(2, Math.max(2, count)),
      afterMs: rng.int(0, Math.round(epochMs * 1.5)),
      backAfterMs: stays ? undefined : rng.int(1, 3) * (epochMs + 2 * timing.leaderTimeoutMs),
    }
  }

  let leader: Scenario['leader']
  if (rng.chance(0.8)) {
    const index = rng.int(0, n - 1)
    const attack = rng.pick(LEADER_ATTACKS)
    leader = { index, attack }
    if (attack === 'hide-receipts') leader.victim = rng.pick(others(n, [index]))
    if (attack === 'duplicate') leader.omitToo = rng.chance(0.5)
    // Members give up on a leader that proposed three leader timeouts later: mostly it lands while the next leader
    // trades, sometimes after the next leader's checkpoint (then it is refused).
    if (attack === 'hold-back') leader.holdMs = 3 * timing.leaderTimeoutMs + rng.int(200, epochMs + 1000)
    if (attack === 'silent') leader.silence = silence(n > 2)
  }
  let member: Scenario['member']
  if (rng.chance(0.55)) {
    const index = rng.pick(others(n, leader ? [leader.index] : []))
    let fault = rng.pick(MEMBER_FAULTS)
    // Two dishonest members out of three (or of two) would be a dishonest majority.
    if (fault === 'false-challenge' && leader && leader.attack !== 'silent' && n < 5) fault = 'silent'
    member = { index, fault }
    // In a channel of two nothing lands without both, nor among three with a Byzantine leader: there a silent
    // member comes back.
    if (fault === 'silent') member.silence = silence(n === 5 || (n === 3 && (!leader || leader.attack === 'silent')))
  }

  // Honest and online throughout: who deposits or exits.
  const bad = new Set([leader?.index, member?.index].filter((i): i is number => i !== undefined))
  const honest = Array.from({ length: n }, (_, i) => i).filter((i) => !bad.has(i))
  let exitDone = false
  let depositDone = false
  const epochs: PlannedEpoch[] = []
  for (let e = 0; e < count; e++) {
    const sends: PlannedSend[] = []
    const k = rng.int(2, 3 * n)
    for (let s = 0; s < k; s++) {
      const from = rng.int(0, n - 1)
      // Most within the epoch, some as late as a replaced leader's successor trades.
      const late = rng.chance(0.3) ? 3 * timing.leaderTimeoutMs + epochMs : 0
      sends.push({ at: rng.int(0, Math.round(epochMs * 1.5) + late), from, to: rng.pick(others(n, [from])), amount: amount(rng) })
    }
    // A hiding leader's victim pays in every epoch, so whenever that leader leads there is something to hide.
    const victim = leader?.victim
    if (victim !== undefined) sends.push({ at: rng.int(0, epochMs), from: victim, to: rng.pick(others(n, [victim])), amount: amount(rng) })
    sends.sort((a, b) => a.at - b.at)
    const planned: PlannedEpoch = { sends }
    if (!depositDone && honest.length > 0 && rng.chance(0.15)) {
      depositDone = true
      planned.deposit = { member: rng.pick(honest), amount: ETHER / 10n + BigInt(rng.int(1, 999_999)) }
    }
    // An exit among five, late, by an honest member whose leaving keeps an honest majority.
    if (n === 5 && !exitDone && e >= 1 && e < count - 1 && rng.chance(0.2)) {
      const candidates = honest.filter((i) => i !== leader?.victim && i !== planned.deposit?.member)
      if (candidates.length >= 3 && honest.length - 1 > (n - 1) / 2) {
        exitDone = true
        planned.exit = rng.pick(candidates)
      }
    }
    epochs.push(planned)
  }
  const challengeWindow = BigInt(rng.int(2, 3))
  return {
    seed,
    members: n,
    deposit: ETHER,
    timing,
    responseWindow: 30n,
    challengeWindow,
    ...(leader ? { leader } : {}),
    ...(member ? { member } : {}),
    epochs,
  }
}

function others(n: number, not: readonly number[]): number[] {
  return Array.from({ length: n }, (_, i) => i).filter((i) => !not.includes(i))
}

/** 0.001 to 0.05 ether, with odd low digits so that no two sums meet by chance. */
function amount(rng: Rng): bigint {
  return ETHER / 1000n * BigInt(rng.int(1, 50)) + BigInt(rng.int(1, 999_999_999))
}

/** One line: the channel and who does what. */
export function describeScenario(s: Scenario): string {
  const parts = [`${s.members} members`, `${s.epochs.length} epochs`, `epoch ${s.timing.epochMs} ms`]
  const sil = (x: Silence | undefined): string =>
    x ? ` from epoch ${x.fromEpoch} +${x.afterMs} ms, ${x.backAfterMs === undefined ? 'never back' : `back after ${x.backAfterMs} ms`}` : ''
  if (s.leader) {
    const l = s.leader
    const extra =
      l.victim !== undefined ? ` victim ${l.victim}` : l.holdMs !== undefined ? ` ${l.holdMs} ms` : l.omitToo ? ' omitting one too' : sil(l.silence)
    parts.push(`leader ${l.index}: ${l.attack}${extra}`)
  }
  if (s.member) parts.push(`member ${s.member.index}: ${s.member.fault}${sil(s.member.silence)}`)
  const sends = s.epochs.reduce((a, e) => a + e.sends.length, 0)
  parts.push(`${sends} sends`)
  const dep = s.epochs.findIndex((e) => e.deposit)
  if (dep >= 0) parts.push(`deposit by ${s.epochs[dep]?.deposit?.member} in epoch ${dep + 2}`)
  const exit = s.epochs.findIndex((e) => e.exit !== undefined)
  if (exit >= 0) parts.push(`exit of ${s.epochs[exit]?.exit} in epoch ${exit + 2}`)
  return parts.join(', ')
}

// ------------------------------------------------------------------------------------------------ misbehaviours

/**
 * A leader that, from the first payment of `victim` it receipts in an epoch, writes none of that epoch's receipts
 * (nor, when it is the payee, its countersign of the victim's payments) to its log, though its ledger holds them and
 * its proposal's balances count them. What it hides is the end of its list, so every member's ledger holds the
 * first receipts exactly, and the proposal's count and root are theirs (as in leader-hides-receipt.test.ts). It wins
 * the challenge of a member whose balance then differs by answering with the hidden receipts. `hid` hears each
 * payment it hid.
 */
export function hidingLeader(
  victim: string,
  leads: () => boolean,
  hid: () => void = () => {},
): { transport: (t: Transport) => Transport; conduct: Conduct } {
  const hidden = new Set<string>()
  /** The epochs in which it hides every receipt from now on. */
  const hiding = new Set<bigint>()
  const keep = (e: Entry): boolean => {
    if (e.type === 'countersign' && leads() && e.transfer.from === victim) return false
    if (e.type !== 'receipt') return true
    const t = e.tx.transfer
    if (t.from === victim) hiding.add(t.epoch)
    if (!hiding.has(t.epoch)) return true
    if (!hidden.has(t.id)) hid()
    hidden.add(t.id)
    return false
  }
  const transport = (t: Transport): Transport => ({
    subscribe: (h) => t.subscribe(h),
    append: (entries) => t.append(entries.filter((bytes) => keep(decodeEntry(bytes)))),
  })
  const conduct: Conduct = {
    ...honestConduct,
    propose: (honest, view) => {
      const shown = view.receipts.filter((t) => !hidden.has(t.transfer.id))
      return { ...honest, txRoot: merkleRoot(shown.map(receiptLeaf)), txCount: shown.length }
    },
  }
  return { transport, conduct }
}

/**
 * A leader that counts its epoch's first receipted transfer twice: the proposal moves its amount again (the payer
 * pays twice) under a second receipt at a new seq, and its answer to a challenge of either party carries that
 * second receipt. With `omitToo` its answer also leaves out the challenger's first incoming payment, so that both
 * lists can be as long (issue 11, hole 2).
 */
export function duplicatingConduct(privateKey: Hex, omitToo = false): Conduct {
  const seconds = new Map<bigint, ReceiptedTransfer>()
  return {
    ...honestConduct,
    propose: (honest, view) => {
      const first = view.receipts[0]
      if (!first) return honest
      const from = view.accounts.indexOf(first.transfer.from)
      const to = view.accounts.indexOf(first.transfer.to)
      const cp: Checkpoint = { ...honest, balances: [...honest.balances] }
      const a = first.transfer.amount
      if (from < 0 || to < 0 || (cp.balances[from] ?? 0n) < a) return honest
      const seq = view.receipts.length
      const th = hashTransfer(first.transfer)
      const again: ReceiptedTransfer = { ...first, seq, leaderSig: sign(privateKey, view.digests.receipt({ transfer: th, epoch: view.epoch, seq })) }
      seconds.set(view.epoch, again)
      cp.balances[from] = (cp.balances[from] ?? 0n) - a
      cp.balances[to] = (cp.balances[to] ?? 0n) + a
      const all = [...view.receipts, again]
      return { ...cp, txRoot: merkleRoot(all.map(receiptLeaf)), txCount: all.length }
    },
    answer: (honest, challenger, view) => {
      const again = seconds.get(view.epoch)
      const account = (view.accounts[challenger] ?? '').toLowerCase()
      if (!again || (again.transfer.from.toLowerCase() !== account && again.transfer.to.toLowerCase() !== account)) return honest
      let list = honest
      if (omitToo) {
        const i = list.findIndex((t) => t.transfer.to.toLowerCase() === account && t.transfer.id !== again.transfer.id)
        if (i >= 0) list = [...list.slice(0, i), ...list.slice(i + 1)]
      }
      return [...list, again]
    },
  }
}

/**
 * A leader's chain whose checkpoint (with every vote, after a won dispute, or with a majority's) waits `holdMs`
 * before going out; its node waits with it. `held` hears each hold.
 */
export function holdingChain(holdMs: number, held: () => void = () => {}): (chain: ChainPort) => ChainPort {
  const hold = async (): Promise<void> => {
    held()
    await new Promise((r) => setTimeout(r, holdMs))
  }
  return (chain) =>
    overrideChain(chain, {
      submitCheckpoint: async (...a) => (await hold(), chain.submitCheckpoint(...a)),
      submitContestedCheckpoint: async (...a) => (await hold(), chain.submitContestedCheckpoint(...a)),
      proposeCheckpoint: async (...a) => (await hold(), chain.proposeCheckpoint(...a)),
    })
}
