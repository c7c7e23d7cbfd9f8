// Counts the entries each author sent that had to be ignored (undecodable, wrongly signed, not theirs to send), and
// mutes an author for the rest of the epoch once it has sent a few: its further entries then get no signature work
// and no write from us (a flood of junk must not cost the others more than it costs its author).
/** Ignored entries logged one by one per author, then one line per this many: a flood must not flood our log. */
const LOG_FIRST = 10
const LOG_EVERY = 1000
/** Ignored entries of one author in one epoch after which its further entries of that epoch are skipped. */
export const MUTE_AFTER = 64

/**
 * Rejection codes an honest party never causes (its node checks these before it signs): a transfer refused for one
 * of them is junk, blamed on its author, and gets no `reject` entry in answer.
 */
export function honestNever(code: string): boolean {
  return code === 'BAD_SENDER_SIGNATURE' || code === 'BAD_RECEIVER_SIGNATURE' || code === 'SELF_TRANSFER' || code === 'ZERO_AMOUNT' || code === 'WRONG_EPOCH'
}

export class Misbehaviour {
  /** Ignored entries by author. */
  readonly counts = new Map<number, number>()
  /** Entries of a muted author passed over (no signature work, no write), by author (counted in `counts` too). */
  readonly skipped = new Map<number, number>()
  /** Ignored entries by author in the running epoch. */
  private readonly thisEpoch = new Map<number, number>()

  constructor(private readonly log: (line: string) => void) {}

  blame(author: number, why: string): void {
    const count = (this.counts.get(author) ?? 0) + 1
    this.counts.set(author, count)
    this.thisEpoch.set(author, (this.thisEpoch.get(author) ?? 0) + 1)
    if (count <= LOG_FIRST) this.log(`ignored an entry of member ${author}: ${why}`)
    else if (count % LOG_EVERY === 0) this.log(`ignored ${count} entries of member ${author} so far; latest: ${why}`)
  }

  /** An entry of a muted author, passed over. */
  skip(author: number): void {
    this.counts.set(author, (this.counts.get(author) ?? 0) + 1)
    this.skipped.set(author, (this.skipped.get(author) ?? 0) + 1)
  }

  /** Whether `author`'s entries are skipped for the rest of the running epoch. */
  muted(author: number): boolean {
    return (this.thisEpoch.get(author) ?? 0) >= MUTE_AFTER
  }

  /** A new epoch: every author is heard again. */
  newEpoch(): void {
    this.thisEpoch.clear()
  }
}
