import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { z } from "zod";
import { ConclaveError, ConfigError } from "../../errors.ts";
import type { ConclaveErrorOptions } from "../../errors.ts";
import type { Principal } from "./keys.ts";
import { quotaRefusal, rateLimitRefusal } from "./limits.ts";
import type { KeyLimits, LimitDecision } from "./limits.ts";

/**
 * Redis could not answer a limit check (down, unreachable, too slow). Requests are not let through
 * unlimited when this happens: the server answers 503 and the client retries later.
 */
export class LimitStoreUnavailableError extends ConclaveError {
  override name = "LimitStoreUnavailableError";
  readonly status = 503;
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("LIMIT_STORE_UNAVAILABLE", "system", message, options);
  }
}

export interface RedisApiKeyLimitsOptions {
  /** A client to share (the caller closes it), or a `redis://` / `rediss://` URL to connect to (`close()` closes it). */
  redis: Redis | string;
  /** Key prefix, so several services (or test runs) can share one Redis. Default "conclave:limits". */
  prefix?: string;
  /** Clock in ms. By default Redis's own clock (TIME), so servers with skewed clocks still agree. */
  now?: () => number;
  /** With a URL: how long to wait to connect and for each answer before giving up (ms). Default 2000. */
  timeoutMs?: number;
}

/*
 * GCRA (generic cell rate algorithm) rather than a sliding window over a sorted set: it keeps one
 * number per key (the "theoretical arrival time") instead of one set member per request, so memory
 * and work are O(1) however high the limit; and it behaves exactly like the in-process token bucket
 * of `ApiKeyLimits` (a burst of N, then one request every 60/N s), so moving a deployment from one
 * server to several does not change what clients see, Retry-After included.
 *
 * Quota is checked first and the rate slot is taken only when both pass, all in one script, so a
 * request refused by either limit consumes nothing from the other, and parallel requests on many
 * servers cannot slip past a limit between a read and a write.
 *
 * KEYS[1] rate key, KEYS[2] quota key.
 * ARGV[1] requests per minute (0: none), ARGV[2] quota (0: none), ARGV[3] now in ms ("": Redis TIME).
 * Returns {"ok", 0} | {"quota", 0} | {"rate-limit", wait ms}.
 */
const CHECK_SCRIPT = `
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local perMinute = tonumber(ARGV[1])
local quota = tonumber(ARGV[2])
if quota > 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= quota then return {'quota', 0} end
end
local newTat = nil
if perMinute > 0 then
  local interval = 60000 / perMinute
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat < now then tat = now end
  newTat = tat + interval
  if newTat - now > 60000 then return {'rate-limit', math.ceil(newTat - 60000 - now)} end
end
if newTat then redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil(newTat - now)) end
if quota > 0 then redis.call('INCR', KEYS[2]) end
return {'ok', 0}
`;
const CHECK_SHA = createHash("sha1").update(CHECK_SCRIPT).digest("hex");

// The script's reply crosses a process boundary: check its shape rather than trust it.
const Verdict = z.tuple([z.enum(["ok", "quota", "rate-limit"]), z.number()]);

/**
 * Per-API-key rate limits and quotas shared by every server that points at the same Redis: the
 * drop-in for `ApiKeyLimits` behind a load balancer. Rate limits are requests per minute (GCRA);
 * quotas are a request counter that never expires. Keys without limits never touch Redis.
 */
export class RedisApiKeyLimits implements KeyLimits {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly now: (() => number) | undefined;

  constructor(options: RedisApiKeyLimitsOptions) {
    this.prefix = options.prefix ?? "conclave:limits";
    this.now = options.now;
    if (typeof options.redis === "string") {
      this.redis = connect(options.redis, options.timeoutMs ?? 2_000);
      this.owned = true;
    } else {
      this.redis = options.redis;
      this.owned = false;
    }
  }

  /** Counts one request against the key's shared limits, or says why not and when to retry. */
  async check(principal: Principal): Promise<LimitDecision> {
    const perMinute = principal.rateLimit?.requestsPerMinute ?? 0;
    const quota = principal.quota?.requests ?? 0;
    if (perMinute <= 0 && quota <= 0) return { ok: true };
    // The hash tag keeps both keys of one API key in one slot, so the script also runs on Redis Cluster.
    const base = `${this.prefix}:{${principal.id}}`;
    const args = [2, `${base}:rate`, `${base}:quota`, perMinute, quota, this.now ? this.now() : ""] as const;
    const [verdict, waitMs] = Verdict.parse(await this.run(args));
    if (verdict === "quota") return quotaRefusal(principal);
    if (verdict === "rate-limit") return rateLimitRefusal(principal, waitMs);
    return { ok: true };
  }

  /** Closes the connection if this instance opened it; a client passed in stays open for its owner. */
  async close(): Promise<void> {
    if (!this.owned) return;
    // quit() waits for a reply a dead server never sends; disconnect() does not.
    if (this.redis.status === "ready") await this.redis.quit();
    else this.redis.disconnect();
  }

  private async run(args: readonly [number, string, string, number, number, number | ""]): Promise<unknown> {
    try {
      try {
        return await this.redis.evalsha(CHECK_SHA, ...args);
      } catch (error) {
        // First use on this Redis (or after SCRIPT FLUSH / a restart): send the script itself once.
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        return await this.redis.eval(CHECK_SCRIPT, ...args);
      }
    } catch (error) {
      const { host, port } = this.redis.options;
      const reason = error instanceof Error ? error.message : String(error);
      throw new LimitStoreUnavailableError(`Cannot check API key limits: Redis at ${host}:${port} did not answer (${reason}). Check that Redis is running and reachable from this server; requests are refused with 503 until it is.`, { cause: error, details: { host, port } });
    }
  }
}

/**
 * A connection meant for the request path: it fails fast (one retry, bounded connect and command
 * time) instead of queueing requests while Redis is away, and reconnects in the background.
 */
function connect(url: string, timeoutMs: number): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`The Redis URL for API key limits must start with redis:// or rediss://, got "${url.replace(/\/\/[^@/]*@/, "//***@")}". Example: redis://127.0.0.1:6379.`);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: timeoutMs, commandTimeout: timeoutMs });
  // Failures reach callers as LimitStoreUnavailableError; without a listener ioredis would also print each reconnect error.
  redis.on("error", () => {});
  return redis;
}
