// Counts the entries each author sent that had to be ignored (undecodable, wrongly signed, not theirs to send).
/** Ignored entries logged one by one per author, then one line per this many: a flood must not flood our log. */
const LOG_FIRST = 10
const LOG_EVERY = 1000

export class Misbehaviour {
  /** Ignored entries by author. */
  readonly counts = new Map<number, number>()

  constructor(private readonly log: (line: string) => void) {}

  blame(author: number, why: string): void {
    const count = (this.counts.get(author) ?? 0) + 1
    this.counts.set(author, count)
    if (count <= LOG_FIRST) this.log(`ignored an entry of member ${author}: ${why}`)
    else if (count % LOG_EVERY === 0) this.log(`ignored ${count} entries of member ${author} so far; latest: ${why}`)
  }
}
