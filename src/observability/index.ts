/** Observability built from run events: structured logs (pino), OpenTelemetry traces and Prometheus metrics. */
export { LOG_LEVELS, attachLogger, createLogger, levelOf, parseLogLevel } from "./logger.ts";
export type { LogLevel, LoggerOptions } from "./logger.ts";
export { attachTracing, createTracerProvider } from "./tracing.ts";
export type { ConclaveTracerProvider, TracerProviderOptions } from "./tracing.ts";
export { CONCLAVE, ERROR_TYPE, GEN_AI, GEN_AI_OPERATION } from "./attributes.ts";
export { RunMetrics } from "./metrics.ts";
