// Leader rotation (DESIGN.md section 5): round-robin over active members in index order.

/**
 * The member after `from` in index order that may lead: not exited, not leaving, not excluded for this epoch.
 * Returns `from` itself when nobody else can.
 */
export function nextLeader(from: number, memberCount: number, unavailable: (index: number) => boolean): number {
  for (let k = 1; k <= memberCount; k++) {
    const j = (from + k) % memberCount
    if (!unavailable(j)) return j
  }
  return from
}
