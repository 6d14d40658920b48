/** Test helpers for Conclave users: a scripted model and a fault-injecting OpenAI-compatible server. */
export { ScriptedChatModel, scriptedModel } from "./scripted-model.ts";
export type { RecordedMessage } from "./scripted-model.ts";
export * from "./openai-server.ts";
export { unusedPort } from "./ports.ts";
