/** What a failed model call was, and whether trying again can help. */
export interface FailureClass {
  retryable: boolean;
  /** Short reason for events and messages: "rate-limited", "server-error", "timeout", … */
  reason: string;
  status?: number;
  /** How long the provider asked us to wait (Retry-After / retry-after-ms), when it said. */
  retryAfterMs?: number;
}

const RETRYABLE_STATUS = new Set([408, 409, 429]);
const CONNECTION_CODES = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|UND_ERR_SOCKET|socket hang up|other side closed|terminated|Connection error/i;

/**
 * Classifies a failed call: rate limits (429, but never `insufficient_quota`), 408, 409, 5xx,
 * connection resets and timeouts are worth another try; other 4xx (bad request, auth, unknown
 * model) and everything else are not — retrying them only repeats the failure.
 */
export function classifyFailure(error: unknown): FailureClass {
  // Conclave's own refusals (budget, rate-limit deadline, quota) are decisions, not faults.
  if (isConclaveRefusal(error)) return { retryable: false, reason: String((error as { code: string }).code).toLowerCase().replace(/_/g, "-") };
  const status = statusOf(error);
  const retryAfterMs = retryAfterOf(error);
  const text = `${(error as { name?: string })?.name ?? ""} ${(error as { message?: string })?.message ?? ""} ${codeOf(error) ?? ""}`;
  if (status === 429 && /insufficient_quota|exceeded your current quota|billing/i.test(`${codeOf(error) ?? ""} ${text}`)) return { retryable: false, reason: "quota-exhausted", status };
  if (status !== undefined) {
    if (status === 429) return { retryable: true, reason: "rate-limited", status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    if (RETRYABLE_STATUS.has(status) || status >= 500) return { retryable: true, reason: status >= 500 ? "server-error" : `status-${status}`, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    return { retryable: false, reason: `status-${status}`, status };
  }
  if (/TimeoutError|APIConnectionTimeoutError|timed out|timeout/i.test(text)) return { retryable: true, reason: "timeout" };
  if (/APIConnectionError/.test(text) || CONNECTION_CODES.test(text)) return { retryable: true, reason: "connection" };
  return { retryable: false, reason: "error" };
}

function isConclaveRefusal(error: unknown): boolean {
  const value = error as { code?: unknown; category?: unknown } | undefined;
  return typeof value?.code === "string" && typeof value.category === "string";
}

function statusOf(error: unknown): number | undefined {
  const candidate = (error as { status?: unknown; response?: { status?: unknown } } | undefined) ?? {};
  const status = candidate.status ?? candidate.response?.status;
  return typeof status === "number" ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  const value = error as { code?: unknown; error?: { code?: unknown }; cause?: { code?: unknown } } | undefined;
  const code = value?.code ?? value?.error?.code ?? value?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

/** `retry-after-ms` (milliseconds) wins over `retry-after` (seconds or an HTTP date). */
export function retryAfterOf(error: unknown): number | undefined {
  const headers = (error as { headers?: unknown; response?: { headers?: unknown } } | undefined)?.headers ?? (error as { response?: { headers?: unknown } } | undefined)?.response?.headers;
  const read = (name: string): string | undefined => {
    if (!headers) return undefined;
    if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
    const value = (headers as Record<string, unknown>)[name] ?? (headers as Record<string, unknown>)[name.toLowerCase()];
    return typeof value === "string" ? value : undefined;
  };
  const ms = Number(read("retry-after-ms"));
  if (Number.isFinite(ms) && ms >= 0 && read("retry-after-ms") !== undefined) return ms;
  const raw = read("retry-after");
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
