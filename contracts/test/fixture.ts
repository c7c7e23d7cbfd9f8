// A real channel on a real anvil chain in one call, and helpers that build correctly signed protocol messages.
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { SigningKey, Wallet, hexlify, parseEther, randomBytes } from 'ethers'
import { ChainError, ChannelClient, startDevnet, type ChannelParams, type Devnet, type DevnetOptions, type LeaderEvidence } from '../../core/chain/index.js'
import {
  ChannelDigests,
  receiptLeaf,
  hashTransfer,
  merkleRoot,
  randomTransferId,
  signDigest,
  type Checkpoint,
  type Hex,
  type ReceiptedTransfer,
} from '../../core/protocol/index.js'

export const DEFAULT_PARAMS: ChannelParams = { responseWindow: 3600n, staleAfter: 86_400n, txCap: 256 }

/** Starts one devnet for the calling test file and stops it when the file is done, pass or fail. */
export function useDevnet(options: DevnetOptions = {}): () => Devnet {
  let devnet: Devnet | undefined
  before(async () => {
    devnet = await startDevnet(options)
  })
  after(async () => {
    await devnet?.stop()
  })
  return () => {
    if (!devnet) throw new Error('devnet not started')
    return devnet
  }
}

export interface TestMember {
  index: number
  wallet: Wallet
  key: SigningKey
  address: string
  peerKey: Hex
}

export class ChannelFixture {
  readonly digests: ChannelDigests

  constructor(
    readonly devnet: Devnet,
    readonly channel: ChannelClient,
    readonly members: TestMember[],
    /** Funded accounts that are not members. */
    readonly outsiders: Wallet[],
    /** What each member deposited on joining. */
    readonly deposit: bigint,
  ) {
    this.digests = new ChannelDigests({ chainId: devnet.chainId, verifyingContract: channel.address })
  }

  member(i: number): TestMember {
    const m = this.members[i]
    if (!m) throw new Error(`no member ${i}`)
    return m
  }

  /** The channel as seen by member i (transactions sent from its account). */
  as(i: number): ChannelClient {
    return this.channel.as(this.member(i).wallet)
  }

  /** A transfer signed by both parties and receipted by `leader` with `seq`. */
  receipted(opts: { epoch: bigint; from: number; to: number; amount: bigint; leader: number; seq: number }): ReceiptedTransfer {
    const transfer = {
      id: randomTransferId(),
      epoch: opts.epoch,
      from: this.member(opts.from).address,
      to: this.member(opts.to).address,
      amount: opts.amount,
    }
    const digest = this.digests.transfer(transfer)
    return {
      transfer,
      seq: opts.seq,
      senderSig: signDigest(this.member(opts.from).key, digest),
      receiverSig: signDigest(this.member(opts.to).key, digest),
      leaderSig: signDigest(
        this.member(opts.leader).key,
        this.digests.receipt({ transfer: hashTransfer(transfer), epoch: opts.epoch, seq: opts.seq }),
      ),
    }
  }

  /** Lands epoch 1 (led by member 0, handing over to member 1) crediting every member's deposit. */
  async checkpointDeposits(): Promise<Checkpoint> {
    const cp = plainCheckpoint(1n, this.members.map(() => this.deposit))
    await this.as(0).submitCheckpoint(cp, this.sign(cp))
    return cp
  }

  /**
   * What a challenger shows to prove `leader` led `epoch`: a proposal of that epoch signed by it (an empty one,
   * from the deposits, unless `cp` is given).
   */
  led(epoch: bigint, leader: number, cp?: Checkpoint): LeaderEvidence {
    const checkpoint = cp ?? plainCheckpoint(epoch, this.members.map(() => this.deposit), { leader, nextLeader: (leader + 1) % this.members.length })
    return { checkpoint, sig: signDigest(this.member(leader).key, this.digests.checkpoint(checkpoint)) }
  }

  /** Signatures of the checkpoint by the given members (default all); '0x' in the others' slots. */
  sign(cp: Checkpoint, signers: readonly number[] = this.members.map((m) => m.index)): Hex[] {
    const digest = this.digests.checkpoint(cp)
    return cp.balances.map((_, i) => (signers.includes(i) ? signDigest(this.member(i).key, digest) : '0x'))
  }
}

/** The Merkle root and count of receipted transfers, as a checkpoint carries them. */
export function txSummary(txs: readonly ReceiptedTransfer[]): { txRoot: Hex; txCount: number } {
  return { txRoot: merkleRoot(txs.map(receiptLeaf)), txCount: txs.length }
}

export const ZERO_ROOT: Hex = `0x${'00'.repeat(32)}`

export function randomPeerKey(): Hex {
  return hexlify(randomBytes(32)) as Hex
}

/**
 * Deploys a channel and has `members` dev accounts join it with `deposit` each. Accounts are taken from the devnet
 * starting at `firstAccount`, so several channels in one file can use distinct or shared accounts as a test needs.
 */
export async function openChannel(
  devnet: Devnet,
  opts: { members?: number; deposit?: bigint; params?: Partial<ChannelParams>; firstAccount?: number; outsiders?: number } = {},
): Promise<ChannelFixture> {
  const n = opts.members ?? 3
  const first = opts.firstAccount ?? 0
  const deposit = opts.deposit ?? parseEther('10')
  const wallets = devnet.keys.map((k) => new Wallet(k, devnet.provider))
  const memberWallets = wallets.slice(first, first + n)
  if (memberWallets.length < n) throw new Error(`devnet has too few accounts for ${n} members`)
  const deployer = memberWallets[0] as Wallet
  const channel = await ChannelClient.deploy(deployer, { ...DEFAULT_PARAMS, ...opts.params })
  const members: TestMember[] = []
  for (const [index, wallet] of memberWallets.entries()) {
    const peerKey = randomPeerKey()
    await channel.as(wallet).join(peerKey, deposit)
    members.push({ index, wallet, key: wallet.signingKey, address: wallet.address, peerKey })
  }
  const outsiders = wallets.filter((w) => !memberWallets.includes(w)).slice(0, opts.outsiders ?? 2)
  return new ChannelFixture(devnet, channel, members, outsiders, deposit)
}

/** A checkpoint for `epoch` that moves nothing: every balance equals the member's included deposit. */
export function plainCheckpoint(
  epoch: bigint,
  deposited: bigint[],
  opts: Partial<Omit<Checkpoint, 'epoch' | 'deposited'>> = {},
): Checkpoint {
  return {
    epoch,
    leader: 0,
    nextLeader: 1 % deposited.length,
    balances: [...deposited],
    deposited,
    exitMask: 0n,
    txRoot: ZERO_ROOT,
    txCount: 0,
    ...opts,
  }
}

/** The malleable twin of a valid signature: s' = n - s with v flipped. It recovers the same key. */
export function highS(sig: Hex): Hex {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
  const r = sig.slice(2, 66)
  const s = BigInt(`0x${sig.slice(66, 130)}`)
  const v = parseInt(sig.slice(130, 132), 16)
  return `0x${r}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex
}

/** Asserts that a chain call fails with the contract's revert `code` (a ChainError, not a raw ethers error). */
export async function assertRevert(call: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof ChainError, `expected a ChainError, got ${String(err)}`)
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
    return true
  })
}
