// The state machine of one epoch: balances, used transfer ids, receipts in seq order and their Merkle root.
// Deterministic and free of I/O and clocks. Every operation first checks everything and either returns a typed
// rejection with nothing changed, or applies the message whole; the one exception is a member's replay of a
// receipt (`applyReceipt`, `refuse`): a refused receipt still uses up its seq, as the leader's log numbers them all.
// The leader admits doubly signed transfers; every other member replays the leader's receipts into its own copy,
// so all copies agree or the difference is evidence.
import { checksum } from '../protocol/bytes.js'
import { hashReceipt, hashTransfer } from '../protocol/eip712.js'
import { merkleRoot } from '../protocol/merkle.js'
import type { ChannelDigests } from '../protocol/signatures.js'
import { makeReceipted, type Checkpoint, type Hex, type ReceiptedTransfer, type Transfer } from '../protocol/types.js'

export type Rejection =
  | { code: 'WRONG_EPOCH'; expected: bigint; got: bigint }
  | { code: 'NOT_MEMBER'; account: string }
  | { code: 'MEMBER_EXITED'; index: number }
  | { code: 'SELF_TRANSFER' }
  | { code: 'ZERO_AMOUNT' }
  | { code: 'BAD_SENDER_SIGNATURE' }
  | { code: 'BAD_RECEIVER_SIGNATURE' }
  | { code: 'BAD_LEADER_SIGNATURE' }
  | { code: 'DUPLICATE_ID'; id: Hex }
  | { code: 'OVERDRAFT'; balance: bigint; amount: bigint }
  | { code: 'CAP_REACHED'; index: number; cap: number }
  | { code: 'WRONG_SEQ'; expected: number; got: number }
  | { code: 'CLOSED' }

export type RejectionCode = Rejection['code']

export type Result<T> = { ok: true; value: T } | { ok: false; rejection: Rejection }

/** What an epoch starts from: the last checkpoint (plus members that joined since, at zero). */
export interface EpochOpening {
  epoch: bigint
  /** Index of the member leading this attempt of the epoch. */
  leader: number
  /** Every member's account, by index. */
  members: readonly string[]
  /** Members that have left; they neither send nor receive. */
  exited: readonly boolean[]
  /** Spendable balance of each member at the start (0 for members the last checkpoint did not include). */
  balances: readonly bigint[]
  /** Transfers one member may be part of in one epoch; bounds dispute lists. */
  txCap: number
}

/** Signature checking, injected so the ledger stays free of key material and of a particular backend. */
export interface SignatureCheck {
  digests: ChannelDigests
  /** The signer's address in lower case, or null for an invalid signature. */
  recover(digest: Hex, signature: string): string | null
}

export interface Admitted {
  tx: ReceiptedTransfer
  seq: number
  transferHash: Hex
  /** The receipt's struct hash: the leaf of the epoch's Merkle tree. */
  receiptHash: Hex
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value })
const no = <T>(rejection: Rejection): Result<T> => ({ ok: false, rejection })

export class EpochLedger {
  readonly epoch: bigint
  readonly leader: number
  private readonly members: readonly string[]
  /** Members' addresses in lower case, as signature recovery returns them. */
  private readonly signers: readonly string[]
  private readonly index = new Map<string, number>()
  private readonly balances: bigint[]
  private readonly involvement: number[]
  private readonly ids = new Set<string>()
  private readonly txs: ReceiptedTransfer[] = []
  /** Sender and receiver index of each receipt, by seq. */
  private readonly parties: Array<readonly [number, number]> = []
  private readonly leaves: Hex[] = []
  /** The next seq: receipts applied plus those a member refused (the leader's log numbers them all). */
  private nextSeq = 0
  private closed = false
  /** The Merkle root of `leaves`, kept until the next leaf. */
  private root: { count: number; value: Hex } | undefined

  constructor(
    private readonly opening: EpochOpening,
    private readonly sigs: SignatureCheck,
  ) {
    if (opening.members.length !== opening.balances.length || opening.members.length !== opening.exited.length) {
      throw new RangeError('opening: members, balances and exited differ in length')
    }
    this.epoch = opening.epoch
    this.leader = opening.leader
    this.members = opening.members.map((m) => checksum(m))
    this.signers = this.members.map((m) => m.toLowerCase())
    this.members.forEach((m, i) => this.index.set(m, i))
    this.balances = [...opening.balances]
    this.involvement = opening.members.map(() => 0)
  }

  get memberCount(): number {
    return this.opening.members.length
  }

  /** Receipts seen so far, applied or refused: the seq the next one must carry. */
  get seq(): number {
    return this.nextSeq
  }

  get isClosed(): boolean {
    return this.closed
  }

  balanceOf(index: number): bigint {
    return this.balances[index] ?? 0n
  }

  /** True once some member has reached the per-epoch cap: the leader should close the epoch. */
  get capReached(): boolean {
    return this.involvement.some((n) => n >= this.opening.txCap)
  }

  indexOf(account: string): number | undefined {
    try {
      return this.index.get(checksum(account))
    } catch {
      return undefined
    }
  }

  /** Whether a receipt in this ledger carries transfer id `id`. */
  holdsId(id: string): boolean {
    return this.ids.has(id.toLowerCase())
  }

  /** Receipted transfers in seq order. */
  receipts(): readonly ReceiptedTransfer[] {
    return this.txs
  }

  /**
   * The Merkle root of the receipts with seq below `count`, as a checkpoint of `count` transfers carries it; undefined
   * if this ledger does not hold every one of them (fewer seen, or one refused).
   */
  rootOf(count: number): Hex | undefined {
    if (count > this.txs.length || (count > 0 && this.txs[count - 1]?.seq !== count - 1)) return undefined
    return count === this.leaves.length ? this.txRoot() : merkleRoot(this.leaves.slice(0, count))
  }

  /** The dispute list of member `index`: every receipted transfer involving it, in seq order. */
  involving(index: number): ReceiptedTransfer[] {
    return this.txs.filter((_, seq) => this.parties[seq]?.includes(index))
  }

  /** What a receiver checks before countersigning: the sender's signature and spendable balance. */
  checkRequest(t: Transfer, senderSig: string): Rejection | null {
    const parties = this.checkParties(t)
    if ('code' in parties) return parties
    if (this.sigs.recover(this.sigs.digests.transfer(t), senderSig) !== this.signers[parties.from]) {
      return { code: 'BAD_SENDER_SIGNATURE' }
    }
    return this.checkFunds(t, parties.from)
  }

  /** The leader's admission of a doubly signed transfer: it gets the next seq. */
  admit(t: Transfer, senderSig: Hex, receiverSig: Hex): Result<Admitted> {
    const parties = this.checkParties(t)
    if ('code' in parties) return no(parties)
    const funds = this.checkFunds(t, parties.from) // before the costly signature checks
    if (funds) return no(funds)
    const transferHash = hashTransfer(t)
    const digest = this.sigs.digests.of(transferHash)
    if (this.sigs.recover(digest, senderSig) !== this.signers[parties.from]) return no({ code: 'BAD_SENDER_SIGNATURE' })
    if (this.sigs.recover(digest, receiverSig) !== this.signers[parties.to]) return no({ code: 'BAD_RECEIVER_SIGNATURE' })
    const tx = makeReceipted(t, this.nextSeq, senderSig, receiverSig, '0x')
    return ok(this.apply(tx, parties.from, parties.to, transferHash))
  }

  /**
   * A member replaying the leader's log. The receipt must carry the next seq. With `verify` (a member's own
   * transfers: its dispute evidence) all three signatures are checked; a member not party to the transfer leaves
   * that to the two who are, since only they can be wronged by it. A refused receipt still uses up its seq, so the
   * leader's later receipts apply; the refusal shows as a different root and balance at the proposal.
   */
  applyReceipt(tx: ReceiptedTransfer, verify = true): Result<Admitted> {
    if (tx.seq !== this.nextSeq) return no({ code: 'WRONG_SEQ', expected: this.nextSeq, got: tx.seq })
    const r = this.checkReceipt(tx, verify)
    if (!r.ok) this.nextSeq++
    return r
  }

  /** A member refusing the receipt with this seq (the next one): it uses up the seq and changes nothing else. */
  refuse(seq: number): void {
    if (seq === this.nextSeq) this.nextSeq++
  }

  /** True if the receipted transfer's three signatures are those of its sender, receiver and this epoch's leader. */
  verifyReceipt(tx: ReceiptedTransfer): boolean {
    const from = this.indexOf(tx.transfer.from)
    const to = this.indexOf(tx.transfer.to)
    if (from === undefined || to === undefined || tx.transfer.epoch !== this.epoch) return false
    const transferHash = hashTransfer(tx.transfer)
    const digest = this.sigs.digests.of(transferHash)
    const receipt = this.sigs.digests.receipt({ transfer: transferHash, epoch: this.epoch, seq: tx.seq })
    return (
      this.sigs.recover(digest, tx.senderSig) === this.signers[from] &&
      this.sigs.recover(digest, tx.receiverSig) === this.signers[to] &&
      this.sigs.recover(receipt, tx.leaderSig) === this.signers[this.leader]
    )
  }

  private checkReceipt(tx: ReceiptedTransfer, verify: boolean): Result<Admitted> {
    const parties = this.checkParties(tx.transfer)
    if ('code' in parties) return no(parties)
    const transferHash = hashTransfer(tx.transfer)
    if (!verify) {
      const funds = this.checkFunds(tx.transfer, parties.from)
      return funds ? no(funds) : ok(this.apply(tx, parties.from, parties.to, transferHash))
    }
    const digest = this.sigs.digests.of(transferHash)
    if (this.sigs.recover(digest, tx.senderSig) !== this.signers[parties.from]) return no({ code: 'BAD_SENDER_SIGNATURE' })
    if (this.sigs.recover(digest, tx.receiverSig) !== this.signers[parties.to]) return no({ code: 'BAD_RECEIVER_SIGNATURE' })
    const receiptDigest = this.sigs.digests.receipt({ transfer: transferHash, epoch: this.epoch, seq: tx.seq })
    if (this.sigs.recover(receiptDigest, tx.leaderSig) !== this.signers[this.leader]) {
      return no({ code: 'BAD_LEADER_SIGNATURE' })
    }
    const funds = this.checkFunds(tx.transfer, parties.from)
    if (funds) return no(funds)
    return ok(this.apply(tx, parties.from, parties.to, transferHash))
  }

  /** Records the leader's signature on the transfer it admitted last (the leader's own copy). */
  attachReceipt(seq: number, leaderSig: Hex): ReceiptedTransfer | undefined {
    const at = this.txs.length - 1
    const tx = this.txs[at]
    if (!tx || tx.seq !== seq) return undefined
    return (this.txs[at] = makeReceipted(tx.transfer, tx.seq, tx.senderSig, tx.receiverSig, leaderSig))
  }

  /** No more transfers: the epoch is being closed. */
  close(): void {
    this.closed = true
  }

  /**
   * The checkpoint this ledger implies: balances after every receipted transfer, plus the deposits newly included
   * (`deposited[i] - prevDeposited[i]`), the receipts' root and count.
   */
  checkpoint(next: { nextLeader: number; deposited: readonly bigint[]; prevDeposited: readonly bigint[]; exitMask: bigint }): Checkpoint {
    const n = next.deposited.length
    if (n < this.memberCount && this.balances.slice(n).some((b) => b !== 0n)) {
      throw new RangeError('a checkpoint must cover every member with a balance')
    }
    const balances = Array.from({ length: n }, (_, i) => {
      const added = (next.deposited[i] ?? 0n) - (next.prevDeposited[i] ?? 0n)
      return (this.balances[i] ?? 0n) + added
    })
    return {
      epoch: this.epoch,
      leader: this.leader,
      nextLeader: next.nextLeader,
      balances,
      deposited: [...next.deposited],
      exitMask: next.exitMask,
      txRoot: this.txRoot(),
      txCount: this.leaves.length,
    }
  }

  private txRoot(): Hex {
    if (this.root?.count !== this.leaves.length) this.root = { count: this.leaves.length, value: merkleRoot(this.leaves) }
    return this.root.value
  }

  private checkParties(t: Transfer): Rejection | { from: number; to: number } {
    if (this.closed) return { code: 'CLOSED' }
    if (t.epoch !== this.epoch) return { code: 'WRONG_EPOCH', expected: this.epoch, got: t.epoch }
    const from = this.indexOf(t.from)
    if (from === undefined) return { code: 'NOT_MEMBER', account: t.from }
    const to = this.indexOf(t.to)
    if (to === undefined) return { code: 'NOT_MEMBER', account: t.to }
    if (this.opening.exited[from]) return { code: 'MEMBER_EXITED', index: from }
    if (this.opening.exited[to]) return { code: 'MEMBER_EXITED', index: to }
    if (from === to) return { code: 'SELF_TRANSFER' }
    if (t.amount <= 0n) return { code: 'ZERO_AMOUNT' }
    if (this.ids.has(t.id.toLowerCase())) return { code: 'DUPLICATE_ID', id: t.id }
    for (const i of [from, to]) {
      if ((this.involvement[i] ?? 0) >= this.opening.txCap) return { code: 'CAP_REACHED', index: i, cap: this.opening.txCap }
    }
    return { from, to }
  }

  private checkFunds(t: Transfer, from: number): Rejection | null {
    const balance = this.balances[from] ?? 0n
    return balance < t.amount ? { code: 'OVERDRAFT', balance, amount: t.amount } : null
  }

  private apply(tx: ReceiptedTransfer, from: number, to: number, transferHash: Hex): Admitted {
    const t = tx.transfer
    const seq = this.nextSeq++
    const receiptHash = hashReceipt({ transfer: transferHash, epoch: this.epoch, seq })
    this.balances[from] = (this.balances[from] ?? 0n) - t.amount
    this.balances[to] = (this.balances[to] ?? 0n) + t.amount
    this.involvement[from] = (this.involvement[from] ?? 0) + 1
    this.involvement[to] = (this.involvement[to] ?? 0) + 1
    this.ids.add(t.id.toLowerCase())
    const stored = tx.seq === seq ? tx : makeReceipted(tx.transfer, seq, tx.senderSig, tx.receiverSig, tx.leaderSig)
    this.txs.push(stored)
    this.parties.push([from, to])
    this.leaves.push(receiptHash)
    return { tx: stored, seq, transferHash, receiptHash }
  }
}
