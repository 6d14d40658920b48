import { z } from "zod";
import { ApproveBodySchema, RejectBodySchema, RunBodySchema } from "./schemas.ts";

const json = (schema: z.ZodType) => ({ content: { "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) } } });
const ok = (description: string) => ({ description, content: { "application/json": { schema: { type: "object" } } } });
const error = { description: "An error: { error: { code, message } }", content: { "application/json": { schema: { type: "object", properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } }, required: ["code", "message"] } }, required: ["error"] } } } };
const idParameter = [{ name: "id", in: "path", required: true, schema: { type: "string" } }];

/** The service's OpenAPI 3.1 document; request bodies come from the same zod schemas that validate them. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "Conclave service", version, description: "Start runs of registered graphs, follow their events (SSE), decide their approvals." },
    paths: {
      "/runs": {
        post: { summary: "Start a run", requestBody: { required: true, ...json(RunBodySchema) }, responses: { "202": ok("The run, queued (or the existing one for a known idempotency key)"), "400": error } },
        get: { summary: "List runs, newest first", parameters: [{ name: "status", in: "query", schema: { type: "string" } }, { name: "limit", in: "query", schema: { type: "integer" } }], responses: { "200": ok("The runs") } },
      },
      "/runs/{id}": { get: { summary: "A run", parameters: idParameter, responses: { "200": ok("The run"), "404": error } } },
      "/runs/{id}/events": { get: { summary: "The run's events as Server-Sent Events (resume with Last-Event-ID)", parameters: [...idParameter, { name: "Last-Event-ID", in: "header", schema: { type: "string" } }], responses: { "200": { description: "text/event-stream: id = event id (a number in one process, a Redis stream id with --queue bullmq), event = type (runtime events and run-status), data = JSON", content: { "text/event-stream": { schema: { type: "string" } } } }, "404": error } } },
      "/runs/{id}/cancel": { post: { summary: "Cancel a queued, running or paused run", parameters: idParameter, responses: { "200": ok("The run"), "404": error, "409": error } } },
      "/runs/{id}/approve": { post: { summary: "Approve (or edit) pending approvals and continue", parameters: idParameter, requestBody: json(ApproveBodySchema), responses: { "202": ok("The run, queued again"), "400": error, "404": error, "409": error } } },
      "/runs/{id}/reject": { post: { summary: "Reject pending approvals and continue without them", parameters: idParameter, requestBody: { required: true, ...json(RejectBodySchema) }, responses: { "202": ok("The run, queued again"), "400": error, "404": error, "409": error } } },
      "/approvals": { get: { summary: "Pending approvals across runs", responses: { "200": ok("The approvals") } } },
      "/graphs": { get: { summary: "The registered graphs", responses: { "200": ok("The graphs") } } },
      "/health": { get: { summary: "Liveness", responses: { "200": ok("Alive") } } },
      "/ready": { get: { summary: "Readiness: checkpointer, Redis and PostgreSQL (with --queue bullmq), breakers, provider", responses: { "200": ok("Ready"), "503": ok("Not ready") } } },
      "/dead-letters": { get: { summary: "Failed runs in the BullMQ queue's failed set (--queue bullmq)", parameters: [{ name: "limit", in: "query", schema: { type: "integer" } }], responses: { "200": ok("The dead letters"), "404": error } } },
      "/dead-letters/{runId}/retry": { post: { summary: "Run a dead letter again, from its last checkpoint", parameters: [{ name: "runId", in: "path", required: true, schema: { type: "string" } }], responses: { "202": ok("The run, queued again"), "404": error, "409": error } } },
      "/webhooks/{source}": { post: { summary: "A signed inbound event (Standard Webhooks headers) that starts one run", parameters: [{ name: "source", in: "path", required: true, schema: { type: "string" } }], requestBody: { required: true, ...json(RunBodySchema) }, responses: { "202": ok("The run started (duplicate: true for a redelivery)"), "401": error, "409": error } } },
      "/metrics": { get: { summary: "Prometheus metrics of the runs on this server's event stream (all workers' with --queue bullmq)", responses: { "200": { description: "Prometheus text", content: { "text/plain": { schema: { type: "string" } } } } } } },
      "/openapi.json": { get: { summary: "This document", responses: { "200": ok("OpenAPI 3.1") } } },
    },
  };
}
