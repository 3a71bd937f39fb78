#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so `npx kizu` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/cli.ts');
process.exitCode = await main(process.argv);
