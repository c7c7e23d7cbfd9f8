// Core benchmark (a benchmark, not a test): receipted transfers per second through one leader with 4 members over
// the in-memory bus against a real anvil chain, request-to-receipt latency, the libsecp256k1 recovery rate and the
// ceiling it sets, the leader's own pipeline alone, and a 16-member epoch close without the chain call.
// Usage: npm run bench:core [-- --json FILE] [-- --transfers N]
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { Wallet, hexlify, parseEther, randomBytes } from 'ethers'
import { openChannel } from '../../contracts/test/fixture.js'
import { CHANNEL_LIMITS, startDevnet } from '../chain/index.js'
import { ThreadedMembers } from './threaded-members.js'
import { inMemoryRun, type Run } from './in-memory-run.js'
import { EpochLedger, type EpochOpening } from '../ledger/epoch-ledger.js'
import {
  ChannelDigests,
  decodeEntry,
  encodeEntry,
  randomTransferId,
  type Checkpoint,
  type Hex,
  type Transfer,
} from '../protocol/index.js'
import { recover, sign } from '../protocol/fast-ecdsa.js'

const { values } = parseArgs({ options: { json: { type: 'string' }, transfers: { type: 'string', default: '4000' } } })
const TOTAL = Number(values.transfers)
const WARM_UP = 1000

const now = (): number => performance.now()
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

/** libsecp256k1's own recovery rate, through the secp256k1 package's binding (no checks or hashing of ours). */
function recoveriesPerSecond(): number {
  const native = createRequire(import.meta.url)('secp256k1/bindings') as {
    ecdsaSign(m: Uint8Array, k: Uint8Array): { signature: Uint8Array; recid: number }
    ecdsaRecover(s: Uint8Array, r: number, m: Uint8Array, c: boolean): Uint8Array
  }
  const key = randomBytes(32)
  const samples = Array.from({ length: 2000 }, () => {
    const msg = randomBytes(32)
    return { msg, ...native.ecdsaSign(msg, key) }
  })
  let n = 0
  const start = now()
  while (now() - start < 2000) for (const s of samples) (native.ecdsaRecover(s.signature, s.recid, s.msg, false), n++)
  return n / ((now() - start) / 1000)
}

/** The leader's work per transfer alone: admit (two recoveries), sign the receipt, encode the entry. */
function leaderPipeline(count: number, digests: ChannelDigests, wallets: Wallet[]): number {
  const opening: EpochOpening = {
    epoch: 2n,
    leader: 0,
    members: wallets.map((w) => w.address),
    exited: wallets.map(() => false),
    balances: wallets.map(() => 10n ** 30n),
    txCap: count * 2,
  }
  const ready = Array.from({ length: count }, (_, i) => {
    const from = wallets[i % wallets.length] as Wallet
    const to = wallets[(i + 1) % wallets.length] as Wallet
    const transfer: Transfer = { id: randomTransferId(), epoch: 2n, from: from.address, to: to.address, amount: 1n }
    const d = digests.transfer(transfer)
    return { transfer, senderSig: sign(from.privateKey as Hex, d), receiverSig: sign(to.privateKey as Hex, d) }
  })
  const ledger = new EpochLedger(opening, { digests, recover })
  const leaderKey = (wallets[0] as Wallet).privateKey as Hex
  const start = now()
  for (const c of ready) {
    const r = ledger.admit(c.transfer, c.senderSig, c.receiverSig)
    if (!r.ok) throw new Error(r.rejection.code)
    const leaderSig = sign(leaderKey, digests.receipt({ transfer: r.value.transferHash, epoch: 2n, seq: r.value.seq }))
    encodeEntry({ type: 'receipt', tx: { ...r.value.tx, leaderSig } })
  }
  return count / ((now() - start) / 1000)
}

/** Propose, every vote, confirmation, for 16 members in one process (each member's checks done in turn). */
function epochClose16(digests: ChannelDigests): { sequential: number; critical: number } {
  const wallets = Array.from({ length: 16 }, () => new Wallet(hexlify(randomBytes(32))))
  const opening: EpochOpening = {
    epoch: 2n,
    leader: 0,
    members: wallets.map((w) => w.address),
    exited: wallets.map(() => false),
    balances: wallets.map(() => 10n ** 20n),
    txCap: 1000,
  }
  // The leader's ledger with 256 receipts; each member replays them into a fresh ledger every run (outside the
  // timing), so every run computes the Merkle root as a real epoch close does.
  const leader = new EpochLedger(opening, { digests, recover })
  for (let i = 0; i < 256; i++) {
    const from = wallets[i % 16] as Wallet
    const to = wallets[(i * 5 + 3) % 16] as Wallet
    if (from === to) continue
    const transfer: Transfer = { id: randomTransferId(), epoch: 2n, from: from.address, to: to.address, amount: 7n }
    const d = digests.transfer(transfer)
    const r = leader.admit(transfer, sign(from.privateKey as Hex, d), sign(to.privateKey as Hex, d))
    if (!r.ok) throw new Error(r.rejection.code)
  }
  const replayed = (): EpochLedger[] =>
    wallets.map(() => {
      const l = new EpochLedger(opening, { digests, recover })
      for (const tx of leader.receipts()) l.applyReceipt(tx, false)
      return l
    })
  const deposited = wallets.map(() => 10n ** 20n)
  const next = { nextLeader: 1, deposited, prevDeposited: deposited, exitMask: 0n }
  // Sequential: all sixteen members' work on one core. Critical path: members check and vote in parallel on their
  // own machines, so only one member's share counts, plus the leader's before and after.
  const sequential: number[] = []
  const critical: number[] = []
  for (let run = 0; run < 15; run++) {
    const ledgers = replayed()
    const t0 = now()
    const cp: Checkpoint = (ledgers[0] as EpochLedger).checkpoint(next)
    const proposal = encodeEntry({ type: 'proposal', checkpoint: cp, sig: sign(wallets[0]!.privateKey as Hex, digests.checkpoint(cp)) })
    const t1 = now()
    const votes: Uint8Array[] = []
    let slowestMember = 0
    for (let m = 1; m < 16; m++) {
      const m0 = now()
      const e = decodeEntry(proposal)
      if (e.type !== 'proposal') throw new Error('not a proposal')
      const digest = digests.checkpoint(e.checkpoint)
      if (recover(digest, e.sig) !== wallets[0]!.address.toLowerCase()) throw new Error('bad proposal signature')
      const mine = (ledgers[m] as EpochLedger).checkpoint(next)
      if (mine.txRoot !== e.checkpoint.txRoot || mine.balances.some((b, i) => b !== e.checkpoint.balances[i])) throw new Error('disagree')
      votes.push(encodeEntry({ type: 'vote', epoch: 2n, leader: 0, sig: sign(wallets[m]!.privateKey as Hex, digest) }))
      slowestMember = Math.max(slowestMember, now() - m0)
    }
    const t2 = now()
    const digest = digests.checkpoint(cp)
    for (const [i, v] of votes.entries()) {
      const e = decodeEntry(v)
      if (e.type !== 'vote' || recover(digest, e.sig) !== wallets[i + 1]!.address.toLowerCase()) throw new Error('bad vote')
    }
    encodeEntry({ type: 'confirm', epoch: 2n, leader: 0, txHash: hexlify(randomBytes(32)) as Hex })
    const t3 = now()
    sequential.push(t3 - t0)
    critical.push(t1 - t0 + slowestMember + (t3 - t2))
  }
  return {
    sequential: percentile(sequential.sort((a, b) => a - b), 50),
    critical: percentile(critical.sort((a, b) => a - b), 50),
  }
}

/**
 * The same saturated load with each member in its own worker thread, as on separate machines: the leader's thread
 * keeps a core, the other three share the second one (this machine has two).
 */
async function threaded(): Promise<Run> {
  const devnet = await startDevnet({ accounts: 6 })
  try {
    const f = await openChannel(devnet, { members: 4, deposit: parseEther('1'), params: { txCap: CHANNEL_LIMITS.maxTxCap } })
    const members = await ThreadedMembers.start({
      rpcUrl: devnet.rpcUrl,
      chainId: devnet.chainId,
      channel: f.channel.address,
      keys: f.members.map((m) => m.wallet.privateKey as Hex),
      timing: { epochMs: 600_000, leaderTimeoutMs: 600_000, chainPollMs: 100 },
    })
    try {
      members.closeEpochNow(0) // epoch 1 credits the deposits
      while (members.epochs.some((e) => e < 2n)) await new Promise((r) => setTimeout(r, 20))
      await members.load(WARM_UP, 64)
      const { transfersPerSecond, latencies } = await members.load(TOTAL, 64)
      return { transfersPerSecond, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) }
    } finally {
      await members.stop()
    }
  } finally {
    await devnet.stop()
  }
}

const digests = new ChannelDigests({ chainId: 31337n, verifyingContract: Wallet.createRandom().address })
const rps = recoveriesPerSecond()
const ceiling = rps / 2
const { saturated: e2e, light } = await inMemoryRun(TOTAL, WARM_UP)
const inThreads = await threaded()
const leaderOnly = leaderPipeline(4000, digests, Array.from({ length: 4 }, () => new Wallet(hexlify(randomBytes(32)))))
const close16 = epochClose16(digests)

const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
console.log(`libsecp256k1 recoveries per second        ${fmt(rps)}`)
console.log(`ceiling (half of that: 2 per transfer)    ${fmt(ceiling)} transfers/s`)
console.log(`4 members, one process, in-memory bus     ${fmt(e2e.transfersPerSecond)} receipted transfers/s (${TOTAL} transfers)`)
console.log(`  request to receipt, saturated          p50 ${fmt(e2e.p50Ms, 1)} ms, p99 ${fmt(e2e.p99Ms, 1)} ms (256 in flight)`)
console.log(`  request to receipt, one at a time      p50 ${fmt(light.p50Ms, 1)} ms, p99 ${fmt(light.p99Ms, 1)} ms`)
console.log(`4 members, worker threads, in-memory bus ${fmt(inThreads.transfersPerSecond)} receipted transfers/s (p50 ${fmt(inThreads.p50Ms, 1)} ms, p99 ${fmt(inThreads.p99Ms, 1)} ms)`)
console.log(`leader pipeline alone (admit+sign+encode) ${fmt(leaderOnly)} transfers/s (${fmt((100 * leaderOnly) / ceiling)}% of the ceiling)`)
console.log(`epoch close, 16 members, chain excluded   ${fmt(close16.critical, 1)} ms critical path (members in parallel), ${fmt(close16.sequential, 1)} ms all on one core (target < 50 ms)`)
if (values.json) {
  const out = {
    transfersPerSecond: e2e.transfersPerSecond,
    p50Ms: e2e.p50Ms,
    p99Ms: e2e.p99Ms,
    recoveriesPerSecond: rps,
    epochCloseMs16: close16.critical,
    epochCloseMs16OneCore: close16.sequential,
    leaderOnlyTransfersPerSecond: leaderOnly,
    threadedTransfersPerSecond: inThreads.transfersPerSecond,
    threadedP50Ms: inThreads.p50Ms,
    threadedP99Ms: inThreads.p99Ms,
    lightLoadP50Ms: light.p50Ms,
    lightLoadP99Ms: light.p99Ms,
  }
  writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`wrote ${values.json}`)
}
