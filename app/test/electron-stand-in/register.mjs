// `--import` this to have `import ... from 'electron'` load the stand-in.
import { register } from 'node:module'

register('./hook.mjs', import.meta.url)
