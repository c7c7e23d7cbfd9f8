// `npm start`: the desktop app on the embedded sandbox network. Where Electron cannot start (its binary was not
// downloaded, or there is no display) it says so in one line and serves the same UI to a browser instead.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

function electronBinary(): string | undefined {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown
    return typeof path === 'string' && existsSync(path) ? path : undefined
  } catch {
    return undefined
  }
}

const extra = process.argv.slice(2)
const binary = electronBinary()
const display = process.platform !== 'linux' || !!process.env.DISPLAY || !!process.env.WAYLAND_DISPLAY
let child
if (binary && display) {
  child = spawn(binary, ['.', ...extra], { stdio: 'inherit' })
} else {
  const why = !binary ? 'its binary is not installed' : 'there is no display'
  console.log(`Electron cannot start here (${why}): serving the same UI to a browser instead.`)
  child = spawn(process.execPath, ['--import', 'tsx', 'core/cli/main.ts', 'node', '--ui', ...extra], { stdio: 'inherit' })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
child.on('exit', (code) => process.exit(code ?? 0))
