import type { ServerResponse } from "node:http";

/** Dimensions of the fake server's embedding vectors. */
export const FAKE_EMBEDDING_DIMENSIONS = 256;

/**
 * A deterministic embedding for the fake server: lower-cased words hashed into signed buckets and
 * normalised, so texts that share words are close — enough to exercise retrieval over HTTP.
 */
export function fakeEmbedding(text: string, dimensions = FAKE_EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let hash = 2166136261;
    for (let index = 0; index < word.length; index++) hash = Math.imul(hash ^ word.charCodeAt(index), 16777619);
    vector[(hash >>> 0) % dimensions]! += hash < 0 ? -1 : 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

/** Answers `POST /v1/embeddings` the way the OpenAI API does, for a parsed request body. */
export function answerEmbeddings(body: { input?: unknown; model?: unknown; dimensions?: unknown; encoding_format?: unknown }, res: ServerResponse): void {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : FAKE_EMBEDDING_DIMENSIONS;
  // The openai SDK asks for base64 (little-endian float32) unless told otherwise, as the real API allows.
  const encode = (vector: number[]) => (body.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector);
  const data = inputs.map((input, index) => ({ object: "embedding", index, embedding: encode(fakeEmbedding(String(input ?? ""), dimensions)) }));
  const tokens = inputs.reduce<number>((sum, input) => sum + Math.ceil(String(input ?? "").length / 4), 0);
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ object: "list", data, model: String(body.model ?? "fake-embeddings"), usage: { prompt_tokens: tokens, total_tokens: tokens } }));
}
