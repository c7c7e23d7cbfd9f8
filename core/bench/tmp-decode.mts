import { Wallet } from 'ethers'
import { encodeEntry, decodeEntry } from '../protocol/entries.js'
import { randomTransferId } from '../protocol/signatures.js'
const a = Wallet.createRandom().address, b = Wallet.createRandom().address
const sig = ('0x' + 'ab'.repeat(65)) as `0x${string}`
const transfer = { id: randomTransferId(), epoch: 3n, from: a, to: b, amount: 12345678901234n }
const es = {
  request: encodeEntry({ type: 'request', transfer, senderSig: sig }),
  countersign: encodeEntry({ type: 'countersign', transfer, senderSig: sig, receiverSig: sig }),
  receipt: encodeEntry({ type: 'receipt', tx: { transfer, seq: 7, senderSig: sig, receiverSig: sig, leaderSig: sig } }),
}
for (const [k, bytes] of Object.entries(es)) {
  for (let r = 0; r < 3; r++) {
    const n = 200_000; const t = performance.now()
    for (let i = 0; i < n; i++) decodeEntry(bytes)
    if (r === 2) console.log(k, bytes.length, 'bytes', ((performance.now() - t) * 1000 / n).toFixed(2), 'us')
  }
}
