// Bundles Electron's main process, the core's utility-process entry and the preload script into app/main/dist.
// npm packages stay external (native modules load from node_modules, unpacked from the asar); the preload is
// CommonJS, as sandboxed preloads must be.
import { build, type BuildOptions } from 'esbuild'

const common: BuildOptions = { bundle: true, platform: 'node', target: 'node20', packages: 'external', external: ['electron'], logLevel: 'warning' }

await Promise.all([
  build({ ...common, entryPoints: ['app/main/main.ts'], outfile: 'app/main/dist/main.mjs', format: 'esm' }),
  build({ ...common, entryPoints: ['app/main/core-host.ts'], outfile: 'app/main/dist/core-host.mjs', format: 'esm' }),
  build({ ...common, packages: 'bundle', entryPoints: ['app/preload/preload.ts'], outfile: 'app/main/dist/preload.cjs', format: 'cjs' }),
])
console.log('built app/main/dist (main.mjs, core-host.mjs, preload.cjs)')
