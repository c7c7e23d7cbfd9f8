// A worker's entry: registers tsx in the worker's own thread, then loads the TypeScript member.
import { register } from 'tsx/esm/api'

register()
await import('./member-worker.ts')
