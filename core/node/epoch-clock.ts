// When the running epoch is due to close, as a member can tell: its leader closes it an epoch's length after the
// round began (the epoch began, or a view change gave it a new leader); where idle epochs stay off chain, the leader
// looks again every epoch's length, so an epoch closes at the first of those once something happened in it.
import type { Timing } from '../consensus/participant.js'

export class EpochClock {
  constructor(
    private readonly timing: Pick<Timing, 'epochMs' | 'skipIdleEpochs'>,
    /** When the running round began, in ms since 1970. */
    private beganAt = Date.now(),
  ) {}

  /** A round began at `at` (ms since 1970). */
  began(at = Date.now()): void {
    this.beganAt = at
  }

  /** When the running epoch closes, in ms since 1970: in the past once it is closing (or its leader is late). */
  endsAt(now = Date.now()): number {
    const { epochMs, skipIdleEpochs } = this.timing
    const end = this.beganAt + epochMs
    if (now < end || !skipIdleEpochs) return end
    return this.beganAt + Math.ceil((now - this.beganAt) / epochMs) * epochMs
  }
}
