import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import { continueThread } from "../execute.ts";
import type { CliIO } from "../output.ts";
import { checkpointHistory, requireThread, threadGraph, withWorkspace } from "./threads.ts";

/** `conclave fork THREAD --at CHECKPOINT [--model NAME]`: continues a thread from an earlier checkpoint (time travel), optionally with another model. */
export async function forkCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("fork", argv, { at: { type: "string" }, model: { type: "string" }, "base-url": { type: "string" }, provider: { type: "string" }, json: { type: "boolean" }, quiet: { type: "boolean" }, verbose: { type: "boolean" } });
  const threadId = positionals[0];
  if (!threadId || !values.at) throw new UsageError('conclave fork: usage: conclave fork THREAD --at CHECKPOINT [--model NAME] ("conclave inspect THREAD" lists the checkpoints).');
  const flag = (value: unknown, name: string) => ({ value, flag: `--${name}` });
  const flags = { "model.name": flag(values.model, "model"), "model.baseUrl": flag(values["base-url"], "base-url"), "model.provider": flag(values.provider, "provider") };
  return withWorkspace(io, values.config, async (workspace) => {
    const thread = requireThread(workspace, "fork", threadId);
    if (thread.status === "running") throw new UsageError(`conclave fork: thread "${threadId}" is running in process ${thread.pid}; fork it once that run ends.`);
    const history = await checkpointHistory(await threadGraph(workspace, thread), threadId);
    const at = history.find((entry) => entry.checkpointId === values.at || entry.checkpointId.startsWith(values.at!));
    if (!at) throw new UsageError(`conclave fork: thread "${threadId}" has no checkpoint "${values.at}". Its checkpoints: ${history.map((entry) => `${entry.checkpointId} (step ${entry.step})`).slice(-8).join(", ")}. See conclave inspect ${threadId}.`);
    if (!values.quiet) io.stderr(`forking thread ${threadId} from checkpoint ${at.checkpointId} (step ${at.step}, next: ${at.next.join(",") || "-"})\n`);
    return continueThread(thread, { kind: "resume", checkpointId: at.checkpointId }, { workspace, io, signal }, values);
  }, { flags });
}
