// Runs every *.test.ts under contracts/, core/ and app/ with node's own test runner (Node 20's --test takes no
// globs). Files run one at a time: each starts its own chain and processes. Extra arguments pass through to node
// (e.g. --test-name-pattern=dispute).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const roots = ['contracts', 'core', 'app'].filter((d) => existsSync(d))
const files = roots
  .flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).map((f) => join(d, f)))
  .filter((f) => f.endsWith('.test.ts') && !f.split(/[\\/]/).includes('node_modules'))
  .sort()
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', ...process.argv.slice(2), ...files]
const result = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
