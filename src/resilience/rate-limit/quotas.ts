import { ConfigError } from "../../errors.ts";
import { QuotaExceededError } from "./errors.ts";
import { KeyTable } from "./keys.ts";

/** Hard caps per key for the limiter's whole life; tokens count what calls settled at, not estimates. */
export interface QuotaSpec {
  requests?: number;
  tokens?: number;
}

/** What each key with a quota has used so far. Keys without a quota are not tracked. */
export class QuotaLedger {
  private readonly quotas: KeyTable<QuotaSpec>;
  private readonly used = new Map<string, { requests: number; tokens: number }>();

  constructor(quotas: Record<string, QuotaSpec>) {
    for (const [pattern, quota] of Object.entries(quotas)) {
      for (const [field, value] of Object.entries(quota)) {
        if (value !== undefined && (!(value >= 0) || !Number.isFinite(value))) throw new ConfigError(`Quota "${pattern}" has ${field} ${value}; use 0 or more, or leave it out for no quota.`, { details: { pattern, field, value } });
      }
    }
    this.quotas = new KeyTable(quotas);
  }

  /** The error to refuse a call of `tokens` with, or undefined if every key's quota has room. */
  check(keys: string[], tokens: number): QuotaExceededError | undefined {
    for (const key of keys) {
      const quota = this.quotas.match(key);
      const used = this.usageOf(key);
      if (!quota || !used) continue;
      const { requests, tokens: tokenQuota } = quota.value;
      if (requests !== undefined && used.requests + 1 > requests) return new QuotaExceededError({ key, kind: "requests", pattern: quota.pattern, quota: requests, used: used.requests, requested: 1 });
      // A call with no estimate still spends tokens, so a quota already spent refuses it too.
      if (tokenQuota !== undefined && (used.tokens + tokens > tokenQuota || used.tokens >= tokenQuota)) return new QuotaExceededError({ key, kind: "tokens", pattern: quota.pattern, quota: tokenQuota, used: used.tokens, requested: tokens });
    }
    return undefined;
  }

  /** Counts a granted call: one request and its estimated tokens. */
  record(keys: string[], tokens: number): void {
    for (const key of keys) {
      const used = this.usageOf(key);
      if (!used) continue;
      used.requests += 1;
      used.tokens += tokens;
    }
  }

  /** Replaces a call's estimate with what it really used. */
  adjustTokens(keys: string[], delta: number): void {
    for (const key of keys) {
      const used = this.usageOf(key);
      if (used) used.tokens = Math.max(0, used.tokens + delta);
    }
  }

  private usageOf(key: string): { requests: number; tokens: number } | undefined {
    let used = this.used.get(key);
    if (!used && this.quotas.match(key)) this.used.set(key, (used = { requests: 0, tokens: 0 }));
    return used;
  }
}
