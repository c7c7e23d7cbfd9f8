// Gas benchmark (a benchmark, not a test): submitCheckpoint for 2..64 members, a majority's checkpoint (propose, then
// finalize after the window), and a whole dispute (challenge + respond + resolve) for 1..1024 transfers per list, the
// lists in chunks of LIST_CHUNK entries a transaction, with the gas per list entry and the largest single transaction
// of the worst dispute the app's settings allow.
// Usage: npm run bench:gas [-- --json FILE]
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { parseEther } from 'ethers'
import { CHANNEL_LIMITS, LIST_CHUNK, startDevnet, type ListResult } from '../../core/chain/index.js'
import { openChannel, plainCheckpoint } from '../test/fixture.js'

const MEMBER_COUNTS = [2, 4, 8, 16, 32, 64]
const LIST_LENGTHS = [1, 16, 64, 128, 256, 1024]
const TX_CAP = CHANNEL_LIMITS.maxTxCap // what the app deploys
const TX_GAS_CAP = 16_777_216n // EIP-7825: the most one transaction may use
const BLOCK_GAS = 30_000_000n
const checkpointBudget = (n: number): bigint => 15_000n * BigInt(n) + 60_000n

const { values } = parseArgs({ options: { json: { type: 'string' } } })
const E = (n: string): bigint => parseEther(n)

const devnet = await startDevnet({ accounts: Math.max(...MEMBER_COUNTS) + 2, balanceEth: 1000, gasLimit: BLOCK_GAS })
try {
  const checkpoint: Array<{ participants: number; gas: number }> = []
  console.log('submitCheckpoint (epoch 2, every balance changed, all signatures checked)\n')
  console.log('| members | gas | budget 15,000 n + 60,000 | gas ÷ members |')
  console.log('|---:|---:|---:|---:|')
  for (const n of MEMBER_COUNTS) {
    const f = await openChannel(devnet, { members: n, deposit: E('1') })
    const deposited = Array.from({ length: n }, () => E('1'))
    await f.checkpointDeposits()
    // Every member pays the next one a little: all balances change, as in a busy epoch.
    const balances = deposited.map((d, i) => (i === 0 ? d - 1000n * BigInt(n - 1) : d + 1000n))
    const cp2 = plainCheckpoint(2n, deposited, { leader: 1 % n, nextLeader: 2 % n, balances, txCount: n - 1, txRoot: `0x${'11'.repeat(32)}` })
    const r = await f.as(1 % n).submitCheckpoint(cp2, f.sign(cp2))
    const budget = checkpointBudget(n)
    checkpoint.push({ participants: n, gas: Number(r.gasUsed) })
    console.log(`| ${n} | ${fmt(r.gasUsed)} | ${fmt(budget)} ${r.gasUsed <= budget ? 'ok' : 'OVER'} | ${fmt(r.gasUsed / BigInt(n))} |`)
  }

  const quorum: Array<{ participants: number; propose: number; finalize: number }> = []
  console.log('\nA majority\'s checkpoint: proposeCheckpoint with a majority of the votes, finalizeCheckpoint after the window\n')
  console.log('| members | votes | propose | finalize | total | gas ÷ members |')
  console.log('|---:|---:|---:|---:|---:|---:|')
  for (const n of MEMBER_COUNTS) {
    const window = 2
    const f = await openChannel(devnet, { members: n, deposit: E('1'), params: { challengeWindow: BigInt(window) } })
    const deposited = Array.from({ length: n }, () => E('1'))
    const cp1 = await f.checkpointDeposits()
    const balances = deposited.map((d, i) => (i === 0 ? d - 1000n * BigInt(n - 1) : d + 1000n))
    const cp2 = plainCheckpoint(2n, deposited, { leader: 1 % n, nextLeader: 2 % n, balances, txCount: n - 1, txRoot: `0x${'11'.repeat(32)}` })
    const voters = Array.from({ length: Math.floor(n / 2) + 1 }, (_, i) => (1 + i) % n)
    const p = await f.as(1 % n).proposeCheckpoint(cp2, f.sign(cp2, voters))
    await devnet.increaseTime(window + 1)
    const z = await f.as(1 % n).finalizeCheckpoint(cp2, { balances: cp1.balances, deposited: cp1.deposited })
    const total = p.gasUsed + z.gasUsed
    quorum.push({ participants: n, propose: Number(p.gasUsed), finalize: Number(z.gasUsed) })
    console.log(`| ${n} | ${voters.length} | ${fmt(p.gasUsed)} | ${fmt(z.gasUsed)} | ${fmt(total)} | ${fmt(total / BigInt(n))} |`)
  }

  const dispute: Array<{ transfers: number; gas: number; transactions: number; largestTx: number }> = []
  console.log(`\nWhole dispute, both lists verified in full (challenger lists T, leader answers T - 1; cap ${TX_CAP}, ${LIST_CHUNK} entries a transaction)\n`)
  console.log('| transfers | challenge | respond | resolve | total | transactions | largest transaction | under the 16.7M cap |')
  console.log('|---:|---:|---:|---:|---:|---:|---:|:---:|')
  let previous: { t: number; c: bigint; r: bigint } | undefined
  const perEntry: string[] = []
  for (const t of LIST_LENGTHS) {
    const f = await openChannel(devnet, { members: 3, deposit: E('10'), params: { txCap: TX_CAP }, firstAccount: 0 })
    await f.checkpointDeposits()
    const txs = Array.from({ length: t }, (_, seq) =>
      f.receipted({ epoch: 2n, from: seq % 2 === 0 ? 0 : 1, to: seq % 2 === 0 ? 1 : 0, amount: 1000n + BigInt(seq), leader: 1, seq }),
    )
    const c = await f.as(0).challenge(2n, 1, txs, f.led(2n, 1))
    const r = await f.as(1).respond(txs.slice(0, -1))
    const z = await f.channel.resolve()
    const total = c.gasUsed + r.gasUsed + z.gasUsed
    const transactions = [...c.parts, ...r.parts, z]
    const largest = transactions.map((p) => p.gasUsed).reduce((a, b) => (a > b ? a : b))
    dispute.push({ transfers: t, gas: Number(total), transactions: transactions.length, largestTx: Number(largest) })
    console.log(`| ${t} | ${fmt(c.gasUsed)}${parts(c)} | ${fmt(r.gasUsed)}${parts(r)} | ${fmt(z.gasUsed)} | ${fmt(total)} | ${transactions.length} | ${fmt(largest)} | ${largest <= TX_GAS_CAP ? 'yes' : 'NO'} |`)
    if (previous) {
      const n = BigInt(t - previous.t)
      perEntry.push(`${previous.t + 1}..${t}: challenge ${fmt((c.gasUsed - previous.c) / n)}, respond ${fmt((r.gasUsed - previous.r) / n)} gas per entry`)
    }
    previous = { t, c: c.gasUsed, r: r.gasUsed }
  }
  console.log(`\nGas per list entry (from the rows above): ${perEntry.join('; ')}.`)
  console.log(`The worst dispute the app's settings allow (a member at the cap of ${TX_CAP}): its largest transaction is the row for ${TX_CAP}.`)

  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify({ checkpoint, quorum, dispute }, null, 2)}\n`)
    console.log(`\nwrote ${values.json}`)
  }
} finally {
  await devnet.stop()
}

function parts(r: ListResult): string {
  return r.parts.length > 1 ? ` (${r.parts.length} transactions)` : ''
}

function fmt(v: bigint): string {
  return v.toLocaleString('en-US')
}
