// The channel's members as the chain lists them: read on demand or polled, and looked up by account.
import { checksum, fromHex } from '../protocol/bytes.js'
import type { Transfer } from '../protocol/types.js'
import { overrideChain, type ChainPort, type ChannelEvent, type MemberRecord } from './chain-port.js'

export class MemberList {
  private list: MemberRecord[] = []
  private byAccount = new Map<string, number>()
  private accounts: Buffer[] = []
  private readonly listeners = new Set<(list: readonly MemberRecord[]) => void>()
  private poll: NodeJS.Timeout | undefined
  private reading: Promise<readonly MemberRecord[]> | undefined
  private queued: Promise<readonly MemberRecord[]> | undefined

  constructor(private readonly chain: Pick<ChainPort, 'members'>) {}

  /** Every member by index, exited ones included. */
  get all(): readonly MemberRecord[] {
    return this.list
  }

  get count(): number {
    return this.list.length
  }

  get(index: number): MemberRecord | undefined {
    return this.list[index]
  }

  /** Member `index`'s account as the 20 bytes entries carry (read per entry: kept, not converted each time). */
  accountBytes(index: number): Buffer | undefined {
    return this.accounts[index]
  }

  /** The index of a checksummed account (as decoded entries and the chain give them). */
  indexOf(account: string): number | undefined {
    return this.byAccount.get(account)
  }

  /** The members transfer `t` is between (its sender and receiver), `except` left out. */
  parties(t: Pick<Transfer, 'from' | 'to'>, except: number): number[] {
    return [...new Set([this.indexOf(t.from), this.indexOf(t.to)])].filter((i): i is number => i !== undefined && i !== except)
  }

  /** True for a member that left, and for an index that is no member. */
  exited(index: number): boolean {
    return this.list[index]?.exited ?? true
  }

  /**
   * Reads the list from the chain; listeners hear of joins and exits. Calls made while a read is under way share
   * the one read after it (it starts after theirs, so it sees what they asked for): a newcomer's entries each
   * asked for a read of their own.
   */
  refresh(): Promise<readonly MemberRecord[]> {
    if (this.queued) return this.queued
    if (!this.reading) return this.startRead()
    return (this.queued = this.reading.catch(() => {}).then(() => {
      this.queued = undefined
      return this.startRead()
    }))
  }

  private startRead(): Promise<readonly MemberRecord[]> {
    const reading = this.read().finally(() => {
      if (this.reading === reading) this.reading = undefined
    })
    return (this.reading = reading)
  }

  private async read(): Promise<readonly MemberRecord[]> {
    const read = await this.chain.members()
    // A read can answer an older state (a lagging RPC node): members only join and exit, deposits only grow, so keep
    // the later of each.
    const merged = read.length >= this.list.length ? read : [...read, ...this.list.slice(read.length)]
    const next = merged.map((m, i) => {
      const old = this.list[i]
      return old ? { ...m, exited: m.exited || old.exited, deposit: m.deposit > old.deposit ? m.deposit : old.deposit } : m
    })
    const changed = next.length !== this.list.length || next.some((m, i) => m.exited !== this.list[i]?.exited)
    this.list = next
    this.byAccount = new Map(next.map((m) => [checksum(m.account), m.index]))
    this.accounts = next.map((m) => fromHex(m.account, 20))
    if (changed) for (const l of this.listeners) l(next)
    return next
  }

  /** Calls `listener` with the new list whenever a member joins or exits. Returns an unsubscribe. */
  onChange(listener: (list: readonly MemberRecord[]) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * `chain`, whose event reads refresh this list when they bring a join, a deposit or an exit: the participant reads
   * events anyway, so the list follows the chain without a fast poll of its own (a read is a call per member: n
   * peers polling twice a second made 2n(n+1) calls a second to the chain's node, 8,000 with 64 peers).
   */
  refreshedBy(chain: ChainPort): ChainPort {
    const changes = (e: ChannelEvent): boolean => e.type === 'Joined' || e.type === 'Deposited' || e.type === 'Exited'
    return overrideChain(chain, {
      events: async (fromBlock, toBlock) => {
        const list = await chain.events(fromBlock, toBlock)
        if (list.some(changes)) void this.refresh().catch(() => {}) // the fallback poll reads it again
        return list
      },
    })
  }

  /** Reads the list every `ms` until `stop` (a failed read is tried again at the next tick). */
  watch(ms: number): void {
    clearInterval(this.poll)
    this.poll = setInterval(() => void this.refresh().catch(() => {}), ms)
  }

  stop(): void {
    clearInterval(this.poll)
  }
}
