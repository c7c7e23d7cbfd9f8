#!/usr/bin/env node
// The installed `offchain-channel` command (package.json "bin"). The code is TypeScript, which Node 20 does not
// run by itself: this registers tsx (a runtime dependency) with the package's own tsconfig.json, whatever the
// working directory, then runs main.ts. The sandbox starts its peers through this file too.
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) })
await import('./main.ts')
