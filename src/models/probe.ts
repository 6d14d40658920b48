import type { ModelConfig } from "../config/schema.ts";
import { breakers } from "../resilience/breakers.ts";
import { DEFAULT_RESILIENCE, callWithResilience } from "../resilience/model-policy.ts";
import { DEFAULT_OPENAI_MODEL } from "./openai.ts";
import { effectiveProvider } from "./resolve.ts";

/** What a probe of a model endpoint found. */
export interface ModelProbe {
  ok: boolean;
  detail: string;
  latencyMs?: number;
  breaker?: string;
}

/**
 * Reaches the model's endpoint (GET /models) through the same breaker a run would use, and checks
 * that the configured model is listed. The offline model needs no network and is always ok.
 * Used by `conclave doctor` and the service's `GET /ready`.
 */
export async function probeModel(settings: ModelConfig): Promise<ModelProbe> {
  if (effectiveProvider(settings) === "offline") return { ok: true, detail: "conclave-offline (built in, no network needed)" };
  const name = settings.name ?? DEFAULT_OPENAI_MODEL;
  const base = (settings.baseUrl ?? "https://api.openai.com/v1").replace(/\/$/, "");
  const key = `openai-compatible:${name}`;
  const started = Date.now();
  try {
    const listed = await callWithResilience(async (signal) => {
      const response = await fetch(`${base}/models`, { signal, headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {} });
      if (!response.ok) throw Object.assign(new Error(`${base}/models answered ${response.status}`), { status: response.status });
      return ((await response.json()) as { data?: Array<{ id?: string }> }).data ?? [];
    }, { key, options: { ...DEFAULT_RESILIENCE, maxRetries: 0, timeoutMs: Math.min(settings.timeoutMs, 10_000) } });
    // Servers list tagged names ("llama3.1:latest"); a listed name that starts with ours counts.
    const known = listed.length === 0 || listed.some((entry) => entry.id === name || entry.id?.startsWith(`${name}:`));
    return { ok: known, detail: `${name} at ${base}: reachable${listed.length ? (known ? ", model listed" : `, but "${name}" is not among its ${listed.length} models — check CONCLAVE_MODEL`) : ""}`, latencyMs: Date.now() - started, breaker: breakers.stateOf(key) ?? "closed" };
  } catch (error) {
    return { ok: false, detail: `${name} at ${base}: unreachable (${(error as Error).message}). Start the server or fix OPENAI_BASE_URL / the fallback's baseUrl.`, latencyMs: Date.now() - started, breaker: breakers.stateOf(key) ?? "closed" };
  }
}
