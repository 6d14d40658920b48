import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { RedactionError } from "./errors.ts";
import type { Redactor } from "./redact.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * A LangGraph checkpoint serializer that masks secrets before anything is written: it serializes
 * with `inner`, and when the bytes are JSON text it redacts every string in them (values and keys)
 * and re-encodes. Binary output (`bytes`, or text that is not UTF-8) is written as it is. Loading
 * passes through, so a resumed run sees `[REDACTED]` where a secret was: secrets must reach tools
 * from the environment, never through graph state.
 *
 * Strings are redacted inside the parsed JSON rather than in the raw text, so a secret can never
 * break the JSON around it. A secret that remains outside any string (a numeric "secret" that
 * equals a number in the state) cannot be masked safely; saving then fails with a RedactionError
 * rather than writing it.
 */
export function redactingSerializer(inner: SerializerProtocol, redactor: Redactor): SerializerProtocol {
  return {
    async dumpsTyped(data: unknown): Promise<[string, Uint8Array]> {
      const [type, bytes] = await inner.dumpsTyped(data);
      if (type === "bytes") return [type, bytes];
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        return [type, bytes];
      }
      if (redactor.redact(text) === text) return [type, bytes];
      return [type, encoder.encode(redactJsonText(text, redactor))];
    },
    loadsTyped(type: string, data: Uint8Array | string): Promise<unknown> {
      return inner.loadsTyped(type, data);
    },
  };
}

function redactJsonText(text: string, redactor: Redactor): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: plain text, so masking the text itself cannot corrupt a structure.
    return redactor.redact(text);
  }
  const out = JSON.stringify(redactor.redactValue(parsed));
  if (redactor.redact(out) !== out) {
    throw new RedactionError("Checkpoint data holds a secret value outside any string (e.g. a number equal to a secret), which cannot be masked without corrupting the checkpoint. Keep secrets out of graph state, or remove that value from the secrets list.");
  }
  return out;
}
