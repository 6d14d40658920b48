/** US dollars per million tokens, for input (prompt) and output (completion). */
export interface ModelPrice {
  input: number;
  output: number;
}

export interface PriceTable {
  models: Record<string, ModelPrice>;
  /** The price of a model the table does not know (it is also reported as a warning). */
  default: ModelPrice;
}

/**
 * List prices (USD per million tokens) of common models, as published by their providers.
 * Override or extend them in the `pricing` section of the config; they change over time.
 */
export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  "conclave-offline": { input: 0, output: 0 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "o3-mini": { input: 1.1, output: 4.4 },
  "o4-mini": { input: 1.1, output: 4.4 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
};

export const DEFAULT_PRICE_TABLE: PriceTable = { models: DEFAULT_PRICES, default: { input: 1, output: 3 } };

/**
 * The price of a model: an exact entry, else the longest entry its name starts with (so dated
 * snapshots such as "gpt-4o-mini-2024-07-18" find "gpt-4o-mini"), else the table's default.
 */
export function priceOf(model: string, table: PriceTable = DEFAULT_PRICE_TABLE): { price: ModelPrice; known: boolean } {
  const exact = table.models[model];
  if (exact) return { price: exact, known: true };
  const prefix = Object.keys(table.models)
    .filter((name) => model.startsWith(name))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? { price: table.models[prefix]!, known: true } : { price: table.default, known: false };
}

/** The cost in USD of a call's tokens. */
export function costOf(usage: { inputTokens: number; outputTokens: number }, price: ModelPrice): number {
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}

/** The built-in table with a configuration's `pricing` section laid over it. */
export function priceTableFrom(config: { models?: Record<string, ModelPrice>; default?: ModelPrice } | undefined): PriceTable {
  return { models: { ...DEFAULT_PRICES, ...config?.models }, default: config?.default ?? DEFAULT_PRICE_TABLE.default };
}
