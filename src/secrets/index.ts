export { SecretsError, RedactionError } from "./errors.ts";
export { loadSecrets, parseSecretsFile, DEFAULT_SECRETS_FILE, SECRET_NAME, MIN_SECRET_LENGTH } from "./secrets.ts";
export type { LoadSecretsOptions, Secrets } from "./secrets.ts";
export { Redactor, REDACTED } from "./redact.ts";
export { redactingSerializer } from "./serde.ts";
