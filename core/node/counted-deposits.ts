// How much of each member's deposit the last checkpoint counted, so a view can show money deposited on chain but
// not counted yet (it joins the balance with the next checkpoint). Taken from the checkpoint events the participant
// reads anyway: no chain read of its own.
import { overrideChain, type ChainPort, type CheckpointEvent } from '../consensus/chain-port.js'

/** Checkpoints remembered: the running epoch's last one, with room for a few read ahead of the participant. */
const KEPT = 4

export class CountedDeposits {
  /** Each checkpoint's cumulative `deposited`, by epoch. */
  private readonly byEpoch = new Map<bigint, readonly bigint[]>()

  /** `chain`, whose event reads note every checkpoint here before the participant handles it. */
  watching(chain: ChainPort): ChainPort {
    const events: ChainPort['events'] = async (fromBlock, toBlock) => {
      const list = await chain.events(fromBlock, toBlock)
      for (const e of list) if (e.type === 'CheckpointSubmitted') this.noted(e)
      return list
    }
    return overrideChain(chain, { events })
  }

  noted(cp: Pick<CheckpointEvent, 'epoch' | 'deposited'>): void {
    this.byEpoch.set(cp.epoch, cp.deposited)
    const newest = [...this.byEpoch.keys()].reduce((a, b) => (a > b ? a : b))
    for (const epoch of this.byEpoch.keys()) if (epoch <= newest - BigInt(KEPT)) this.byEpoch.delete(epoch)
  }

  /**
   * What the checkpoint of `epoch` counted of member `index`'s deposit: 0 before the first checkpoint and for a
   * member it did not include; undefined when that checkpoint was not seen.
   */
  counted(epoch: bigint, index: number): bigint | undefined {
    if (epoch === 0n) return 0n
    const deposited = this.byEpoch.get(epoch)
    return deposited && (deposited[index] ?? 0n)
  }
}
