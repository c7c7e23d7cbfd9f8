import { sign, recover } from '../protocol/fast-ecdsa.js'
const key = ('0x' + '11'.repeat(32)) as `0x${string}`
const digest = ('0x' + '22'.repeat(32)) as `0x${string}`
const s = sign(key, digest)
const n = Number(process.argv[2] ?? 20000)
const t0 = process.cpuUsage(); const w0 = performance.now()
for (let i = 0; i < n; i++) { recover(digest, s); if (i % 50 === 0) await new Promise((r) => setImmediate(r)) }
const c = process.cpuUsage(t0)
console.log(((c.user + c.system) / n).toFixed(1), 'us cpu/recover', ((performance.now() - w0) * 1000 / n).toFixed(1), 'us wall')
