import { z } from "zod";

/** The version of the JSON report; bumped whenever its shape changes, and checked on load. */
export const EVAL_REPORT_VERSION = 1;

const Usage = z.object({ modelCalls: z.number(), inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number(), costUsd: z.number() });
const ScoreValue = z.object({ score: z.number(), reason: z.string(), details: z.record(z.string(), z.unknown()).optional() });
const Summary = z.object({ n: z.number(), mean: z.number(), stderr: z.number(), ci: z.tuple([z.number(), z.number()]), min: z.number(), max: z.number() });

/** One epoch (attempt) of one sample. */
export const EpochResultSchema = z.object({
  epoch: z.number().int().min(1),
  /** The answer text (clipped to 2,000 characters). */
  output: z.string(),
  scores: z.record(z.string(), ScoreValue),
  usage: Usage,
  latencyMs: z.number(),
  /** The task failed (every scorer scored 0), or a scorer could not score. */
  error: z.string().optional(),
  /** The run id of the task's (first) run, to find its events and trace. */
  runId: z.string().optional(),
  /** Every run the attempt made (strategies such as majority vote make several). */
  runIds: z.array(z.string()).optional(),
});

export const SampleResultSchema = z.object({
  id: z.string(),
  /** The input as shown in reports (clipped). */
  input: z.string(),
  expected: z.unknown().optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  epochs: z.array(EpochResultSchema),
  /** Each scorer's score over the epochs, by the suite's reducer. */
  scores: z.record(z.string(), z.number()),
});

export const GateResultSchema = z.object({
  passed: z.boolean(),
  failures: z.array(z.object({ kind: z.enum(["threshold", "regression", "errors"]), scorer: z.string().optional(), message: z.string() })),
});

/** A whole eval run, as written to `report.json` and read by `conclave eval compare`. */
export const EvalReportSchema = z.object({
  version: z.literal(EVAL_REPORT_VERSION),
  suite: z.string(),
  description: z.string().optional(),
  createdAt: z.string(),
  durationMs: z.number(),
  model: z.object({ provider: z.string(), name: z.string(), offline: z.boolean() }),
  /** A label for this variant (e.g. "debate", "majority@6"), for comparisons. */
  variant: z.string().optional(),
  settings: z.object({ epochs: z.number().int(), reducer: z.string(), concurrency: z.number().int(), seed: z.number().int(), limit: z.number().int().optional(), replayed: z.boolean().optional() }),
  scorers: z.array(z.object({ name: z.string(), description: z.string().optional() })),
  samples: z.array(SampleResultSchema),
  /** Per scorer: mean with standard error and a bootstrap confidence interval over samples. */
  metrics: z.record(z.string(), Summary),
  /** Per metadata key, per value, per scorer. */
  groups: z.record(z.string(), z.record(z.string(), z.record(z.string(), Summary))),
  /** Per epoch, per scorer: the mean (epoch variance in reports). */
  epochMeans: z.record(z.string(), z.array(z.number())),
  usage: Usage.extend({ latencyMs: z.object({ mean: z.number(), p50: z.number(), p95: z.number() }), errors: z.number() }),
  thresholds: z.record(z.string(), z.number()),
  gate: GateResultSchema.optional(),
});

export type EvalReport = z.infer<typeof EvalReportSchema>;
export type SampleResult = z.infer<typeof SampleResultSchema>;
export type EpochResult = z.infer<typeof EpochResultSchema>;
export type MetricSummary = z.infer<typeof Summary>;
export type GateResult = z.infer<typeof GateResultSchema>;
