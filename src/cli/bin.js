#!/usr/bin/env node
// The `conclave` bin: registers tsx so the CLI — and the TypeScript graphs it loads by path — run
// without a build step, then starts the CLI.
import { register } from "tsx/esm/api";

register();
const { runAsProgram } = await import("./main.ts");
await runAsProgram();
